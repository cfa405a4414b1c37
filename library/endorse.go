package library

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/content"
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

// EndorseDemand marks a demand endorsed by proposal with its tally (JSON),
// and returns the digest of the content endorsed, kept beside it.
func EndorseDemand(ctx context.Context, tx *sqlx.Tx, id, proposal int64, at time.Time, tally string) (string, error) {
	c, err := content.ReadDemand(ctx, tx, id)
	if err != nil {
		return "", notFound(err)
	}
	digest := c.Digest()
	return digest, exec1(ctx, tx, "endorse demand", `UPDATE demands SET status = 'endorsed', endorsed_at = ?, endorsed_by = ?, tally = ?,
		endorsed_digest = ?, updated_at = ? WHERE id = ? AND status IN ('proposed', 'rejected')`, at, proposal, tally, digest, at, id)
}

// RejectDemand records that a ballot defeated the demand's endorsement.
func RejectDemand(ctx context.Context, tx *sqlx.Tx, id int64, at time.Time) error {
	return exec1(ctx, tx, "reject demand", `UPDATE demands SET status = 'rejected', updated_at = ? WHERE id = ? AND status = 'proposed'`, at, id)
}

// WithdrawDemand ends a demand's endorsement, as the carried proposal
// decided: the co-op no longer makes it, and it is no longer frozen.
func WithdrawDemand(ctx context.Context, tx *sqlx.Tx, id, proposal int64, at time.Time) error {
	return applying(ctx, tx, proposal, func() error {
		return exec1(ctx, tx, "withdraw demand", `UPDATE demands SET status = 'withdrawn', endorsed_at = NULL, endorsed_by = NULL,
			tally = NULL, endorsed_digest = NULL, updated_at = ? WHERE id = ? AND status = 'endorsed'`, at, id)
	})
}

// EndorseResource marks a resource endorsed by proposal, and returns the
// digest of the content endorsed, kept beside it.
func EndorseResource(ctx context.Context, tx *sqlx.Tx, id, proposal int64, at time.Time) (string, error) {
	c, err := content.ReadResource(ctx, tx, id)
	if err != nil {
		return "", notFound(err)
	}
	digest := c.Digest()
	return digest, exec1(ctx, tx, "endorse resource", `UPDATE resources SET endorsed_at = ?, endorsed_by = ?, endorsed_digest = ?,
		updated_at = ? WHERE id = ? AND endorsed_at IS NULL AND status = 'listed'`, at, proposal, digest, at, id)
}

// WithdrawResource ends a resource's endorsement, as the carried proposal
// decided; it is no longer frozen.
func WithdrawResource(ctx context.Context, tx *sqlx.Tx, id, proposal int64, at time.Time) error {
	return applying(ctx, tx, proposal, func() error {
		return exec1(ctx, tx, "withdraw resource", `UPDATE resources SET endorsed_at = NULL, endorsed_by = NULL, endorsed_digest = NULL,
			updated_at = ? WHERE id = ? AND endorsed_at IS NOT NULL`, at, id)
	})
}

// AdoptDemand creates a demand that a ballot adopted, endorsed from birth,
// and returns its id and the digest of its content.
func AdoptDemand(ctx context.Context, tx *sqlx.Tx, in DemandInput, author, proposal int64, at time.Time, tally string) (int64, string, error) {
	d, errs := in.demand()
	if err := errs.Err(); err != nil {
		return 0, "", err
	}
	digest := content.Demand{Title: d.Title, Body: d.Body, Audience: d.Audience}.Digest()
	id, err := db.InsertID(ctx, tx, `INSERT INTO demands (title, body, audience, status, added_by, created_at, updated_at, endorsed_at,
		endorsed_by, tally, endorsed_digest) VALUES (?, ?, ?, 'endorsed', ?, ?, ?, ?, ?, ?, ?)`,
		d.Title, d.Body, d.Audience, author, at, at, at, proposal, tally, digest)
	if err != nil {
		return 0, "", fmt.Errorf("library: adopt demand: %w", err)
	}
	return id, digest, err
}

// applying runs change with the carried proposal's permit to change an
// endorsed item (the applying table, schema.sql): granted inside the
// closing transaction and taken back before it commits, whether or not
// change did anything (the close may go on after an effect with nothing to
// do, and must not commit the permit with it).
func applying(ctx context.Context, tx *sqlx.Tx, proposal int64, change func() error) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO applying (proposal_id) VALUES (?)`, proposal); err != nil {
		return fmt.Errorf("library: apply proposal %d: %w", proposal, err)
	}
	err := change()
	if _, derr := tx.ExecContext(ctx, `DELETE FROM applying WHERE proposal_id = ?`, proposal); derr != nil {
		return errors.Join(err, fmt.Errorf("library: applied proposal %d: %w", proposal, derr))
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, content.ErrNotFound) {
		return ErrNotFound
	}
	return err
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
