package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
	"plenary/internal/outbox"
)

// ErrLinkGone is a link that was real but works no more: used, replaced by
// a newer one, expired, or its member can no longer log in.
var ErrLinkGone = errors.New("governance: link expired or used")

// Reset is a single-use, expiring link that lets a member choose a new
// password. CreatedBy is the admin who issued it, or nil when it was mailed
// to the member at their own request.
type Reset struct {
	ID        int64      `db:"id"`
	MemberID  int64      `db:"member_id"`
	CreatedBy *int64     `db:"created_by"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

// State is "used", "revoked", "expired" or "open" as of now.
func (r Reset) State(now time.Time) string {
	return linkState(r.UsedAt, r.RevokedAt, r.ExpiresAt, now)
}

const resetColumns = `id, member_id, created_by, created_at, expires_at, used_at, revoked_at`

// canReset says whose password may be reset: anyone who may log in. A
// member who has left, was rejected or was erased has no account to get
// back into.
func canReset(m Member) bool { return canLogIn(m) }

// IssueReset has an admin make a password-reset link for member id, and
// returns it with its token (only its hash is kept). Any older link of the
// member's stops working. The ledger records who issued it for whom, by
// number.
func (s *Service) IssueReset(ctx context.Context, actor Member, id int64) (Reset, string, error) {
	token := newToken()
	now := s.now()
	r := Reset{MemberID: id, CreatedBy: &actor.ID, CreatedAt: now, ExpiresAt: now.Add(s.ResetTTL)}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		m, err := getMember(ctx, tx, `WHERE id = ?`, id)
		if err != nil {
			return err
		}
		switch {
		case m.ErasedAt != nil:
			return ValidationError{"": "This member's data has been erased; there is no account to reset."}
		case !canReset(m):
			return ValidationError{"": "Only a current member or an applicant can have their password reset."}
		}
		if r.ID, err = insertReset(ctx, tx, r, token); err != nil {
			return err
		}
		return appendEntry(ctx, tx, now, ledger.MemberDecision{Event: EventResetIssued, Member: id, By: actor.ID})
	})
	if err != nil {
		return Reset{}, "", err
	}
	return r, token, nil
}

// insertReset revokes the member's open links and stores r under token.
func insertReset(ctx context.Context, tx *sqlx.Tx, r Reset, token string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE password_resets SET revoked_at = ?
		WHERE member_id = ? AND used_at IS NULL AND revoked_at IS NULL`, r.CreatedAt, r.MemberID); err != nil {
		return 0, fmt.Errorf("governance: revoke password resets: %w", err)
	}
	// An email still waiting with a link just revoked is not sent.
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET status = 'dropped', payload = '{}', last_error = 'a newer link replaced this one'
		WHERE kind = ? AND member_id = ? AND status = 'queued'`, outbox.PasswordReset, r.MemberID); err != nil {
		return 0, fmt.Errorf("governance: drop older reset emails: %w", err)
	}
	id, err := db.InsertID(ctx, tx, `INSERT INTO password_resets (member_id, token_hash, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, r.MemberID, tokenHash(token), r.CreatedBy, r.CreatedAt, r.ExpiresAt)
	if err != nil {
		return 0, fmt.Errorf("governance: insert password reset: %w", err)
	}
	return id, nil
}

// ResetNotice is what a password-reset request leads to. Member and Token
// are set only when a link was made to mail to the member; otherwise both
// are empty, whether or not an account uses the address.
type ResetNotice struct {
	Member Member
	Token  string
}

