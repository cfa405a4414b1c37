package library

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
)

// The effects of a carried ballot. Governance calls these inside the
// transaction that closes the ballot, so the decision and its effect land
// together or not at all. Nothing else in Plenary endorses.

// CheckDemandEndorsable says whether a demand may be put to an endorsement
// ballot: it exists and is proposed or was rejected before.
func CheckDemandEndorsable(ctx context.Context, q sqlx.QueryerContext, id int64) error {
	d, err := getDemand(ctx, q, id)
	if err != nil {
		return err
	}
	if d.Status != DemandProposed && d.Status != DemandRejected {
		return ValidationError{"demand_id": fmt.Sprintf("Demand %d is %s: only a proposed or rejected demand can be put to an endorsement vote.", id, d.Status)}
	}
	return nil
}

// CheckResourceEndorsable: a listed resource that is not endorsed yet.
func CheckResourceEndorsable(ctx context.Context, q sqlx.QueryerContext, id int64) error {
	r, err := getResource(ctx, q, id)
	if err != nil || r.Status != StatusListed {
		return ValidationError{"resource_id": fmt.Sprintf("There is no listed resource number %d.", id)}
	}
	if r.Endorsed() {
		return ValidationError{"resource_id": fmt.Sprintf("Resource %d is already endorsed.", id)}
	}
	return nil
}

// CheckDemandEndorsed and CheckResourceEndorsed guard a withdrawal ballot.
func CheckDemandEndorsed(ctx context.Context, q sqlx.QueryerContext, id int64) error {
	d, err := getDemand(ctx, q, id)
	if err != nil || d.Status != DemandEndorsed {
		return ValidationError{"demand_id": fmt.Sprintf("Demand %d is not endorsed, so there is nothing to withdraw.", id)}
	}
	return nil
}

func CheckResourceEndorsed(ctx context.Context, q sqlx.QueryerContext, id int64) error {
	r, err := getResource(ctx, q, id)
	if err != nil || !r.Endorsed() {
		return ValidationError{"resource_id": fmt.Sprintf("Resource %d is not endorsed, so there is nothing to withdraw.", id)}
	}
	return nil
}

// EndorseDemand marks a demand endorsed by proposal with its tally (JSON).
func EndorseDemand(ctx context.Context, tx *sqlx.Tx, id, proposal int64, at time.Time, tally string) error {
	return exec1(ctx, tx, "endorse demand", `UPDATE demands SET status = 'endorsed', endorsed_at = ?, endorsed_by = ?, tally = ?, updated_at = ?
		WHERE id = ? AND status IN ('proposed', 'rejected')`, at, proposal, tally, at, id)
}

// RejectDemand records that a ballot defeated the demand's endorsement.
func RejectDemand(ctx context.Context, tx *sqlx.Tx, id int64, at time.Time) error {
	return exec1(ctx, tx, "reject demand", `UPDATE demands SET status = 'rejected', updated_at = ? WHERE id = ? AND status = 'proposed'`, at, id)
}

// WithdrawDemand ends a demand's endorsement: the co-op no longer makes it.
func WithdrawDemand(ctx context.Context, tx *sqlx.Tx, id int64, at time.Time) error {
	return exec1(ctx, tx, "withdraw demand", `UPDATE demands SET status = 'withdrawn', endorsed_at = NULL, endorsed_by = NULL, tally = NULL,
		updated_at = ? WHERE id = ? AND status = 'endorsed'`, at, id)
}

// EndorseResource marks a resource endorsed by proposal.
func EndorseResource(ctx context.Context, tx *sqlx.Tx, id, proposal int64, at time.Time) error {
	return exec1(ctx, tx, "endorse resource", `UPDATE resources SET endorsed_at = ?, endorsed_by = ?, updated_at = ?
		WHERE id = ? AND endorsed_at IS NULL AND status = 'listed'`, at, proposal, at, id)
}

// WithdrawResource ends a resource's endorsement.
func WithdrawResource(ctx context.Context, tx *sqlx.Tx, id int64, at time.Time) error {
	return exec1(ctx, tx, "withdraw resource", `UPDATE resources SET endorsed_at = NULL, endorsed_by = NULL, updated_at = ?
		WHERE id = ? AND endorsed_at IS NOT NULL`, at, id)
}

// AdoptDemand creates a demand that a ballot adopted, endorsed from birth.
func AdoptDemand(ctx context.Context, tx *sqlx.Tx, in DemandInput, author, proposal int64, at time.Time, tally string) (int64, error) {
	d, errs := in.demand()
	if err := errs.Err(); err != nil {
		return 0, err
	}
	id, err := db.InsertID(ctx, tx, `INSERT INTO demands (title, body, audience, status, added_by, created_at, updated_at, endorsed_at, endorsed_by, tally)
		VALUES (?, ?, ?, 'endorsed', ?, ?, ?, ?, ?, ?)`, d.Title, d.Body, d.Audience, author, at, at, at, proposal, tally)
	if err != nil {
		return 0, fmt.Errorf("library: adopt demand: %w", err)
	}
	return id, nil
}

// CheckDemandInput checks a new demand's text for an adopt proposal, and
// returns it as the library will keep it: the proposal stores that, so the
// text counted against the limits is the text adopted.
func CheckDemandInput(in DemandInput) (DemandInput, error) {
	in = in.normalised()
	_, errs := in.demand()
	return in, errs.Err()
}

// exec1 runs an update that must change exactly one row: an effect that
// finds nothing to change means the item moved on since the ballot opened,
// and the caller decides what that means.
func exec1(ctx context.Context, tx *sqlx.Tx, what, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("library: %s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("library: %s: %w", what, ErrNotFound)
	}
	return nil
}
