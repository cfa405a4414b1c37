package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Each member may have a private calendar feed of the ballots they are on
// the roll for, at a secret address. Only the token's hash is kept, as for
// every link Plenary hands out, so the address is shown once, when it is
// made; a new one replaces the old, which then finds nothing.

// CalendarWindow is how long a closed ballot stays in a feed, so that a
// calendar does not lose a vote the day it closes.
const CalendarWindow = 30 * 24 * time.Hour

// NewCalendarToken makes member id a new calendar address and returns its
// token; the one before, if any, stops working.
func (s *Service) NewCalendarToken(ctx context.Context, id int64) (string, error) {
	token := newToken()
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		m, err := getMember(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if !canLogIn(m) {
			return ErrForbidden
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO calendar_tokens (member_id, token_hash, created_at) VALUES (?, ?, ?)
			ON CONFLICT (member_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at`,
			id, tokenHash(token), s.now())
		if err != nil {
			return fmt.Errorf("governance: new calendar token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// CalendarTokenMade says when member id's calendar address was made, or
// nil when they have none.
func (s *Service) CalendarTokenMade(ctx context.Context, id int64) (*time.Time, error) {
	var at time.Time
	err := s.db.R.GetContext(ctx, &at, `SELECT created_at FROM calendar_tokens WHERE member_id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("governance: calendar token: %w", err)
	}
	return &at, nil
}

// Calendar is what a member's calendar address gives: the member and the
// ballots they are on the roll for that are open, or closed within
// CalendarWindow, soonest close first. An unknown or replaced token, or a
// member who may no longer log in, is ErrNotFound.
func (s *Service) Calendar(ctx context.Context, token string) (Member, []Proposal, error) {
	if err := s.Advance(ctx); err != nil {
		return Member{}, nil, err
	}
	m, err := getMember(ctx, s.db.R, `WHERE id = (SELECT member_id FROM calendar_tokens WHERE token_hash = ?)`, tokenHash(token))
	if err != nil {
		return Member{}, nil, err
	}
	if !canLogIn(m) {
		return Member{}, nil, ErrNotFound
	}
	// Driven from the proposals by status (an index), each checked against
	// the roll by its key: a member's rolls are never scanned.
	var ps []Proposal
	err = s.db.R.SelectContext(ctx, &ps, `SELECT `+proposalColumns+` FROM proposals p
		WHERE (p.status = 'voting' OR (p.status = 'closed' AND p.closes_at > ?))
		  AND EXISTS (SELECT 1 FROM roll r WHERE r.proposal_id = p.id AND r.member_id = ?)
		ORDER BY p.closes_at, p.id LIMIT 500`, s.now().Add(-CalendarWindow), m.ID)
	if err != nil {
		return Member{}, nil, fmt.Errorf("governance: calendar: %w", err)
	}
	return m, ps, nil
}