// RequestReset records that someone at address, giving email, has forgotten
// their password. If a member who may log in has that email, the admins see
// the request; and if mail is true a link is made to be mailed to them,
// replacing any older one. The caller must answer the same either way, and
// this does the same work either way (a lookup and one transaction) so that
// the time taken does not tell either.
//
// Requests are limited per address and per email as typed, existing or not.
// Neither the request nor a mailed link goes on the public ledger: an entry
// appearing after a request would tell whoever made it that the account
// exists.
func (s *Service) RequestReset(ctx context.Context, email, address string, mail bool) (ResetNotice, error) {
	d := Details{Email: email}.normalised()
	if err := check.Partial(d, "Email").Err(); err != nil {
		return ResetNotice{}, err
	}
	email = d.Email
	now := s.now()
	// Made whether or not it is needed, like the rest of the work.
	token := newToken()
	limits := []struct {
		limit       Limit
		action, key string
	}{{s.ResetAddressLimit, limitResetAddress, address}, {s.ResetEmailLimit, limitResetEmail, email}}
	for _, l := range limits {
		if err := s.checkLimit(ctx, s.db.R, l.limit, l.action, l.key, now); err != nil {
			return ResetNotice{}, err
		}
	}
	m, err := getMember(ctx, s.db.R, `WHERE email = ?`, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ResetNotice{}, err
	}
	known := err == nil && canReset(m)
	var notice ResetNotice
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		// Checked again where it is counted, under the writers' lock:
		// requests made at once, through one process or several, each see
		// those before them.
		for _, l := range limits {
			if err := s.checkLimit(ctx, tx, l.limit, l.action, l.key, now); err != nil {
				return err
			}
			if err := countEvent(ctx, tx, l.limit, l.action, l.key, now); err != nil {
				return err
			}
		}
		if !known {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reset_requests (member_id, requested_at) VALUES (?, ?)
			ON CONFLICT (member_id) DO UPDATE SET requested_at = excluded.requested_at`, m.ID, now); err != nil {
			return fmt.Errorf("governance: record reset request: %w", err)
		}
		if !mail {
			return nil
		}
		r := Reset{MemberID: m.ID, CreatedAt: now, ExpiresAt: now.Add(s.ResetTTL)}
		id, err := insertReset(ctx, tx, r, token)
		if err != nil {
			return err
		}
		// The link goes out through the outbox, committed with it; the
		// token waits there only until it is sent.
		if err := s.queueMember(ctx, tx, outbox.PasswordReset, strconv.FormatInt(id, 10), m.ID,
			outbox.Link{Token: token, ExpiresAt: r.ExpiresAt}); err != nil {
			return err
		}
		notice = ResetNotice{Member: m, Token: token}
		return nil
	})
	if err != nil {
		return ResetNotice{}, err
	}
	return notice, nil
}

// OpenReset returns the link for token and its member if it can still be
// used: ErrNotFound for a token that never was, ErrLinkGone for one that was
// used, replaced or has expired, or whose member can no longer log in.
func (s *Service) OpenReset(ctx context.Context, token string) (Reset, Member, error) {
	var r Reset
	err := s.db.R.GetContext(ctx, &r, `SELECT `+resetColumns+` FROM password_resets WHERE token_hash = ?`, tokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return Reset{}, Member{}, ErrNotFound
	}
	if err != nil {
		return Reset{}, Member{}, fmt.Errorf("governance: get password reset: %w", err)
	}
	if r.State(s.now()) != "open" {
		return Reset{}, Member{}, ErrLinkGone
	}
	m, err := s.Member(ctx, r.MemberID)
	if err != nil {
		return Reset{}, Member{}, err
	}
	if !canReset(m) {
		return Reset{}, Member{}, ErrLinkGone
	}
	return r, m, nil
}

// passwordRepeat is a new password typed twice, on a reset link's form.
// The password itself is checkPassword's.
type passwordRepeat struct {
	Password string `form:"password"`
	Repeat   string `form:"password_repeat" validate:"required,eqfield=Password"`
}

var repeatMessages = map[string]string{
	"password_repeat.required": "Type the new password again.",
	"password_repeat.eqfield":  "The two passwords are not the same.",
}

// Messages words what the tags refuse.
func (passwordRepeat) Messages() map[string]string { return repeatMessages }

// ResetPassword sets a new password with the link for token, typed twice,
// under the same rules as everywhere else. The link is used up, the
// member's sessions everywhere end, their request and failed logins are
// cleared, and the ledger records that they reset their password.
func (s *Service) ResetPassword(ctx context.Context, token, password, repeat string) (Member, error) {
	r, m, err := s.OpenReset(ctx, token)
	if err != nil {
		return Member{}, err
	}
	if msg := checkPassword(password, m.Name, m.EmailAddress()); msg != "" {
		return Member{}, ValidationError{"password": msg}
	}
	// Asked for once the password itself will do.
	if err := check.Struct(passwordRepeat{password, repeat}).Err(); err != nil {
		return Member{}, err
	}
	hash, err := s.hash.Hash(password)
	if err != nil {
		return Member{}, fmt.Errorf("governance: hash password: %w", err)
	}
	now := s.now()
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		// Of two requests racing with one link, one uses it.
		res, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ?
			WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, now, r.ID, now)
		if err != nil {
			return fmt.Errorf("governance: use password reset: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLinkGone
		}
		err = tx.GetContext(ctx, &m.SessionVersion, `UPDATE members SET password_hash = ?, session_version = session_version + 1
			WHERE id = ? AND erased_at IS NULL AND status IN ('applicant', 'active', 'suspended') RETURNING session_version`, hash, m.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLinkGone
		}
		if err != nil {
			return fmt.Errorf("governance: reset password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM reset_requests WHERE member_id = ?`, m.ID); err != nil {
			return fmt.Errorf("governance: clear reset request: %w", err)
		}
		// Whoever was locked out by failed logins may log in at once.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE scope = 'account' AND key = ?`, m.EmailAddress()); err != nil {
			return fmt.Errorf("governance: clear login failures: %w", err)
		}
		return appendEntry(ctx, tx, now, ledger.PasswordReset{Member: m.ID})
	})
	if err != nil {
		return Member{}, err
	}
	m.PasswordHash = &hash
	return m, nil
}

