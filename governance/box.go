package governance

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// BoxEntry is one published line of a closed ballot: for a secret ballot
// the receipt hash and the choice; for an open one the member number and
// the choice. A choice's ballot is its canonical JSON, a ranking most
// preferred first or the positions approved ("[3,0,2]", "[]" when blank).
type BoxEntry struct {
	Key    string `db:"key" json:"key"`
	Choice string `db:"choice" json:"choice"`
}

// box reads a ballot's published lines: receipt hashes and choices for a
// secret ballot, member numbers and choices for an open one.
func box(ctx context.Context, q sqlx.QueryerContext, p Proposal) ([]BoxEntry, error) {
	var entries []BoxEntry
	t := p.tables()
	query := `SELECT receipt_hash AS key, ` + t.column + ` AS choice FROM ` + t.box + ` WHERE proposal_id = ? ORDER BY receipt_hash`
	if p.Secret != nil && !*p.Secret {
		query = `SELECT CAST(member_id AS TEXT) AS key, ` + t.column + ` AS choice FROM ` + t.open + ` WHERE proposal_id = ? ORDER BY member_id`
	}
	if err := sqlx.SelectContext(ctx, q, &entries, query, p.ID); err != nil {
		return nil, fmt.Errorf("governance: read ballot box: %w", err)
	}
	return entries, nil
}

// tables names where p's ballots are kept.
func (p Proposal) tables() ballotTables {
	if p.IsChoice() {
		return choiceTables
	}
	return yesNoTables
}

// Box is a closed ballot's published box: receipt hashes and choices for a
// secret ballot, the roll-call of member numbers and choices for an open one.
func (s *Service) Box(ctx context.Context, p Proposal) ([]BoxEntry, error) {
	if !p.Closed() {
		return nil, ErrBallotClosed
	}
	return box(ctx, s.db.R, p)
}

// BoxPerPage is how many lines of a published box a page shows.
const BoxPerPage = 200

// BoxPage returns one page of a closed ballot's published box, in key
// order, and how many lines the box has: a big co-op's box has a line per
// voter, too many for one page.
func (s *Service) BoxPage(ctx context.Context, p Proposal, page int) ([]BoxEntry, int, error) {
	if !p.Closed() {
		return nil, 0, ErrBallotClosed
	}
	t := p.tables()
	table, key := t.box, "receipt_hash"
	if p.Secret != nil && !*p.Secret {
		table, key = t.open, "member_id"
	}
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT count(*) FROM `+table+` WHERE proposal_id = ?`, p.ID); err != nil {
		return nil, 0, fmt.Errorf("governance: count ballot box: %w", err)
	}
	var entries []BoxEntry
	err := s.db.R.SelectContext(ctx, &entries, `SELECT CAST(`+key+` AS TEXT) AS key, `+t.column+` AS choice FROM `+table+
		` WHERE proposal_id = ? ORDER BY `+key+` LIMIT ? OFFSET ?`, p.ID, BoxPerPage, (min(max(page, 1), 1_000_000)-1)*BoxPerPage)
	if err != nil {
		return nil, 0, fmt.Errorf("governance: read ballot box: %w", err)
	}
	return entries, total, nil
}

// FindReceipt looks a receipt up in a closed secret ballot's box and
// returns the choice counted for it and the box page it is on, or "" and 0
// if no ballot has that receipt.
func (s *Service) FindReceipt(ctx context.Context, p Proposal, receipt string) (string, int, error) {
	if !p.Closed() {
		return "", 0, ErrBallotClosed
	}
	if len(receipt) > MaxReceiptLen {
		return "", 0, nil
	}
	hash := ReceiptHash(receipt)
	var found []struct {
		Choice string `db:"choice"`
		Before int    `db:"before"`
	}
	t := p.tables()
	err := s.db.R.SelectContext(ctx, &found, `SELECT `+t.column+` AS choice,
		(SELECT count(*) FROM `+t.box+` b WHERE b.proposal_id = ? AND b.receipt_hash < ?) AS before
		FROM `+t.box+` WHERE proposal_id = ? AND receipt_hash = ?`, p.ID, hash, p.ID, hash)
	if err != nil {
		return "", 0, fmt.Errorf("governance: find receipt: %w", err)
	}
	if len(found) == 0 {
		return "", 0, nil
	}
	return found[0].Choice, found[0].Before/BoxPerPage + 1, nil
}
