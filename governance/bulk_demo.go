package governance

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
)

// For the demo and benchmarks only: the bulk paths in this file exist for
// generated co-ops (internal/demo, behind `plenary demo` and the load
// program in bench/, and the benchmarks), which need a hundred thousand
// members and a million votes: one transaction per row would take hours.
// Each applies the checks of its one-at-a-time counterpart and writes the
// same rows and ledger entries; only the batching differs. They are not
// for real members, and no production path (a request handler, the other
// commands) may call them: AdmitMany gives everyone one password and skips
// the application, and VoteMany's receipts go to nobody.

// Newcomer is a person AdmitMany admits (demo and benchmarks only).
type Newcomer struct {
	Name, Email string
}

// AdmitBatch is how many members AdmitMany writes per transaction (demo
// and benchmarks only).
const AdmitBatch = 2000

// AdmitMany, for the demo and benchmarks only, makes people active members,
// admitted by admin, as if each had applied and admin had approved them at
// once: their names, emails and the password pass the checks an
// application makes, each gets the row Approve leaves, and the ledger a
// member.admitted entry by admin, in member order. Everyone gets the same
// password, hashed once: generated co-ops only.
//
// Everything is checked before anything is written; then AdmitBatch members
// go in per transaction, and progress (if not nil) is told the number
// written after each commit. A failure part-way (an email already taken)
// leaves the earlier batches in place. It returns the new member numbers.
func (s *Service) AdmitMany(ctx context.Context, admin Member, password string, people []Newcomer, progress func(done int)) ([]int64, error) {
	details := make([]Details, len(people))
	for i, p := range people {
		details[i] = Details{Name: p.Name, Email: p.Email, Password: password}.normalised()
		if v := details[i].validate(false); len(v) > 0 {
			return nil, fmt.Errorf("governance: admit %q (%d of %d): %w", p.Email, i+1, len(people), v)
		}
	}
	hash, err := s.hash.Hash(password)
	if err != nil {
		return nil, fmt.Errorf("governance: hash password: %w", err)
	}
	ids := make([]int64, 0, len(people))
	for start := 0; start < len(details); start += AdmitBatch {
		batch := details[start:min(start+AdmitBatch, len(details))]
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			if err := requireAdmin(ctx, tx, admin.ID); err != nil {
				return err
			}
			insert, err := tx.PreparexContext(ctx, `INSERT INTO members (name, email, password_hash, statement, role, status, applied_at, joined_at)
				VALUES (?, ?, ?, '', 'member', 'active', ?, ?) RETURNING id`)
			if err != nil {
				return fmt.Errorf("governance: admit: %w", err)
			}
			defer insert.Close()
			now := s.now()
			for _, d := range batch {
				var id int64
				err := insert.QueryRowxContext(ctx, d.Name, d.Email, hash, now, now).Scan(&id)
				if isUniqueEmail(err) {
					return ValidationError{"email": fmt.Sprintf("There is already an account with the email %s.", d.Email)}
				}
				if err != nil {
					return fmt.Errorf("governance: admit: %w", err)
				}
				if err := appendEntry(ctx, tx, now, ledger.Admitted{Member: id, By: admin.ID}); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			return ids[:start], err
		}
		if progress != nil {
			progress(len(ids))
		}
	}
	return ids, nil
}

// CastVote is one member's vote for VoteMany (demo and benchmarks only).
type CastVote struct {
	Member int64
	Choice string
}

// VoteMany, for the demo and benchmarks only, casts many first votes in one
// ballot, in one transaction. Each
// is checked as Vote checks it: the ballot is open, the choice is one of
// Choices, the member is on the roll and has not voted (ErrAlreadyVoted,
// also for a member listed twice). Each voter is marked on the roll as
// Vote marks them; an open ballot stores the choice with the member, a
// secret one puts it in the box under a random id with a fresh receipt's
// hash. The receipts are given to nobody, so these votes cannot be
// changed. If any vote fails, none is cast.
//
// Voters are marked in member order and a secret box filled in the order
// of its random ids, so not even the file's pages pair a voter with a
// choice.
func (s *Service) VoteMany(ctx context.Context, proposalID int64, votes []CastVote) error {
	for _, v := range votes {
		if err := check.Struct(ballotPaper{Choice: v.Choice}).Err(); err != nil {
			return err
		}
	}
	votes = slices.Clone(votes)
	slices.SortStableFunc(votes, func(a, b CastVote) int { return cmp.Compare(a.Member, b.Member) })
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		p, err := getProposal(ctx, tx, proposalID)
		if err != nil {
			return err
		}
		if p.Status != ProposalVoting || !s.now().Before(p.ClosesAt) {
			return ErrBallotClosed
		}
		query := `INSERT INTO votes (proposal_id, member_id, choice) VALUES (?, ?, ?)`
		if *p.Secret {
			query = `INSERT INTO ballot_box (proposal_id, receipt_hash, choice) VALUES (?, ?, ?)`
		}
		cast, err := tx.PreparexContext(ctx, query)
		if err != nil {
			return fmt.Errorf("governance: cast vote: %w", err)
		}
		defer cast.Close()
		for _, v := range votes {
			if err := markVoted(ctx, tx, p.ID, v.Member); err != nil {
				return fmt.Errorf("governance: vote of member %d: %w", v.Member, err)
			}
			if !*p.Secret {
				if _, err := cast.ExecContext(ctx, p.ID, v.Member, v.Choice); err != nil {
					return fmt.Errorf("governance: cast vote: %w", err)
				}
			}
		}
		if !*p.Secret {
			return nil
		}
		type slip struct{ receiptHash, choice string }
		box := make([]slip, len(votes))
		for i, v := range votes {
			box[i] = slip{ReceiptHash(newReceipt()), v.Choice}
		}
		slices.SortFunc(box, func(a, b slip) int { return strings.Compare(a.receiptHash, b.receiptHash) })
		for _, b := range box {
			if _, err := cast.ExecContext(ctx, p.ID, b.receiptHash, b.choice); err != nil {
				return fmt.Errorf("governance: cast secret vote: %w", err)
			}
		}
		return nil
	})
}
