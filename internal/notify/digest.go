package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/outbox"
)

// gatherDigests makes the digests that are due: for each member with
// messages held for their digest whose hour it now is (in their zone), one
// digest message (kind digest, its event the member's local date, so at
// most one a day) takes every message held, and is queued to go at once.
// Messages held after a day's digest has gone wait for the next day's.
func (s *Sender) gatherDigests(ctx context.Context, now time.Time) error {
	var waiting []struct {
		Member   int64   `db:"member_id"`
		Hour     int     `db:"hour"`
		OwnZone  *string `db:"own_zone"`
		CoopZone *string `db:"coop_zone"`
	}
	// Held messages are few beside the rest: the partial index
	// notifications_digest holds only them. The hour is the member's
	// local hour, in their zone, so a digest keeps its hour when the
	// clocks change.
	if err := s.db.R.SelectContext(ctx, &waiting, `SELECT n.member_id, min(coalesce(p.digest_hour, ?)) AS hour,
			`+zones+`
		FROM notifications n LEFT JOIN notification_prefs p ON p.member_id = n.member_id AND p.kind = n.kind
		LEFT JOIN members m ON m.id = n.member_id
		WHERE n.status = 'digest' AND n.digest_id IS NULL
		GROUP BY n.member_id, m.time_zone`, outbox.DefaultDigestHour); err != nil {
		return fmt.Errorf("notify: find digests: %w", err)
	}
	domain := s.base.Hostname()
	for _, w := range waiting {
		z := zone(w.OwnZone, w.CoopZone)
		if localHour(now, z) != w.Hour {
			continue
		}
		day := now.In(location(z)).Format("2006-01-02")
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			var id int64
			err := tx.GetContext(ctx, &id, `INSERT INTO notifications (kind, event, member_id, payload, status, next_attempt_at, message_id, created_at)
				VALUES (?, ?, ?, '{}', 'queued', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
				outbox.Digest, day, w.Member, now, outbox.MessageID(outbox.Digest, day, w.Member, domain), now)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // today's has gone: tomorrow's takes these
			}
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE notifications SET digest_id = ?
				WHERE member_id = ? AND status = 'digest' AND digest_id IS NULL`, id, w.Member)
			return err
		})
		if err != nil {
			return fmt.Errorf("notify: gather the digest of member %d: %w", w.Member, err)
		}
	}
	return nil
}

// digestLines are the messages digest it holds, oldest first, each by its
// subject and link.
func (s *Sender) digestLines(ctx context.Context, it item) ([]digestLine, error) {
	var held []item
	if err := s.db.R.SelectContext(ctx, &held, `SELECT id, kind, event, member_id, payload, message_id, created_at
		FROM notifications WHERE digest_id = ? ORDER BY id`, it.ID); err != nil {
		return nil, fmt.Errorf("read digest %d: %w", it.ID, err)
	}
	if len(held) == 0 {
		return nil, fmt.Errorf("digest %d holds no message", it.ID)
	}
	lines := make([]digestLine, 0, len(held))
	for _, h := range held {
		h.Name, h.Zone = it.Name, it.Zone
		v, err := s.view(h)
		if err != nil {
			return nil, err
		}
		subject, err := s.pages.subject(h.Kind, v)
		if err != nil {
			return nil, err
		}
		lines = append(lines, digestLine{Subject: subject, Link: v.Link})
	}
	return lines, nil
}
