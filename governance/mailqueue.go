package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/outbox"
)

// The outbox as admins see it: what has been sent, what waits, and what
// failed, with a way to send a failed message again. What the sender did
// with each message is its business (internal/notify); here are only the
// reading of the queue and the rule of who may put what back into it.

// Statuses of a queued message, as the notifications table has them.
const (
	MailQueued  = "queued"  // waiting to be sent (again, after a temporary failure)
	MailDigest  = "digest"  // held for the member's daily digest
	MailSent    = "sent"    // handed to the SMTP server
	MailFailed  = "failed"  // refused for good, or given up on
	MailDropped = "dropped" // not to be sent: the member chose never, was erased, or a newer link replaced it
)

// MailStatuses lists every status in the order the admin page counts them.
var MailStatuses = []string{MailQueued, MailDigest, MailSent, MailFailed, MailDropped}

// MailKinds lists every kind of message, in the order the admin page
// offers them.
var MailKinds = []string{outbox.VotingOpened, outbox.ClosingSoon, outbox.Result, outbox.Application,
	outbox.Decision, outbox.PasswordReset, outbox.Invitation, outbox.Digest}

// MailPerPage is the admin list's page size.
const MailPerPage = 50

// Mail is one message of the outbox with its recipient: a member (MemberID,
// with their name as it is now) or, for an invitation, a bare address.
type Mail struct {
	ID            int64      `db:"id"`
	Kind          string     `db:"kind"`
	Event         string     `db:"event"`
	MemberID      *int64     `db:"member_id"`
	MemberName    *string    `db:"member_name"`
	MemberErased  *time.Time `db:"member_erased_at"`
	Address       *string    `db:"address"`
	Status        string     `db:"status"`
	Attempts      int        `db:"attempts"`
	LastError     string     `db:"last_error"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	SentAt        *time.Time `db:"sent_at"`
	CreatedAt     time.Time  `db:"created_at"`
	// DigestID is the digest a message held for one went out in.
	DigestID *int64 `db:"digest_id"`
}

// Recipient is the member's name (a stand-in once erased), or the address
// of an invitation.
func (m Mail) Recipient() string {
	switch {
	case m.MemberID == nil:
		return deref(m.Address)
	case m.MemberErased != nil:
		return fmt.Sprintf("Member %d (erased)", *m.MemberID)
	}
	return deref(m.MemberName)
}

// Resendable says whether ResendMail may put the message back in the
// queue, as far as the message alone tells: it failed, on its own rather
// than inside a digest.
func (m Mail) Resendable() bool { return m.Status == MailFailed && m.DigestID == nil }

// MailFilter picks messages for the admin list: "" for any.
type MailFilter struct {
	Status string
	Kind   string
}

// MailList is a page of the outbox, newest first, with how many messages
// match the filter (Total) and how many the whole outbox holds in each
// status (Counts).
type MailList struct {
	Mail   []Mail
	Total  int
	Counts map[string]int
}

// MailQueue reads a page of the outbox for an admin. A status or kind that
// is none of MailStatuses or MailKinds is ignored, as a stale link's would
// be.
func (s *Service) MailQueue(ctx context.Context, actor Member, f MailFilter, page int) (MailList, error) {
	// One read transaction: the counts and the page as of one commit.
	tx, err := s.db.R.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return MailList{}, fmt.Errorf("governance: begin read: %w", err)
	}
	defer tx.Rollback()
	if err := requireAdmin(ctx, tx, actor.ID); err != nil {
		return MailList{}, err
	}
	out := MailList{Counts: map[string]int{}}
	var counts []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := tx.SelectContext(ctx, &counts, `SELECT status, count(*) AS n FROM notifications GROUP BY status`); err != nil {
		return MailList{}, fmt.Errorf("governance: count the outbox: %w", err)
	}
	for _, c := range counts {
		out.Counts[c.Status] = c.N
	}
	cond, args := "true", []any{}
	if slices.Contains(MailStatuses, f.Status) {
		cond += " AND n.status = ?"
		args = append(args, f.Status)
	}
	if slices.Contains(MailKinds, f.Kind) {
		cond += " AND n.kind = ?"
		args = append(args, f.Kind)
	}
	if err := tx.GetContext(ctx, &out.Total, `SELECT count(*) FROM notifications n WHERE `+cond, args...); err != nil {
		return MailList{}, fmt.Errorf("governance: count the outbox: %w", err)
	}
	page = max(page, 1)
	// Newest first by id: ids only grow, and the primary key orders them
	// without a sort.
	if err := tx.SelectContext(ctx, &out.Mail, `SELECT n.id, n.kind, n.event, n.member_id, m.name AS member_name,
			m.erased_at AS member_erased_at, n.address, n.status, n.attempts, n.last_error, n.next_attempt_at, n.sent_at,
			n.created_at, n.digest_id
		FROM notifications n LEFT JOIN members m ON m.id = n.member_id
		WHERE `+cond+` ORDER BY n.id DESC LIMIT ? OFFSET ?`, append(args, MailPerPage, (page-1)*MailPerPage)...); err != nil {
		return MailList{}, fmt.Errorf("governance: list the outbox: %w", err)
	}
	return out, nil
}

// ResendMail puts failed message id back in the queue, to be sent at once
// with its attempts counted afresh. Only a failed message may be: one
// queued or held is on its way, one sent has gone (and a link's token has
// left the queue with it), and one dropped was not meant to go. A message
// that failed inside a digest goes again with its digest; a message whose
// member has since been erased has no address, and one whose link no
// longer works would be no use to its reader.
//
// The resend is not written to the ledger: it decides nothing about
// membership or governance, only retries a delivery, and no ledger event
// describes it.
func (s *Service) ResendMail(ctx context.Context, actor Member, id int64) error {
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		var m struct {
			Mail
			Payload     string  `db:"payload"`
			MemberEmail *string `db:"member_email"`
		}
		err := tx.GetContext(ctx, &m, `SELECT n.id, n.kind, n.event, n.member_id, m.name AS member_name,
				m.erased_at AS member_erased_at, m.email AS member_email, n.address, n.status, n.attempts, n.last_error,
				n.next_attempt_at, n.sent_at, n.created_at, n.digest_id, n.payload
			FROM notifications n LEFT JOIN members m ON m.id = n.member_id WHERE n.id = ?`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("governance: read message %d: %w", id, err)
		}
		msg, err := s.cannotResend(ctx, tx, m.Mail, m.Payload, m.MemberEmail)
		if err != nil {
			return err
		}
		if msg != "" {
			return ValidationError{"": msg}
		}
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET status = 'queued', next_attempt_at = ?, attempts = 0, last_error = ''
			WHERE id = ? AND status = 'failed'`, s.now(), id)
		if err != nil {
			return fmt.Errorf("governance: resend message %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ValidationError{"": "This message is no longer one that failed. Nothing was changed."}
		}
		if m.Kind == outbox.Digest {
			// Its messages go with it again, and are marked sent or
			// failed with it (internal/notify).
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET status = 'digest', last_error = ''
				WHERE digest_id = ? AND status = 'failed'`, id); err != nil {
				return fmt.Errorf("governance: resend digest %d: %w", id, err)
			}
		}
		return nil
	})
}

// mailStatusNames say a status in words, for refusals.
var mailStatusNames = map[string]string{
	MailQueued:  "is already queued to be sent",
	MailDigest:  "is waiting for the member's daily digest",
	MailSent:    "has been sent",
	MailDropped: "was dropped, not meant to be sent",
}

// linkStateNames say in words what became of a link that no longer works.
var linkStateNames = map[string]string{"used": "has been used", "revoked": "has been revoked or replaced", "expired": "has expired"}

// cannotResend says why message m may not be sent again, or "" if it may.
// payload is what the message is to say, email its member's address.
func (s *Service) cannotResend(ctx context.Context, tx *sqlx.Tx, m Mail, payload string, email *string) (string, error) {
	switch {
	case m.Status != MailFailed:
		return fmt.Sprintf("Only a message that failed can be sent again: message %d %s.", m.ID, mailStatusNames[m.Status]), nil
	case m.DigestID != nil:
		return fmt.Sprintf("Message %d went in daily digest %d: send the digest again instead.", m.ID, *m.DigestID), nil
	case m.MemberID != nil && (m.MemberErased != nil || deref(email) == ""):
		return fmt.Sprintf("Message %d cannot be sent again: its member's data has been erased, so there is no address to send it to.", m.ID), nil
	case payload == "{}" && m.Kind != outbox.Digest:
		// forgetMember empties what a message said of an erased member.
		return fmt.Sprintf("Message %d cannot be sent again: what it said was erased with the member it was about.", m.ID), nil
	case m.Kind != outbox.PasswordReset && m.Kind != outbox.Invitation:
		return "", nil
	}
	// A failed link's email keeps its token (only a sent one loses it,
	// internal/notify), but the link itself may have been used, revoked,
	// replaced or have expired since.
	var l outbox.Link
	if json.Unmarshal([]byte(payload), &l) != nil || l.Token == "" {
		return fmt.Sprintf("Message %d cannot be sent again: its link is no longer kept. Issue a new one.", m.ID), nil
	}
	table, what := "password_resets", "password-reset link"
	if m.Kind == outbox.Invitation {
		table, what = "invitations", "invitation"
	}
	var link struct {
		Used    *time.Time `db:"used_at"`
		Revoked *time.Time `db:"revoked_at"`
		Expires time.Time  `db:"expires_at"`
	}
	linkID, err := strconv.ParseInt(m.Event, 10, 64)
	if err == nil {
		err = tx.GetContext(ctx, &link, `SELECT used_at, revoked_at, expires_at FROM `+table+` WHERE id = ?`, linkID)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows), errors.Is(err, strconv.ErrSyntax), errors.Is(err, strconv.ErrRange):
		return fmt.Sprintf("Message %d cannot be sent again: its %s is no longer on record. Issue a new one.", m.ID, what), nil
	case err != nil:
		return "", fmt.Errorf("governance: read the link of message %d: %w", m.ID, err)
	}
	if state := linkState(link.Used, link.Revoked, link.Expires, s.now()); state != "open" {
		return fmt.Sprintf("Message %d cannot be sent again: its %s %s. Issue a new one.", m.ID, what, linkStateNames[state]), nil
	}
	return "", nil
}
