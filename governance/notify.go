package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/outbox"
)

// What members must be told is queued here, in the transaction of the
// event that calls for it: if the event rolls back, so does the message,
// and once it commits nothing due can be lost. internal/notify delivers
// the queue. Each message is one row of notifications, unique by (kind,
// event, member), with a Message-ID made from the same three.
//
// Members' choices are read as a message is queued: a kind they chose
// never for is not queued at all, and one they get in a digest is held
// for it. Messages about their own account (a reset link, the decision on
// their application, an invitation) ignore the choices.

// messageIDPrefix is the Message-ID's text up to the recipient's number:
// MessageID(kind, event, 7, domain) is prefix + "7" + suffix.
func (s *Service) messageIDParts(kind, event string) (prefix, suffix string) {
	return "<" + kind + "." + event + ".", "@" + s.MailDomain + ">"
}

// queueFor queues one message of kind about event to each member the
// select picks (a statement giving member ids as member_id, its
// arguments after it), with payload, in one INSERT … SELECT: opening a
// ballot of 100,000 queues 100,000 rows in one statement. Choosable kinds
// follow each member's choice; account messages do not.
func (s *Service) queueFor(ctx context.Context, tx *sqlx.Tx, kind, event string, payload any, members string, args ...any) error {
	if s.Silent {
		return nil
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("governance: queue %s: %w", kind, err)
	}
	now := s.now()
	prefix, suffix := s.messageIDParts(kind, event)
	// SQLite reads "ON CONFLICT" after a SELECT without WHERE as a join's
	// ON: the WHERE is always there.
	status, where := `'queued'`, ` WHERE true`
	if outbox.IsChoosable(kind) {
		status = `CASE WHEN p.mode = 'digest' THEN 'digest' ELSE 'queued' END`
		where = ` WHERE p.mode IS NULL OR p.mode <> 'never'`
	}
	q := `INSERT INTO notifications (kind, event, member_id, payload, status, next_attempt_at, message_id, created_at)
		SELECT CAST(? AS TEXT), CAST(? AS TEXT), t.member_id, CAST(? AS TEXT), ` + status + `, ?,
			CAST(? AS TEXT) || t.member_id || CAST(? AS TEXT), ?
		FROM (` + members + `) t
		LEFT JOIN notification_prefs p ON p.member_id = t.member_id AND p.kind = CAST(? AS TEXT)` + where + `
		ON CONFLICT DO NOTHING`
	all := append([]any{kind, event, string(body), now, prefix, suffix, now}, args...)
	all = append(all, kind)
	if _, err := tx.ExecContext(ctx, q, all...); err != nil {
		return fmt.Errorf("governance: queue %s: %w", kind, err)
	}
	return nil
}

// queueMember queues one message to member id.
func (s *Service) queueMember(ctx context.Context, tx *sqlx.Tx, kind, event string, id int64, payload any) error {
	return s.queueFor(ctx, tx, kind, event, payload, `SELECT CAST(? AS BIGINT) AS member_id`, id)
}

// QueueInvitation queues the email of an invitation (invitationID, whose
// link's token is token) to address, for a person called name. It runs in
// the transaction that makes the invitation, so that if the invitation
// rolls back no email goes. The token stays in the queue only until the
// email is sent.
func (s *Service) QueueInvitation(ctx context.Context, tx *sqlx.Tx, invitationID int64, address, name, token string, expiresAt time.Time) error {
	return s.queueLinks(ctx, tx, outbox.Invitation, []linkMail{{Event: invitationID, Address: address,
		Link: outbox.Link{Token: token, ExpiresAt: expiresAt.UTC(), Name: name}}})
}

// linkMail is one email carrying a link: to an address (an invitation,
// Member 0) or to a member (a link to set a password). Event is the
// invitation's or the reset link's number.
type linkMail struct {
	Event   int64
	Member  int64
	Address string
	Link    outbox.Link
}

// linkChunk is how many emails one INSERT queues (eight values each,
// well under SQLite's limit of 32,766).
const linkChunk = 500

