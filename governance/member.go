package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
)

// Roles and statuses of a member, as stored.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"

	StatusApplicant = "applicant"
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusLeft      = "left"
	StatusRejected  = "rejected"
)

// Statuses lists every status in the order an admin filters by.
var Statuses = []string{StatusApplicant, StatusActive, StatusSuspended, StatusLeft, StatusRejected}

// Field limits, mirrored by CHECK constraints in schema.sql.
const (
	MaxNameLen      = 80
	MaxEmailLen     = 254
	MaxStatementLen = 1000
	MaxReasonLen    = 500
)

// Member is a person's membership. ID is the public member number.
type Member struct {
	ID             int64      `db:"id"`
	Name           string     `db:"name"`
	Email          *string    `db:"email"`
	PasswordHash   *string    `db:"password_hash"`
	Statement      string     `db:"statement"`
	Role           string     `db:"role"`
	Status         string     `db:"status"`
	StatusReason   string     `db:"status_reason"`
	SessionVersion int64      `db:"session_version"`
	AppliedAt      time.Time  `db:"applied_at"`
	JoinedAt       *time.Time `db:"joined_at"`
	ErasedAt       *time.Time `db:"erased_at"`
	// TimeZone is the IANA zone the member reads times in, or nil for the
	// co-op's default (see Zone).
	TimeZone *string `db:"time_zone"`
}

// IsAdmin says whether m may run the membership.
func (m Member) IsAdmin() bool { return m.Role == RoleAdmin && m.Status == StatusActive }

// IsActive says whether m may take part: vote, propose, comment.
func (m Member) IsActive() bool { return m.Status == StatusActive }

// EmailAddress is the email, or "" once erased.
func (m Member) EmailAddress() string {
	if m.Email == nil {
		return ""
	}
	return *m.Email
}

// DisplayName is the name, or a stand-in once erased.
func (m Member) DisplayName() string {
	if m.ErasedAt != nil {
		return fmt.Sprintf("Member %d (erased)", m.ID)
	}
	return m.Name
}

// Details is what a person gives about themselves when they apply, accept an
// invitation or found the co-op. The account page changes one field at a
// time, checked by the same tags. The tags check the details normalised;
// the password's length is a tag, what else a password needs is
// passwordPolicy.
type Details struct {
	Name      string `form:"name" validate:"required,utf8,max=80,nocontrol,oneline"`
	Email     string `form:"email" validate:"required,max=254,emailaddr"`
	Password  string `form:"password" validate:"required,min=10,max=128"`
	Statement string `form:"statement" validate:"utf8,max=1000"`
}

const badName = "Your name contains invalid characters."

var detailsMessages = map[string]string{
	"name.required":     "Enter your name.",
	"name.utf8":         badName,
	"name.nocontrol":    badName,
	"name.oneline":      badName,
	"name.max":          fmt.Sprintf("Keep your name under %d characters.", MaxNameLen),
	"email.required":    "Enter your email address.",
	"email.max":         "That email address is too long.",
	"email.emailaddr":   "Enter an email address like name@example.org.",
	"password.required": "Choose a password.",
	"password.min":      fmt.Sprintf("Use at least %d characters.", MinPasswordLen),
	"password.max":      fmt.Sprintf("Use at most %d characters.", MaxPasswordLen),
	"statement.utf8":    "This text contains invalid characters.",
	"statement.max":     fmt.Sprintf("Keep it under %d characters.", MaxStatementLen),
}

// Messages words what the tags refuse.
func (Details) Messages() map[string]string { return detailsMessages }

// normalised is the details as they are kept: trimmed, the email in lower
// case. A password is kept as typed.
func (d Details) normalised() Details {
	d.Name = strings.TrimSpace(d.Name)
	d.Email = strings.TrimSpace(d.Email)
	// ToLower would turn invalid bytes into U+FFFD, which the address
	// check would take for a letter.
	if utf8.ValidString(d.Email) {
		d.Email = strings.ToLower(d.Email)
	}
	d.Statement = strings.TrimSpace(d.Statement)
	return d
}

