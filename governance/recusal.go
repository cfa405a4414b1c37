package governance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
)

// Recusal: a member on a ballot's roll with a conflict of interest stands
// aside before voting. They are left out of turnout, quorum and
// threshold (the quorum is a share of the roll less those who stood
// aside), cannot vote afterwards (the roll refuses it: trigger
// roll_recused), and their number and reason are on the ledger and the
// result page.

// RecusalInput is a recusal as the member's form gives it.
type RecusalInput struct {
	Reason string `form:"reason" validate:"required,utf8,nocontrol,max=500"`
}

var recusalMessages = map[string]string{
	"reason.required":  "Say what your conflict of interest is: members will see it.",
	"reason.max":       "Keep the reason to 500 characters.",
	"reason.utf8":      "Write the reason as plain text.",
	"reason.nocontrol": "Write the reason as plain text.",
}

// Messages words what the tags refuse.
func (RecusalInput) Messages() map[string]string { return recusalMessages }

// Recusal is a published declaration.
type Recusal struct {
	MemberID int64  `db:"member_id"`
	Name     string `db:"name"`
	Reason   string `db:"reason"`
}

// Recuse records that m stands aside in an open ballot. A ballot that
// closes early closes if m was the last on its roll who had not voted.
func (s *Service) Recuse(ctx context.Context, m Member, proposalID int64, in RecusalInput) error {
	// A browser sends a textarea's line breaks as CRLF.
	in.Reason = strings.TrimSpace(strings.ReplaceAll(in.Reason, "\r\n", "\n"))
	if err := check.Struct(in).Err(); err != nil {
		return err
	}
	if err := s.Advance(ctx); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		p, err := getProposal(ctx, tx, proposalID)
		if err != nil {
			return err
		}
		now := s.now()
		if p.Status != ProposalVoting || !now.Before(p.ClosesAt) {
			return ErrBallotClosed
		}
		var state struct {
			Voted   *bool `db:"voted"`
			Recused bool  `db:"recused"`
		}
		if err := tx.GetContext(ctx, &state, `SELECT (SELECT voted FROM roll WHERE proposal_id = ? AND member_id = ?) AS voted,
			EXISTS (SELECT 1 FROM recusals WHERE proposal_id = ? AND member_id = ?) AS recused`, p.ID, m.ID, p.ID, m.ID); err != nil {
			return fmt.Errorf("governance: read roll: %w", err)
		}
		switch {
		case state.Voted == nil:
			return ErrNotOnRoll
		case state.Recused:
			return ValidationError{"reason": "You have already stood aside in this ballot."}
		case *state.Voted:
			return ValidationError{"reason": "You have voted in this ballot already (or your proxy has): a vote once cast cannot be withdrawn to stand aside."}
		}
		// The database refuses it too (recusals_before_voting).
		if _, err := tx.ExecContext(ctx, `INSERT INTO recusals (proposal_id, member_id, reason) VALUES (?, ?, ?)`, p.ID, m.ID, in.Reason); err != nil {
			return fmt.Errorf("governance: recuse: %w", err)
		}
		if err := appendEntry(ctx, tx, now, ledger.Recused{Proposal: p.ID, Member: m.ID, Reason: in.Reason}); err != nil {
			return err
		}
		return s.closeIfAllVoted(ctx, tx, p, now)
	})
	if err != nil {
		return err
	}
	// The recusal may have closed a secret ballot: rewrite its box now.
	return s.rewriteBoxes(ctx)
}

// Recusals lists those who stood aside in a ballot, by member number.
func (s *Service) Recusals(ctx context.Context, proposalID int64) ([]Recusal, error) {
	var out []Recusal
	if err := s.db.R.SelectContext(ctx, &out, `SELECT c.member_id, m.name, c.reason FROM recusals c JOIN members m ON m.id = c.member_id
		WHERE c.proposal_id = ? ORDER BY c.member_id`, proposalID); err != nil {
		return nil, fmt.Errorf("governance: recusals: %w", err)
	}
	return out, nil
}

// closeIfAllVoted closes p, in tx, if its rules close it early and
// everyone on its roll has voted or stood aside. The close is the same
// conditional update as any other, so however many callers race (the
// vote writer after a batch, a recusal, Advance) it happens once.
func (s *Service) closeIfAllVoted(ctx context.Context, tx *sqlx.Tx, p Proposal, now time.Time) error {
	if p.Status != ProposalVoting || p.EarlyClose == nil || !*p.EarlyClose {
		return nil
	}
	var outstanding int
	if err := tx.GetContext(ctx, &outstanding, `SELECT count(*) FROM roll r WHERE r.proposal_id = ? AND r.voted = 0
		AND NOT EXISTS (SELECT 1 FROM recusals c WHERE c.proposal_id = r.proposal_id AND c.member_id = r.member_id)`, p.ID); err != nil {
		return fmt.Errorf("governance: count outstanding votes: %w", err)
	}
	if outstanding > 0 {
		return nil
	}
	return s.closeBallot(ctx, tx, p, now, closing{early: true})
}

// closeEarly runs closeIfAllVoted in a transaction of its own for each of
// ids: the vote writer calls it after a batch that voted in a ballot
// which closes early.
func (s *Service) closeEarly(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			p, err := getProposal(ctx, tx, id)
			if err != nil {
				return err
			}
			return s.closeIfAllVoted(ctx, tx, p, s.now())
		})
		if err != nil {
			return err
		}
	}
	return s.rewriteBoxes(ctx)
}

// quorumCountAt is p's roll as its quorum sees it now: how many stood
// aside and, at a meeting whose quorum is counted on attendance, how many
// of the rest are present or represented by a present proxy.
func quorumCountAt(ctx context.Context, q sqlx.QueryerContext, p Proposal) (QuorumCount, error) {
	c := QuorumCount{RollSize: *p.RollSize}
	if err := sqlx.GetContext(ctx, q, &c.Recused, `SELECT count(*) FROM recusals WHERE proposal_id = ?`, p.ID); err != nil {
		return c, fmt.Errorf("governance: count recusals: %w", err)
	}
	if p.QuorumOn == nil || *p.QuorumOn != QuorumOnPresent {
		return c, nil
	}
	var present int
	err := sqlx.GetContext(ctx, q, &present, `SELECT count(*) FROM roll r JOIN meeting_items i ON i.proposal_id = r.proposal_id
		WHERE r.proposal_id = ?
		AND NOT EXISTS (SELECT 1 FROM recusals c WHERE c.proposal_id = r.proposal_id AND c.member_id = r.member_id)
		AND (EXISTS (SELECT 1 FROM attendance a WHERE a.meeting_id = i.meeting_id AND a.member_id = r.member_id)
			OR EXISTS (SELECT 1 FROM roll_proxies x JOIN attendance a ON a.meeting_id = i.meeting_id AND a.member_id = x.holder_id
				WHERE x.proposal_id = r.proposal_id AND x.principal_id = r.member_id))`, p.ID)
	if err != nil {
		return c, fmt.Errorf("governance: count those present: %w", err)
	}
	c.Present = &present
	return c, nil
}
