package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
)

// Limit allows at most Max events within Window; a zero Max allows any
// number.
type Limit struct {
	Max    int
	Window time.Duration
}

// Actions the rate limits count, as stored in rate_events.
const (
	limitJoin         = "join"          // applications made, per client address
	limitInvitation   = "invitation"    // wrong invitation links tried, per address
	limitResetAddress = "reset-address" // password-reset requests, per address
	limitResetEmail   = "reset-email"   // password-reset requests, per email as typed
)

// LimitError refuses a request over a rate limit. It is an ErrThrottled, and
// says when the next request will be taken.
type LimitError struct {
	RetryAt time.Time
}

func (e *LimitError) Error() string {
	return "governance: too many requests; retry at " + e.RetryAt.Format(time.RFC3339)
}

// Is makes a LimitError match ErrThrottled.
func (e *LimitError) Is(target error) bool { return target == ErrThrottled }

// checkLimit returns a *LimitError if key has used up l for action by now:
// the error names the moment the oldest counted event leaves the window.
// It only reads, so a refused request writes nothing.
func (s *Service) checkLimit(ctx context.Context, q sqlx.QueryerContext, l Limit, action, key string, now time.Time) error {
	if l.Max <= 0 {
		return nil
	}
	// The Max-th newest event in the window: while it is inside, Max events
	// are, and the limit holds until it leaves.
	var at time.Time
	err := sqlx.GetContext(ctx, q, &at, `SELECT at FROM rate_events WHERE action = ? AND key = ? AND at > ?
		ORDER BY at DESC LIMIT 1 OFFSET ?`, action, key, now.Add(-l.Window), l.Max-1)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("governance: check rate limit: %w", err)
	}
	return &LimitError{RetryAt: at.Add(l.Window).UTC()}
}

// countEvent records one event for action and key inside tx, pruning the
// events of action that no limit looks at any more.
func countEvent(ctx context.Context, tx *sqlx.Tx, l Limit, action, key string, now time.Time) error {
	_, err := countEventID(ctx, tx, l, action, key, now)
	return err
}

// countEventID is countEvent, returning the event's id (0 when l counts
// nothing) for a caller that may take it back.
func countEventID(ctx context.Context, tx *sqlx.Tx, l Limit, action, key string, now time.Time) (int64, error) {
	if l.Max <= 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM rate_events WHERE action = ? AND at <= ?`, action, now.Add(-l.Window)); err != nil {
		return 0, fmt.Errorf("governance: prune rate events: %w", err)
	}
	id, err := db.InsertID(ctx, tx, `INSERT INTO rate_events (action, key, at) VALUES (?, ?, ?)`, action, clip(key, 300), now)
	if err != nil {
		return 0, fmt.Errorf("governance: count rate event: %w", err)
	}
	return id, nil
}

// clip cuts s to at most n bytes; the keys are addresses and checked emails,
// so this only guards the column's CHECK.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
