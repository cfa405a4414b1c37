package governance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
)

// Comment is a member's contribution to a proposal's discussion.
type Comment struct {
	ID         int64     `db:"id"`
	ProposalID int64     `db:"proposal_id"`
	MemberID   int64     `db:"member_id"`
	Name       string    `db:"name"`
	Body       string    `db:"body"`
	CreatedAt  time.Time `db:"created_at"`
}

// Comments lists a proposal's comments, oldest first. Names of erased
// members are not shown.
func (s *Service) Comments(ctx context.Context, proposal int64) ([]Comment, error) {
	var cs []Comment
	err := s.db.R.SelectContext(ctx, &cs, `SELECT c.id, c.proposal_id, c.member_id,
		CASE WHEN m.erased_at IS NULL THEN m.name ELSE 'Member ' || m.id || ' (erased)' END AS name, c.body, c.created_at
		FROM comments c JOIN members m ON m.id = c.member_id WHERE c.proposal_id = ? ORDER BY c.id`, proposal)
	if err != nil {
		return nil, fmt.Errorf("governance: comments: %w", err)
	}
	return cs, nil
}

// AddComment adds an active member's comment, until the ballot closes.
func (s *Service) AddComment(ctx context.Context, m Member, proposal int64, body string) error {
	body, err := checkComment(body)
	if err != nil {
		return err
	}
	if err := s.Advance(ctx); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		author, err := memberNow(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		p, err := getProposal(ctx, tx, proposal)
		if err != nil {
			return err
		}
		if err := p.commentRefusal(author); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO comments (proposal_id, member_id, body, created_at) VALUES (?, ?, ?, ?)`, proposal, m.ID, body, s.now())
		if err != nil {
			return fmt.Errorf("governance: add comment: %w", err)
		}
		return nil
	})
}

// commentInput is a comment as a member's form gives it. The tags check it
// trimmed, with LF line ends.
type commentInput struct {
	Body string `form:"body" validate:"required,utf8,nocontrol,max=5000"`
}

var commentMessages = map[string]string{
	"body.required":  "Write something first.",
	"body.utf8":      "The comment contains invalid characters.",
	"body.nocontrol": "The comment contains invalid characters.",
	"body.max":       fmt.Sprintf("Keep comments under %d characters.", MaxCommentLen),
}

// Messages words what the tags refuse.
func (commentInput) Messages() map[string]string { return commentMessages }

// checkComment returns a comment's text as it is kept.
func checkComment(body string) (string, error) {
	in := commentInput{Body: strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))}
	return in.Body, check.Struct(in).Err()
}
