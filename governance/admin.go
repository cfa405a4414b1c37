package governance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
)

// Membership decisions an admin takes. Each checks that the actor is an
// active admin and that the member is in a state the decision applies to,
// changes the member and writes the ledger in one transaction.

// Approve admits an applicant.
func (s *Service) Approve(ctx context.Context, actor Member, id int64) error {
	return s.decide(ctx, actor, id, EventAdmitted, []string{StatusApplicant}, "This person is not waiting for approval.",
		`UPDATE members SET status = 'active', status_reason = '', joined_at = ? WHERE id = ?`, s.now(), id)
}

// queueAbout changes the outbox as a decision about member id calls for,
// in the decision's transaction: an applicant is told whether they were
// admitted (with the reason they were not), and an erased member's data
// leaves the queue.
func (s *Service) queueAbout(ctx context.Context, tx *sqlx.Tx, event string, id int64, reason string) error {
	switch event {
	case EventAdmitted:
		return s.queueDecision(ctx, tx, id, true, "")
	case EventRejected:
		return s.queueDecision(ctx, tx, id, false, reason)
	case EventErased:
		return forgetMember(ctx, tx, id)
	}
	return nil
}

// Reject turns down an application; the reason is shown to the applicant
// when they next log in, and is not put on the public ledger.
func (s *Service) Reject(ctx context.Context, actor Member, id int64, reason string) error {
	reason, err := checkReason(reason, true)
	if err != nil {
		return err
	}
	return s.decide(ctx, actor, id, EventRejected, []string{StatusApplicant}, "This person is not waiting for approval.",
		`UPDATE members SET status = 'rejected', status_reason = ?, session_version = session_version + 1 WHERE id = ?`, reason, id)
}

// Suspend stops a member taking part and logs them out everywhere at once.
func (s *Service) Suspend(ctx context.Context, actor Member, id int64, reason string) error {
	reason, err := checkReason(reason, false)
	if err != nil {
		return err
	}
	return s.decide(ctx, actor, id, EventSuspended, []string{StatusActive}, "Only an active member can be suspended.",
		`UPDATE members SET status = 'suspended', status_reason = ?, session_version = session_version + 1 WHERE id = ?`, reason, id)
}

// Reinstate lifts a suspension.
func (s *Service) Reinstate(ctx context.Context, actor Member, id int64) error {
	return s.decide(ctx, actor, id, EventReinstated, []string{StatusSuspended}, "Only a suspended member can be reinstated.",
		`UPDATE members SET status = 'active', status_reason = '' WHERE id = ?`, id)
}

// SetRole makes an active member an admin, or an admin a member again.
func (s *Service) SetRole(ctx context.Context, actor Member, id int64, role string) error {
	if err := check.Struct(roleChoice{role}).Err(); err != nil {
		return err
	}
	return s.decide(ctx, actor, id, EventRoleChanged, []string{StatusActive}, "Only an active member's role can change.",
		`UPDATE members SET role = ? WHERE id = ? AND role <> ?`, role, id, role)
}

// MarkLeft records that a member has left the co-op.
func (s *Service) MarkLeft(ctx context.Context, actor Member, id int64) error {
	return s.decide(ctx, actor, id, EventLeft, []string{StatusActive, StatusSuspended}, "Only a current member can leave.",
		`UPDATE members SET status = 'left', left_at = ?, session_version = session_version + 1 WHERE id = ?`, s.now(), id)
}

// erasure is an admin's erasure form: its one box must be ticked.
type erasure struct {
	Confirm bool `form:"confirm" validate:"required"`
}

var erasureMessages = map[string]string{"confirm.required": "Tick the box to confirm: erasure cannot be undone."}

// Messages words what the tag refuses.
func (erasure) Messages() map[string]string { return erasureMessages }