// ResetStatus is what the admins see of one member's password resets.
type ResetStatus struct {
	RequestedAt *time.Time // when they last asked, if the request is outstanding
	Open        *Reset     // the link that works now, if any
}

// ResetStatus returns member id's outstanding request and working link.
func (s *Service) ResetStatus(ctx context.Context, id int64) (ResetStatus, error) {
	var st ResetStatus
	var req []time.Time
	if err := s.db.R.SelectContext(ctx, &req, `SELECT requested_at FROM reset_requests WHERE member_id = ?`, id); err != nil {
		return st, fmt.Errorf("governance: get reset request: %w", err)
	}
	if len(req) > 0 {
		st.RequestedAt = &req[0]
	}
	var open []Reset
	if err := s.db.R.SelectContext(ctx, &open, `SELECT `+resetColumns+` FROM password_resets
		WHERE member_id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, id, s.now()); err != nil {
		return st, fmt.Errorf("governance: get password reset: %w", err)
	}
	if len(open) > 0 {
		st.Open = &open[0]
	}
	return st, nil
}

// ResetRequest is a member who has asked for a password reset and not yet
// reset it.
type ResetRequest struct {
	MemberID    int64      `db:"member_id"`
	Name        string     `db:"name"`
	RequestedAt time.Time  `db:"requested_at"`
	LinkExpires *time.Time `db:"link_expires"` // when their working link expires, if they have one
}

// ResetRequests lists the outstanding requests of members who may still
// log in, newest first.
func (s *Service) ResetRequests(ctx context.Context) ([]ResetRequest, error) {
	var rs []ResetRequest
	// A member has at most one link neither used nor revoked, so the join
	// adds at most one row. The requests are few and the members many:
	// CROSS JOIN makes SQLite start from the requests (PostgreSQL plans it
	// as any inner join), where the status index drew it to read every
	// active member, 100,000 at scale, on each admin's list of members.
	err := s.db.R.SelectContext(ctx, &rs, `SELECT q.member_id, m.name, q.requested_at, p.expires_at AS link_expires
		FROM reset_requests q CROSS JOIN members m
		LEFT JOIN password_resets p ON p.member_id = q.member_id
			AND p.used_at IS NULL AND p.revoked_at IS NULL AND p.expires_at > ?
		WHERE m.id = q.member_id AND m.erased_at IS NULL AND m.status IN ('applicant', 'active', 'suspended')
		ORDER BY q.requested_at DESC, q.member_id DESC LIMIT 100`, s.now())
	if err != nil {
		return nil, fmt.Errorf("governance: list reset requests: %w", err)
	}
	return rs, nil
}