// queueLinks queues the emails of kind in mails, a few hundred rows to an
// INSERT: 10,000 invitations made in bulk are queued in a few statements,
// in the transaction that makes them.
func (s *Service) queueLinks(ctx context.Context, tx *sqlx.Tx, kind string, mails []linkMail) error {
	if s.Silent {
		return nil
	}
	now := s.now()
	for start := 0; start < len(mails); start += linkChunk {
		chunk := mails[start:min(start+linkChunk, len(mails))]
		var q strings.Builder
		q.WriteString(`INSERT INTO notifications (kind, event, member_id, address, payload, status, next_attempt_at, message_id, created_at) VALUES `)
		args := make([]any, 0, 8*len(chunk))
		for i, m := range chunk {
			body, err := json.Marshal(m.Link)
			if err != nil {
				return fmt.Errorf("governance: queue %s: %w", kind, err)
			}
			event := strconv.FormatInt(m.Event, 10)
			var member *int64
			var address *string
			if m.Member != 0 {
				member = &m.Member
			} else {
				address = &m.Address
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, 'queued', ?, ?, ?)")
			args = append(args, kind, event, member, address, string(body), now,
				outbox.MessageID(kind, event, m.Member, s.MailDomain), now)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("governance: queue %s: %w", kind, err)
		}
	}
	return nil
}

// ballotPayload is what a ballot's messages say of proposal p.
func ballotPayload(p Proposal) outbox.Ballot {
	return outbox.Ballot{Proposal: p.ID, Title: p.Title, Kind: p.KindName(), Secret: p.Secret != nil && *p.Secret, ClosesAt: p.ClosesAt.UTC()}
}

// queueVotingOpened tells everyone on p's roll, frozen a moment ago in
// the same transaction, that voting has opened.
func (s *Service) queueVotingOpened(ctx context.Context, tx *sqlx.Tx, p Proposal) error {
	return s.queueFor(ctx, tx, outbox.VotingOpened, strconv.FormatInt(p.ID, 10), ballotPayload(p),
		`SELECT member_id FROM roll WHERE proposal_id = ?`, p.ID)
}

// onRollStill picks the members on a roll who are still members (active
// or suspended) with an address: those who have left or were erased are
// not written to.
const onRollStill = `SELECT r.member_id FROM roll r JOIN members m ON m.id = r.member_id
	WHERE r.proposal_id = ? AND m.status IN ('active', 'suspended') AND m.erased_at IS NULL`

// queueResult tells everyone on p's roll the result t.
func (s *Service) queueResult(ctx context.Context, tx *sqlx.Tx, p Proposal, t Tally) error {
	b := ballotPayload(p)
	b.Outcome, b.Yes, b.No, b.Abstain, b.Turnout, b.RollSize, b.QuorumMet = t.Outcome, t.Yes, t.No, t.Abstain, t.Turnout(), t.RollSize, t.QuorumMet
	return s.queueFor(ctx, tx, outbox.Result, strconv.FormatInt(p.ID, 10), b, onRollStill, p.ID)
}

// queueApplication tells every active admin that m has applied.
func (s *Service) queueApplication(ctx context.Context, tx *sqlx.Tx, m Member) error {
	return s.queueFor(ctx, tx, outbox.Application, strconv.FormatInt(m.ID, 10), outbox.NewApplication{Applicant: m.ID, Name: m.Name},
		`SELECT id AS member_id FROM members WHERE role = 'admin' AND status = 'active'`)
}

// queueDecision tells applicant id whether they were admitted.
func (s *Service) queueDecision(ctx context.Context, tx *sqlx.Tx, id int64, approved bool, reason string) error {
	return s.queueMember(ctx, tx, outbox.Decision, strconv.FormatInt(id, 10), id, outbox.ApplicationDecision{Approved: approved, Reason: reason})
}

// forgetMember takes a member's personal data out of the queue when they
// are erased: what was waiting for them will not go (they have no address
// now), and the admins' notices of their application lose their name.
func forgetMember(ctx context.Context, tx *sqlx.Tx, id int64) error {
	event := strconv.FormatInt(id, 10)
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET payload = '{}',
		status = CASE WHEN status IN ('queued', 'digest') THEN 'dropped' ELSE status END,
		last_error = CASE WHEN status IN ('queued', 'digest') THEN 'the member''s data was erased' ELSE last_error END
		WHERE member_id = ? OR (kind = ? AND event = ?)`, id, outbox.Application, event); err != nil {
		return fmt.Errorf("governance: erase member from the outbox: %w", err)
	}
	return nil
}
