package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"plenary/internal/content"
)

// Endorsement is the check of one endorsed resource or demand: the digest
// last recorded on the ledger for it, the digest kept beside it, and the
// digest of its content as it reads now. All three agree unless someone
// changed the database behind Plenary's back.
type Endorsement struct {
	What      string // "resource" or "demand"
	ID        int64
	LedgerSeq int64  // the ledger entry that recorded Ledger; 0 if none
	Ledger    string // "" if the ledger records none
	Proposal  string // the proposal whose effect that entry records: the endorsement, or the last amendment
	Kept      string // endorsed_digest
	Current   string // the digest of the content now
}

// OK says whether the content is what the ledger says was endorsed.
func (e Endorsement) OK() bool {
	return e.Ledger != "" && e.Ledger == e.Kept && e.Kept == e.Current
}

// Problem says in words what does not match; "" when OK.
func (e Endorsement) Problem() string {
	switch {
	case e.Ledger == "":
		return fmt.Sprintf("%s %d is endorsed, but the ledger records no digest of its content", e.What, e.ID)
	case e.Current != e.Ledger:
		return fmt.Sprintf("%s %d's content does not match the digest on the ledger (entry %d): it was changed outside a ballot", e.What, e.ID, e.LedgerSeq)
	case e.Kept != e.Ledger:
		return fmt.Sprintf("%s %d's recorded digest does not match the ledger (entry %d)", e.What, e.ID, e.LedgerSeq)
	}
	return ""
}

// ErrNotEndorsed: the item asked about is not endorsed.
var ErrNotEndorsed = errors.New("governance: not endorsed")

// CheckEndorsement checks one endorsed resource or demand (what is
// "resource" or "demand"). It returns ErrNotFound for no such item and
// ErrNotEndorsed for one not endorsed.
func (s *Service) CheckEndorsement(ctx context.Context, what string, id int64) (Endorsement, error) {
	// One read transaction: the item, its digest and the ledger as of one
	// commit, never half an amendment.
	tx, err := s.db.R.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Endorsement{}, fmt.Errorf("governance: begin read: %w", err)
	}
	defer tx.Rollback()
	return s.checkEndorsement(ctx, tx, what, id)
}

func (s *Service) checkEndorsement(ctx context.Context, tx *sqlx.Tx, what string, id int64) (Endorsement, error) {
	e := Endorsement{What: what, ID: id}
	var kept *string
	var err error
	switch what {
	case "resource":
		err = tx.GetContext(ctx, &kept, `SELECT endorsed_digest FROM resources WHERE id = ?`, id)
	case "demand":
		err = tx.GetContext(ctx, &kept, `SELECT endorsed_digest FROM demands WHERE id = ?`, id)
	default:
		return e, ErrNotFound
	}
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("governance: read %s %d: %w", what, id, err)
	}
	if kept == nil {
		return e, ErrNotEndorsed
	}
	e.Kept = *kept
	if what == "resource" {
		c, err := content.ReadResource(ctx, tx, id)
		if err != nil {
			return e, err
		}
		e.Current = c.Digest()
	} else {
		c, err := content.ReadDemand(ctx, tx, id)
		if err != nil {
			return e, err
		}
		e.Current = c.Digest()
	}
	// The ledger's digest entries are indexed (schema.sql and PostgreSQL's
	// step 4, ledger_digests): the query's expressions are the index's,
	// JSONField's, so the item's number is given as JSONField reads one.
	field := func(key string) string { return s.db.JSONField("body", key) }
	arg := s.db.JSONFieldNumber(id)
	q := `SELECT seq, ` + field("digest") + ` AS digest, coalesce(` + field("proposal") + `, '') AS proposal FROM ledger
		WHERE ` + field("digest") + ` IS NOT NULL AND ` + field("resource") + ` = ?
		ORDER BY seq DESC LIMIT 1`
	if what == "demand" {
		q = `SELECT seq, ` + field("digest") + ` AS digest, coalesce(` + field("proposal") + `, '') AS proposal FROM ledger
		WHERE ` + field("digest") + ` IS NOT NULL AND ` + field("resource") + ` IS NULL
		AND ` + field("demand") + ` = ? ORDER BY seq DESC LIMIT 1`
	}
	var last struct {
		Seq      int64  `db:"seq"`
		Digest   string `db:"digest"`
		Proposal string `db:"proposal"`
	}
	switch err := tx.GetContext(ctx, &last, q, arg); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return e, fmt.Errorf("governance: ledger digest of %s %d: %w", what, id, err)
	default:
		e.LedgerSeq, e.Ledger, e.Proposal = last.Seq, last.Digest, last.Proposal
	}
	return e, nil
}

// CheckEndorsements checks every endorsed resource and demand, resources
// first, each in id order. A permit to change endorsed content left in the
// applying table (only ever there inside a ballot's close) is an error.
func (s *Service) CheckEndorsements(ctx context.Context) ([]Endorsement, error) {
	var permits int
	if err := s.db.R.GetContext(ctx, &permits, `SELECT count(*) FROM applying`); err != nil {
		return nil, fmt.Errorf("governance: read applying: %w", err)
	}
	if permits > 0 {
		return nil, fmt.Errorf("the applying table holds %d permits to change endorsed content outside a ballot's close: someone wrote to the database behind Plenary's back", permits)
	}
	var out []Endorsement
	for _, it := range []struct{ what, query string }{
		{"resource", `SELECT id FROM resources WHERE endorsed_at IS NOT NULL OR endorsed_digest IS NOT NULL ORDER BY id`},
		{"demand", `SELECT id FROM demands WHERE status = 'endorsed' OR endorsed_digest IS NOT NULL ORDER BY id`},
	} {
		var ids []int64
		if err := s.db.R.SelectContext(ctx, &ids, it.query); err != nil {
			return nil, fmt.Errorf("governance: endorsed %ss: %w", it.what, err)
		}
		for _, id := range ids {
			e, err := s.CheckEndorsement(ctx, it.what, id)
			if errors.Is(err, ErrNotEndorsed) {
				// Marked endorsed without a digest: the schema's CHECK
				// forbids it, so only a hand-edited file gets here.
				out = append(out, e)
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}
