package governance

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/ledger"
	"plenary/internal/outbox"
)

// The register of members: the list a co-op must keep of who its members
// are and were, which admins download as CSV; and the import that brings
// an existing co-op's members in at once, as active members, each with a
// link to set a password.

// noPassword is the password hash of an imported member who has not yet
// set one: no password matches it, and the login pays for a real check
// all the same (Login), so the time taken does not tell such an account
// from another.
const noPassword = "!"

// WriteRegister writes the register as CSV to w for an admin: each
// member's number, name, email, status, and the dates they joined and
// left, in number order. The file starts with a byte order mark so that
// Excel reads it as UTF-8, and a cell a spreadsheet would take for a
// formula (= + - @, a tab or a carriage return first) is written after an
// apostrophe, so that a name typed by an applicant cannot run in an
// admin's spreadsheet.
func (s *Service) WriteRegister(ctx context.Context, actor Member, w io.Writer) error {
	if err := requireAdmin(ctx, s.db.R, actor.ID); err != nil {
		return err
	}
	rows, err := s.db.R.QueryxContext(ctx, `SELECT id, name, email, status, joined_at, left_at, erased_at FROM members ORDER BY id`)
	if err != nil {
		return fmt.Errorf("governance: read the register: %w", err)
	}
	defer rows.Close()
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"number", "name", "email", "status", "joined", "left"}); err != nil {
		return err
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	}
	for rows.Next() {
		var m struct {
			ID       int64      `db:"id"`
			Name     string     `db:"name"`
			Email    *string    `db:"email"`
			Status   string     `db:"status"`
			JoinedAt *time.Time `db:"joined_at"`
			LeftAt   *time.Time `db:"left_at"`
			ErasedAt *time.Time `db:"erased_at"`
		}
		if err := rows.StructScan(&m); err != nil {
			return fmt.Errorf("governance: read the register: %w", err)
		}
		name := m.Name
		if m.ErasedAt != nil {
			name = "(erased)"
		}
		rec := []string{strconv.FormatInt(m.ID, 10), name, deref(m.Email), m.Status, day(m.JoinedAt), day(m.LeftAt)}
		for i := range rec {
			rec[i] = safeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("governance: read the register: %w", err)
	}
	cw.Flush()
	return cw.Error()
}

// deref is what p points to, or the zero value when p is nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// safeCell writes a cell a spreadsheet would run as a formula after an
// apostrophe, which spreadsheets show as text.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

// PreviewImport checks a roster of an existing co-op's members for an
// admin, changing nothing: every row, and what is wrong with each.
func (s *Service) PreviewImport(ctx context.Context, actor Member, text string) (Roster, error) {
	if err := requireAdmin(ctx, s.db.R, actor.ID); err != nil {
		return Roster{}, err
	}
	r, err := readRoster(text, rosterImport, s.now())
	if err != nil {
		return Roster{}, err
	}
	return r, checkRoster(ctx, s.db.R, &r, false, s.now())
}

// Imported is a member an import made, with the token of their link to
// set a password (only its hash is kept).
type Imported struct {
	ID    int64
	Name  string
	Email string
	Token string
}

// importChunk is how many members one INSERT writes (eight values each).
const importChunk = 500

// ImportMembers has an admin import a roster of an existing co-op's
// members, all or none: each becomes an active member, admitted on the
// ledger by the admin, with a password-set link (a password reset that
// works for InvitationTTL) to be emailed to them. The roster is checked
// again inside the writing transaction, so a person who joined since the
// preview stops the import (a *RosterError) rather than half of it.
func (s *Service) ImportMembers(ctx context.Context, actor Member, text string) ([]Imported, error) {
	now := s.now()
	r, err := readRoster(text, rosterImport, now)
	if err != nil {
		return nil, err
	}
	var out []Imported
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		if err := checkRoster(ctx, tx, &r, false, now); err != nil {
			return err
		}
		if len(r.Bad()) > 0 {
			return &RosterError{Roster: r}
		}
		out = make([]Imported, 0, len(r.Rows))
		ids := map[string]int64{}
		for start := 0; start < len(r.Rows); start += importChunk {
			chunk := r.Rows[start:min(start+importChunk, len(r.Rows))]
			var q strings.Builder
			q.WriteString(`INSERT INTO members (name, email, password_hash, role, status, applied_at, joined_at) VALUES `)
			args := make([]any, 0, 7*len(chunk))
			for i, row := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				joined := now
				if row.Joined != nil {
					joined = *row.Joined
				}
				args = append(args, row.Name, row.Email, noPassword, RoleMember, StatusActive, now, joined)
			}
			q.WriteString(` RETURNING id, email`)
			if err := scanIDs(ctx, tx, ids, q.String(), args...); err != nil {
				return fmt.Errorf("governance: import members: %w", err)
			}
		}
		created := &actor.ID
		expires := now.Add(s.InvitationTTL)
		events := make([]ledger.Event, 0, len(r.Rows))
		mails := make([]linkMail, 0, len(r.Rows))
		for start := 0; start < len(r.Rows); start += importChunk {
			chunk := r.Rows[start:min(start+importChunk, len(r.Rows))]
			var q strings.Builder
			q.WriteString(`INSERT INTO password_resets (member_id, token_hash, created_by, created_at, expires_at) VALUES `)
			args := make([]any, 0, 5*len(chunk))
			links := make(map[int64]linkMail, len(chunk)) // by member
			for i, row := range chunk {
				token := newToken()
				m := Imported{ID: ids[row.Email], Name: row.Name, Email: row.Email, Token: token}
				out = append(out, m)
				events = append(events, ledger.Admitted{Member: m.ID, By: actor.ID})
				links[m.ID] = linkMail{Member: m.ID, Link: outbox.Link{Token: token, ExpiresAt: expires.UTC(), Welcome: true}}
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?)")
				args = append(args, m.ID, tokenHash(token), created, now, expires)
			}
			// Each imported member is emailed their link to set a
			// password, in this transaction: every member imported is
			// told, and none who is not. The email is numbered by its
			// link, as a reset link's is.
			q.WriteString(` RETURNING id, member_id`)
			rows, err := tx.QueryxContext(ctx, q.String(), args...)
			if err != nil {
				return fmt.Errorf("governance: make the imported members' links: %w", err)
			}
			for rows.Next() {
				var id, member int64
				if err := rows.Scan(&id, &member); err != nil {
					rows.Close()
					return fmt.Errorf("governance: make the imported members' links: %w", err)
				}
				l := links[member]
				l.Event = id
				mails = append(mails, l)
			}
			if err := rows.Close(); err != nil {
				return fmt.Errorf("governance: make the imported members' links: %w", err)
			}
		}
		if err := s.queueLinks(ctx, tx, outbox.PasswordReset, mails); err != nil {
			return err
		}
		return ledger.AppendMany(ctx, tx, now, events)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanIDs runs an INSERT … RETURNING id, email and records each new id by
// its email (the order of RETURNING rows is not promised on either
// database).
func scanIDs(ctx context.Context, tx *sqlx.Tx, into map[string]int64, query string, args ...any) error {
	rows, err := tx.QueryxContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			return err
		}
		into[strings.ToLower(email)] = id
	}
	return rows.Err()
}