// Erase wipes a person's personal data on their request. The member number,
// status and dates stay, so the ledger and past decisions still add up.
// A current member or applicant is marked as left or rejected as well.
func (s *Service) Erase(ctx context.Context, actor Member, id int64, confirmed bool) error {
	if err := check.Struct(erasure{confirmed}).Err(); err != nil {
		return err
	}
	return s.decide(ctx, actor, id, EventErased, Statuses, "",
		`UPDATE members SET name = '', email = NULL, password_hash = NULL, statement = '', status_reason = '', time_zone = NULL,
			status = CASE status WHEN 'applicant' THEN 'rejected' WHEN 'active' THEN 'left' WHEN 'suspended' THEN 'left' ELSE status END,
			left_at = CASE WHEN status IN ('active', 'suspended') THEN ? ELSE left_at END,
			erased_at = ?, session_version = session_version + 1
		 WHERE id = ? AND erased_at IS NULL`, s.now(), s.now(), id)
}

// roleChoice is a role as an admin's form or the command line names it.
type roleChoice struct {
	Role string `form:"role" validate:"oneof=member admin"`
}

var roleMessages = map[string]string{"role.oneof": "Choose member or admin."}

// Messages words what the tag refuses.
func (roleChoice) Messages() map[string]string { return roleMessages }

// reasonInput is the reason an admin gives for a decision, for the person
// it is about (or, cancelling a proposal, for every member) to read. The
// tags check it trimmed.
type reasonInput struct {
	Reason string `form:"reason" validate:"utf8,max=500"`
}

var reasonMessages = map[string]string{
	"reason.utf8": "The reason contains invalid characters.",
	"reason.max":  fmt.Sprintf("Keep the reason under %d characters.", MaxReasonLen),
}

// Messages words what the tags refuse.
func (reasonInput) Messages() map[string]string { return reasonMessages }

// checkReason returns the reason as it is kept. Whether one is needed
// depends on the decision, so required says, rather than a tag.
func checkReason(reason string, required bool) (string, error) {
	in := reasonInput{Reason: strings.TrimSpace(reason)}
	if required && in.Reason == "" {
		return "", ValidationError{"reason": "Give a reason: the applicant will see it."}
	}
	if err := check.Struct(in).Err(); err != nil {
		return "", err
	}
	return in.Reason, nil
}

// decide runs one membership decision: the actor must be an active admin
// (checked against the database, not the caller's copy), the member must be
// in one of the from statuses, and the update must change a row.
func (s *Service) decide(ctx context.Context, actor Member, id int64, event string, from []string, wrongState, query string, args ...any) error {
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		m, err := getMember(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if m.ErasedAt != nil {
			return ValidationError{"": "This member's data has been erased; nothing more can change."}
		}
		if !slices.Contains(from, m.Status) {
			return ValidationError{"": wrongState}
		}
		res, err := tx.ExecContext(ctx, query, args...)
		if isLastAdmin(err) {
			return ErrLastAdmin
		}
		if err != nil {
			return fmt.Errorf("governance: %s: %w", event, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ValidationError{"": "Nothing to change."}
		}
		var reason string
		if event == EventRejected {
			reason, _ = args[0].(string) // Reject's first argument
		}
		if err := s.queueAbout(ctx, tx, event, id, reason); err != nil {
			return err
		}
		var body ledger.Event = ledger.MemberDecision{Event: event, Member: id, By: actor.ID}
		if event == EventRoleChanged {
			body = ledger.RoleChanged{Member: id, By: actor.ID, Role: args[0].(string)}
		}
		return appendEntry(ctx, tx, s.now(), body)
	})
	return err
}

func requireAdmin(ctx context.Context, tx sqlx.QueryerContext, id int64) error {
	m, err := getMember(ctx, tx, `WHERE id = ?`, id)
	if err != nil || !m.IsAdmin() {
		return ErrForbidden
	}
	return nil
}

// Waiting is what needs an admin: applications to decide and ballots
// closing before until (the end of the admin's day).
type Waiting struct {
	Applications int `db:"applications"`
	ClosingToday int `db:"closing"`
}

// WaitingFor counts what needs an admin now.
func (s *Service) WaitingFor(ctx context.Context, until time.Time) (Waiting, error) {
	var w Waiting
	err := s.db.R.GetContext(ctx, &w, `SELECT (SELECT count(*) FROM members WHERE status = ?) AS applications,
		(SELECT count(*) FROM proposals WHERE status = 'voting' AND closes_at < ?) AS closing`, StatusApplicant, until)
	if err != nil {
		return w, fmt.Errorf("governance: what waits: %w", err)
	}
	return w, nil
}