// validate checks normalised details, field by field. Applying to join
// needs a statement (needStatement); an invitation or the command line
// does not, so that is checked here rather than by a tag.
func (d Details) validate(needStatement bool) ValidationError {
	v := check.Struct(d)
	if _, bad := v["password"]; !bad {
		if msg := passwordPolicy(d.Password, d.Name, d.Email); msg != "" {
			v["password"] = msg
		}
	}
	if needStatement && d.Statement == "" {
		v["statement"] = "Say in a few words why you want to join."
	}
	return v
}

// isUniqueEmail says whether err is the UNIQUE constraint on members.email.
func isUniqueEmail(err error) bool {
	return db.IsConstraint(err, "members.email")
}

// isLastAdmin says whether err is the trigger that keeps the last admin.
func isLastAdmin(err error) bool {
	return db.IsConstraint(err, "plenary: last admin")
}

const memberColumns = `id, name, email, password_hash, statement, role, status, status_reason,
	session_version, applied_at, joined_at, erased_at, time_zone`

// Member returns the member with number id.
func (s *Service) Member(ctx context.Context, id int64) (Member, error) {
	return getMember(ctx, s.db.R, `WHERE id = ?`, id)
}

func getMember(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (Member, error) {
	var m Member
	err := sqlx.GetContext(ctx, q, &m, `SELECT `+memberColumns+` FROM members `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, fmt.Errorf("governance: get member: %w", err)
	}
	return m, nil
}

// SessionMember returns the member a session belongs to, if the session is
// still good: the member exists, may log in, and the session's version is
// current. Anything else is ErrNotFound, and the session should be dropped.
func (s *Service) SessionMember(ctx context.Context, id, version int64) (Member, error) {
	m, err := s.Member(ctx, id)
	if err != nil {
		return Member{}, err
	}
	if m.SessionVersion != version || !canLogIn(m) {
		return Member{}, ErrNotFound
	}
	return m, nil
}

// canLogIn: applicants may log in to see where their application stands and
// keep their details up to date; active members to take part; suspended
// members only to vote in ballots whose roll was frozen before their
// suspension (suspension logs them out, and they may log back in for that).
func canLogIn(m Member) bool {
	return m.ErasedAt == nil && (m.Status == StatusActive || m.Status == StatusApplicant || m.Status == StatusSuspended)
}

// Apply records an application to join; an admin decides on it.
func (s *Service) Apply(ctx context.Context, d Details) (Member, error) {
	return s.createMember(ctx, d, true, func(tx *sqlx.Tx, m *Member) error {
		m.Status = StatusApplicant
		return nil
	}, s.tellAdmins(ctx))
}

// tellAdmins queues the notice of a new application to the admins, in
// the application's transaction.
func (s *Service) tellAdmins(ctx context.Context) func(*sqlx.Tx, Member) error {
	return func(tx *sqlx.Tx, m Member) error { return s.queueApplication(ctx, tx, m) }
}

// ApplyFrom is Apply for a person at a client address, as the /join form
// takes it: each address may make JoinLimit applications in its window.
// Only applications made are counted; a form sent back for correction is
// not.
func (s *Service) ApplyFrom(ctx context.Context, address string, d Details) (Member, error) {
	now := s.now()
	if err := s.checkLimit(ctx, s.db.R, s.JoinLimit, limitJoin, address, now); err != nil {
		return Member{}, err
	}
	return s.createMember(ctx, d, true, func(tx *sqlx.Tx, m *Member) error {
		m.Status = StatusApplicant
		// Checked again inside the writer's transaction, so that
		// simultaneous applications cannot slip past the limit together.
		if err := s.checkLimit(ctx, tx, s.JoinLimit, limitJoin, address, now); err != nil {
			return err
		}
		return countEvent(ctx, tx, s.JoinLimit, limitJoin, address, now)
	}, s.tellAdmins(ctx))
}

// createMember checks d, hashes the password and inserts the member inside
// one transaction, in which before may check more and set the status, role
// and ledger entry.
func (s *Service) createMember(ctx context.Context, d Details, needStatement bool, before func(*sqlx.Tx, *Member) error, after ...func(*sqlx.Tx, Member) error) (Member, error) {
	d = d.normalised()
	if v := d.validate(needStatement); len(v) > 0 {
		return Member{}, v
	}
	hash, err := s.hash.Hash(d.Password)
	if err != nil {
		return Member{}, fmt.Errorf("governance: hash password: %w", err)
	}
	m := Member{Name: d.Name, Email: &d.Email, PasswordHash: &hash, Statement: d.Statement, Role: RoleMember, AppliedAt: s.now()}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := before(tx, &m); err != nil {
			return err
		}
		if m.Status == StatusActive {
			t := m.AppliedAt
			m.JoinedAt = &t
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO members (name, email, password_hash, statement, role, status, applied_at, joined_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.Name, m.Email, m.PasswordHash, m.Statement, m.Role, m.Status, m.AppliedAt, m.JoinedAt)
		if isUniqueEmail(err) {
			return ValidationError{"email": "There is already an account with this email. Log in instead."}
		}
		if err != nil {
			return fmt.Errorf("governance: insert member: %w", err)
		}
		m.ID = id
		m.SessionVersion = 1
		for _, f := range after {
			if err := f(tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	return m, nil
}

// Login checks an email and password. Failed attempts are counted per
// account and per address; past the limit every attempt, right or wrong, is
// ErrThrottled until the window passes. An unknown email and a wrong
// password give the same ErrBadCredentials, after the same work.
//
// A member who may not log in (suspended, left, rejected) but gives the right
// password gets a *NotAllowedError saying why.
func (s *Service) Login(ctx context.Context, email, password, address string) (Member, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	// The limits are in characters, as the tags count them when the email
	// and password are chosen.
	if utf8.RuneCountInString(email) > MaxEmailLen || utf8.RuneCountInString(password) > MaxPasswordLen {
		return Member{}, ErrBadCredentials
	}
	now := s.now()
	attempt, err := s.countAttempt(ctx, email, address, now)
	if err != nil {
		return Member{}, err
	}
	m, err := getMember(ctx, s.db.R, `WHERE email = ?`, email)
	if errors.Is(err, ErrNotFound) {
		s.hash.Check(dummyHash, password)
		return Member{}, ErrBadCredentials
	}
	if err != nil {
		return Member{}, err
	}
	if m.PasswordHash == nil || *m.PasswordHash == noPassword {
		// No password yet (imported): the same work as a wrong one.
		s.hash.Check(dummyHash, password)
		return Member{}, ErrBadCredentials
	}
	if !s.hash.Check(*m.PasswordHash, password) {
		return Member{}, ErrBadCredentials
	}
	// The right password: the attempt was no failure, and a member let in
	// starts their account's count again.
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE id IN (?, ?)`, attempt[0], attempt[1]); err != nil {
			return err
		}
		if !canLogIn(m) {
			return nil
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE scope = 'account' AND key = ?`, email)
		return err
	})
	if err != nil {
		return Member{}, fmt.Errorf("governance: clear login failures: %w", err)
	}
	if !canLogIn(m) {
		return Member{}, &NotAllowedError{Status: m.Status, Reason: m.StatusReason}
	}
	return m, nil
}

// countAttempt counts a login attempt as a failure before its password is
// checked, and returns the ids of the two rows (account, address) that
// count it, or ErrThrottled when either already has MaxFailures within
// FailureWindow. Counting and recording are one writing transaction, under
// the writers' lock that every process takes, so attempts made at once,
// through this process or another, each see those before them: no more
// than MaxFailures passwords are ever checked for an account or from an
// address in a window. Old failures are pruned as new ones come in, so the
// table stays small.
func (s *Service) countAttempt(ctx context.Context, email, address string, now time.Time) ([2]int64, error) {
	var ids [2]int64
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at <= ?`, now.Add(-s.FailureWindow)); err != nil {
			return err
		}
		var byAccount, byAddress int
		err := tx.QueryRowxContext(ctx, `SELECT
			(SELECT count(*) FROM login_failures WHERE scope = 'account' AND key = ?),
			(SELECT count(*) FROM login_failures WHERE scope = 'address' AND key = ?)`,
			email, address).Scan(&byAccount, &byAddress)
		if err != nil {
			return err
		}
		if byAccount >= s.MaxFailures || byAddress >= s.MaxFailures {
			return ErrThrottled
		}
		for i, scope := range []struct{ name, key string }{{"account", email}, {"address", address}} {
			if ids[i], err = db.InsertID(ctx, tx, `INSERT INTO login_failures (scope, key, at) VALUES (?, ?, ?)`,
				scope.name, scope.key, now); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, ErrThrottled):
		return ids, ErrThrottled
	case err != nil:
		return ids, fmt.Errorf("governance: count login attempt: %w", err)
	}
	return ids, nil
}

// NotAllowedError is a correct login by someone whose membership does not
// let them in. Its message is safe to show them.
type NotAllowedError struct {
	Status string
	Reason string
}

func (e *NotAllowedError) Error() string {
	var msg string
	switch e.Status {
	case StatusSuspended:
		msg = "Your membership is suspended."
	case StatusRejected:
		msg = "Your application to join was not accepted."
	case StatusLeft:
		msg = "Your membership has ended."
	default:
		msg = "You can't log in at the moment."
	}
	if e.Reason != "" {
		msg += " Reason given: " + e.Reason
	}
	return msg
}

// ErrSuspended refuses a suspended member anything but voting in the
// ballots whose roll they are on.
var ErrSuspended = fmt.Errorf("%w: a suspended member may only vote", ErrForbidden)

// MayEditAccount says whether m may change their own name, email and
// password: active members and applicants may. Suspended members log in
// only to vote, and their details stay as they were when suspended.
func (m Member) MayEditAccount() bool {
	return m.ErasedAt == nil && (m.Status == StatusActive || m.Status == StatusApplicant)
}

// editsOwnAccount are the statuses of MayEditAccount, for the updates'
// WHERE: a suspension that lands between the check and the update still
// stops it.
const editsOwnAccount = `erased_at IS NULL AND status IN ('active', 'applicant')`

// accountHolder reads member id for a change to their own details, and
// refuses one who may not make it.
func (s *Service) accountHolder(ctx context.Context, id int64) (Member, error) {
	m, err := s.Member(ctx, id)
	switch {
	case err != nil:
		return Member{}, err
	case m.ErasedAt != nil:
		return Member{}, ErrNotFound
	case m.Status == StatusSuspended:
		return Member{}, ErrSuspended
	case !m.MayEditAccount():
		return Member{}, ErrForbidden
	}
	return m, nil
}

// UpdateName changes the member's display name.
func (s *Service) UpdateName(ctx context.Context, id int64, name string) error {
	if _, err := s.accountHolder(ctx, id); err != nil {
		return err
	}
	d := Details{Name: name}.normalised()
	if err := check.Partial(d, "Name").Err(); err != nil {
		return err
	}
	return s.updateSelf(ctx, id, `UPDATE members SET name = ? WHERE id = ? AND `+editsOwnAccount, d.Name, id)
}

// ChangeEmail changes the member's email after checking their password.
func (s *Service) ChangeEmail(ctx context.Context, id int64, currentPassword, email string) error {
	m, err := s.accountHolder(ctx, id)
	if err != nil {
		return err
	}
	d := Details{Email: email}.normalised()
	v := check.Partial(d, "Email")
	if !s.passwordMatches(m, currentPassword) {
		v["current_password"] = "That is not your current password."
	}
	if err := v.Err(); err != nil {
		return err
	}
	err = s.updateSelf(ctx, id, `UPDATE members SET email = ? WHERE id = ? AND `+editsOwnAccount, d.Email, id)
	if isUniqueEmail(err) {
		return ValidationError{"email": "Another account uses this email."}
	}
	return err
}

// ChangePassword sets a new password after checking the current one, and
// logs the member out of every other session by bumping the session version.
// It returns the new version for the session that made the change.
func (s *Service) ChangePassword(ctx context.Context, id int64, currentPassword, password string) (int64, error) {
	m, err := s.accountHolder(ctx, id)
	if err != nil {
		return 0, err
	}
	v := ValidationError{}
	if msg := checkPassword(password, m.Name, m.EmailAddress()); msg != "" {
		v["password"] = msg
	}
	if !s.passwordMatches(m, currentPassword) {
		v["current_password"] = "That is not your current password."
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	hash, err := s.hash.Hash(password)
	if err != nil {
		return 0, fmt.Errorf("governance: hash password: %w", err)
	}
	var version int64
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &version, `UPDATE members SET password_hash = ?, session_version = session_version + 1
			WHERE id = ? AND `+editsOwnAccount+` RETURNING session_version`, hash, id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.accountHolder(ctx, id); err != nil {
			return 0, err
		}
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("governance: change password: %w", err)
	}
	return version, nil
}

// EndSessions logs the member out everywhere by moving their session
// version on: a session cookie issued under the old version, including a
// copy of one, no longer counts.
func (s *Service) EndSessions(ctx context.Context, id int64) error {
	if _, err := s.db.W.ExecContext(ctx, `UPDATE members SET session_version = session_version + 1 WHERE id = ?`, id); err != nil {
		return fmt.Errorf("governance: end sessions: %w", err)
	}
	return nil
}

func (s *Service) passwordMatches(m Member, password string) bool {
	if m.PasswordHash == nil || utf8.RuneCountInString(password) > MaxPasswordLen {
		return false
	}
	return s.hash.Check(*m.PasswordHash, password)
}

func (s *Service) updateSelf(ctx context.Context, id int64, query string, args ...any) error {
	res, err := s.db.W.ExecContext(ctx, query, args...)
	if err != nil {
		if isUniqueEmail(err) {
			return err
		}
		return fmt.Errorf("governance: update member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.accountHolder(ctx, id); err != nil {
			return err // suspended since accountHolder last looked
		}
		return ErrNotFound
	}
	return nil
}

// MemberQuery selects members for the admin list.
type MemberQuery struct {
	Search string // matches name, email or member number
	Status string // "" for all
	Page   int    // from 1
}

// MembersPerPage is the admin list's page size.
const MembersPerPage = 50

// Members lists members, newest applications first, with the total count.
func (s *Service) Members(ctx context.Context, q MemberQuery) ([]Member, int, error) {
	where := []string{"1 = 1"}
	var args []any
	if q.Status != "" {
		where = append(where, "status = ?")
		args = append(args, q.Status)
	}
	if search := strings.TrimSpace(q.Search); search != "" {
		// Escape LIKE's wildcards so "%" and "_" match themselves.
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(search) + "%"
		where = append(where, `(name LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR CAST(id AS TEXT) = ?)`)
		args = append(args, like, like, strings.TrimPrefix(search, "#"))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT count(*) FROM members WHERE `+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("governance: count members: %w", err)
	}
	page := max(q.Page, 1)
	var ms []Member
	err := s.db.R.SelectContext(ctx, &ms, `SELECT `+memberColumns+` FROM members WHERE `+cond+
		` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, MembersPerPage, (page-1)*MembersPerPage)...)
	if err != nil {
		return nil, 0, fmt.Errorf("governance: list members: %w", err)
	}
	return ms, total, nil
}

// ActiveMembersUpTo lists the active members, newest first, when there are
// at most n, and nil when there are more: a form that offers them to pick
// from needs no count of a large co-op, which would read every member.
func (s *Service) ActiveMembersUpTo(ctx context.Context, n int) ([]Member, error) {
	var ms []Member
	err := s.db.R.SelectContext(ctx, &ms, `SELECT `+memberColumns+` FROM members WHERE status = ? ORDER BY id DESC LIMIT ?`,
		StatusActive, n+1)
	if err != nil {
		return nil, fmt.Errorf("governance: list active members: %w", err)
	}
	if len(ms) > n {
		return nil, nil
	}
	return ms, nil
}

// HasAdmin says whether the co-op has an active admin yet.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	var n int
	err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM members WHERE role = 'admin' AND status = 'active'`)
	if err != nil {
		return false, fmt.Errorf("governance: count admins: %w", err)
	}
	return n > 0, nil
}
