package governance

import (
	"context"
	"errors"

	"github.com/jmoiron/sqlx"
)

// Who may do what to a proposal, said once. A proposal's page asks the
// Can methods which forms to draw; AddComment, Withdraw and Cancel ask the
// refusals behind them again inside their transaction, against the member
// and proposal as stored then, and return the reason to the caller.

// CanComment says whether m may join p's discussion: an active member,
// while the proposal is in discussion or voting. m is nil for the public.
func (p Proposal) CanComment(m *Member) bool { return m != nil && p.commentRefusal(*m) == nil }

// CanWithdraw says whether m may withdraw p: its author, before voting opens.
func (p Proposal) CanWithdraw(m *Member) bool { return m != nil && p.withdrawRefusal(*m) == nil }

// CanCancel says whether m may cancel p: an admin, before voting opens.
func (p Proposal) CanCancel(m *Member) bool { return m != nil && p.cancelRefusal(*m) == nil }

func (p Proposal) commentRefusal(m Member) error {
	if !m.IsActive() {
		return ErrForbidden
	}
	if p.Status != ProposalDiscussion && p.Status != ProposalVoting {
		return ValidationError{"body": "Discussion has ended: this proposal is " + p.Status + "."}
	}
	return nil
}

func (p Proposal) withdrawRefusal(m Member) error {
	if p.AuthorID != m.ID {
		return ErrForbidden
	}
	return p.endEarlyRefusal()
}

func (p Proposal) cancelRefusal(m Member) error {
	if !m.IsAdmin() {
		return ErrForbidden
	}
	return p.endEarlyRefusal()
}

func (p Proposal) endEarlyRefusal() error {
	if p.Status != ProposalDiscussion {
		return ValidationError{"": "Only a proposal still in discussion can be withdrawn or cancelled: voting has opened."}
	}
	return nil
}

// memberNow reads the member with id again inside tx, so a rule is
// checked against their role and status as they stand at this moment, not
// as the caller last saw them. A member who does not exist may do nothing.
func memberNow(ctx context.Context, tx *sqlx.Tx, id int64) (Member, error) {
	m, err := getMember(ctx, tx, `WHERE id = ?`, id)
	if errors.Is(err, ErrNotFound) {
		return Member{}, ErrForbidden
	}
	return m, err
}
