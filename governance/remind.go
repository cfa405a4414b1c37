package governance

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/outbox"
)

// DefaultReminderHours is how long before a ballot closes its reminder
// goes when the kind's rule says nothing else.
const DefaultReminderHours = 24

// remind queues the closing-soon reminder of each ballot in voting whose
// time for it has come: its kind's reminder hours before it closes. It
// goes to the members on the roll who have not voted (the roll's voted
// flag: a choice is never looked at) and are still members. A ballot
// shorter than the hours gets none, and so does a kind whose hours are 0.
//
// Each ballot is reminded once however many processes race: the
// reminders row is inserted in the transaction that queues the messages,
// and its key admits one.
func (s *Service) remind(ctx context.Context) error {
	if s.Silent {
		return nil
	}
	now := s.now()
	var open []struct {
		ID       int64     `db:"id"`
		OpenedAt time.Time `db:"opened_at"`
		ClosesAt time.Time `db:"closes_at"`
		Hours    int       `db:"hours"`
	}
	err := s.db.R.SelectContext(ctx, &open, `SELECT p.id, p.opened_at, p.closes_at, coalesce(r.hours, ?) AS hours
		FROM proposals p LEFT JOIN reminder_rules r ON r.kind = p.kind
		WHERE p.status = 'voting' AND p.closes_at > ? AND NOT EXISTS (SELECT 1 FROM reminders WHERE proposal_id = p.id)
		ORDER BY p.id`, DefaultReminderHours, now)
	if err != nil {
		return fmt.Errorf("governance: find due reminders: %w", err)
	}
	for _, b := range open {
		before := time.Duration(b.Hours) * time.Hour
		if b.Hours == 0 || b.ClosesAt.Sub(b.OpenedAt) <= before || now.Before(b.ClosesAt.Add(-before)) {
			continue
		}
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			p, err := getProposal(ctx, tx, b.ID)
			if err != nil {
				return err
			}
			if p.Status != ProposalVoting || !now.Before(p.ClosesAt) {
				return nil
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO reminders (proposal_id) VALUES (?) ON CONFLICT DO NOTHING`, p.ID)
			if err != nil {
				return fmt.Errorf("governance: record reminder: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // another process has just done it
			}
			return s.queueFor(ctx, tx, outbox.ClosingSoon, strconv.FormatInt(p.ID, 10), ballotPayload(p),
				onRollStill+` AND r.voted = 0`, p.ID)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
