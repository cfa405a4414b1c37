package governance

import (
	"cmp"
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
	"plenary/internal/ledger"
)

// MaxNoteLen caps an invitation's note, mirrored in schema.sql.
const MaxNoteLen = 200

// Invitation is a single-use link that makes an active member. One made
// for someone names them: Email ties it to their address (the member it
// makes has that email), Name is what the form suggests, and Role is what
// they become. One without an email is a link for whoever holds it.
type Invitation struct {
	ID        int64      `db:"id"`
	Note      string     `db:"note"`
	CreatedBy int64      `db:"created_by"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	UsedBy    *int64     `db:"used_by"`
	RevokedAt *time.Time `db:"revoked_at"`
	Email     *string    `db:"email"`
	Name      string     `db:"name"`
	Role      string     `db:"role"`
}

const invitationColumns = `id, note, created_by, created_at, expires_at, used_at, used_by, revoked_at, email, name, role`

// EmailAddress is the address the invitation is tied to, or "".
func (i Invitation) EmailAddress() string { return deref(i.Email) }

// State is "used", "revoked", "expired" or "open" as of now.
func (i Invitation) State(now time.Time) string {
	return linkState(i.UsedAt, i.RevokedAt, i.ExpiresAt, now)
}

// linkState is where a single-use, expiring link (an invitation, a password
// reset) stands as of now: "used", "revoked", "expired" or "open".
func linkState(used, revoked *time.Time, expires, now time.Time) string {
	switch {
	case used != nil:
		return "used"
	case revoked != nil:
		return "revoked"
	case !now.Before(expires):
		return "expired"
	}
	return "open"
}

// InvitationInput is what an admin's invitation form gives: whom it is
// for (a name and an email address, both or neither, and the role they
// get, member unless said), a note for the admins' list, and how many days
// the link works (0 for the default). The tags check it trimmed, the email
// in lower case.
type InvitationInput struct {
	Name  string `form:"name" validate:"utf8,nocontrol,oneline,max=80"`
	Email string `form:"email" validate:"omitempty,max=254,emailaddr"`
	Role  string `form:"role" validate:"omitempty,oneof=member admin"`
	Note  string `form:"note" validate:"utf8,nocontrol,oneline,max=200"`
	Days  int    `form:"days" validate:"omitempty,min=1,max=90"`
}

var invitationMessages = map[string]string{
	"name.utf8":       badName,
	"name.nocontrol":  badName,
	"name.oneline":    badName,
	"name.max":        fmt.Sprintf("Keep the name under %d characters.", MaxNameLen),
	"email.max":       "That email address is too long.",
	"email.emailaddr": "Enter an email address like name@example.org.",
	"role.oneof":      "Choose member or admin.",
	"note.utf8":       "The note contains invalid characters.",
	"note.nocontrol":  "The note contains invalid characters.",
	"note.oneline":    "The note contains invalid characters.",
	"note.max":        fmt.Sprintf("Keep the note under %d characters.", MaxNoteLen),
	"days.min":        "Choose between 1 and 90 days.",
	"days.max":        "Choose between 1 and 90 days.",
}

// Messages words what the tags refuse.
func (InvitationInput) Messages() map[string]string { return invitationMessages }

// Invite makes an invitation link for whoever holds it, working for days
// (the default when zero), and returns it with its token.
func (s *Service) Invite(ctx context.Context, actor Member, note string, days int) (Invitation, string, error) {
	return s.InvitePerson(ctx, actor, InvitationInput{Note: note, Days: days})
}

// InvitePerson makes an invitation and returns it with its token. The
// token is returned only here: the database keeps its hash. An invitation
// with an email is tied to that address: it is refused for an address a
// member has already, or an open invitation was made for.
func (s *Service) InvitePerson(ctx context.Context, actor Member, in InvitationInput) (Invitation, string, error) {
	in.Name, in.Note = strings.TrimSpace(in.Name), strings.TrimSpace(in.Note)
	in.Email, in.Role = strings.TrimSpace(in.Email), strings.TrimSpace(in.Role)
	if utf8.ValidString(in.Email) {
		in.Email = strings.ToLower(in.Email)
	}
	v := check.Struct(in)
	if in.Email != "" && in.Name == "" {
		v["name"] = "Give the name of the person you are inviting, with their email address."
	}
	if in.Email == "" && in.Name != "" {
		v["email"] = "Give their email address: an invitation made for someone is tied to it."
	}
	if in.Email == "" && in.Role == RoleAdmin {
		v["role"] = "Only an invitation made for someone, with their email address, can make an admin."
	}
	if err := v.Err(); err != nil {
		return Invitation{}, "", err
	}
	ttl := s.InvitationTTL
	if in.Days != 0 {
		ttl = time.Duration(in.Days) * 24 * time.Hour
	}
	token := newToken()
	now := s.now()
	inv := Invitation{Note: in.Note, CreatedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(ttl), Name: in.Name, Role: cmp.Or(in.Role, RoleMember)}
	if in.Email != "" {
		inv.Email = &in.Email
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		if inv.Email != nil {
			r := Roster{Rows: []RosterRow{{Email: in.Email}}}
			if err := checkRoster(ctx, tx, &r, true, now); err != nil {
				return err
			}
			if p := r.Rows[0].Problems; len(p) > 0 {
				return ValidationError{"email": p[0]}
			}
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO invitations (token_hash, note, created_by, created_at, expires_at, email, name, role)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			tokenHash(token), inv.Note, inv.CreatedBy, inv.CreatedAt, inv.ExpiresAt, inv.Email, inv.Name, inv.Role)
		if err != nil {
			return fmt.Errorf("governance: insert invitation: %w", err)
		}
		inv.ID = id
		if inv.Email != nil {
			if err := s.QueueInvitation(ctx, tx, id, *inv.Email, inv.Name, token, inv.ExpiresAt); err != nil {
				return err
			}
		}
		return appendEntry(ctx, tx, now, invitationCreated(inv))
	})
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, token, nil
}

// invitationCreated is inv's ledger entry: by number, never by name.
func invitationCreated(inv Invitation) ledger.InvitationCreated {
	ev := ledger.InvitationCreated{Invitation: inv.ID, By: inv.CreatedBy, ExpiresAt: inv.ExpiresAt.Format(time.RFC3339)}
	if inv.Role == RoleAdmin {
		ev.Role = RoleAdmin
	}
	return ev
}

// Invitations lists every invitation, newest first.
func (s *Service) Invitations(ctx context.Context) ([]Invitation, error) {
	var invs []Invitation
	err := s.db.R.SelectContext(ctx, &invs, `SELECT `+invitationColumns+` FROM invitations ORDER BY id DESC LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("governance: list invitations: %w", err)
	}
	return invs, nil
}

// RevokeInvitation stops an open invitation from working.
func (s *Service) RevokeInvitation(ctx context.Context, actor Member, id int64) error {
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, s.now(), id)
		if err != nil {
			return fmt.Errorf("governance: revoke invitation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.GetContext(ctx, &exists, `SELECT count(*) FROM invitations WHERE id = ?`, id); err != nil || exists == 0 {
				return ErrNotFound
			}
			return ValidationError{"": "This invitation has already been used or revoked."}
		}
		return appendEntry(ctx, tx, s.now(), ledger.InvitationRevoked{Invitation: id, By: actor.ID})
	})
}

// OpenInvitation returns the invitation for token if it can still be used.
func (s *Service) OpenInvitation(ctx context.Context, token string) (Invitation, error) {
	var inv Invitation
	err := s.db.R.GetContext(ctx, &inv, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`, tokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, ErrNotFound
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("governance: get invitation: %w", err)
	}
	if inv.State(s.now()) != "open" {
		return Invitation{}, ErrNotFound
	}
	return inv, nil
}

// AcceptInvitation creates an active member with the invitation, which is
// used up in the same transaction: of two people racing with one link, one
// gets in. An invitation made for someone makes a member with its email,
// whatever was typed, and with its role.
func (s *Service) AcceptInvitation(ctx context.Context, token string, d Details) (Member, error) {
	// A spent or unknown link is gone whatever was typed into its form.
	open, err := s.OpenInvitation(ctx, token)
	if err != nil {
		return Member{}, err
	}
	if open.Email != nil {
		d.Email = *open.Email
	}
	var inv Invitation
	return s.createMember(ctx, d, false, func(tx *sqlx.Tx, m *Member) error {
		err := tx.GetContext(ctx, &inv, `SELECT `+invitationColumns+` FROM invitations
			WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, tokenHash(token), s.now())
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("governance: get invitation: %w", err)
		}
		if inv.Email != nil && !strings.EqualFold(*inv.Email, deref(m.Email)) {
			return ErrNotFound
		}
		m.Status = StatusActive
		m.Role = cmp.Or(inv.Role, RoleMember)
		return nil
	}, func(tx *sqlx.Tx, m Member) error {
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET used_at = ?, used_by = ? WHERE id = ?`, s.now(), m.ID, inv.ID); err != nil {
			return fmt.Errorf("governance: use invitation: %w", err)
		}
		if err := appendEntry(ctx, tx, s.now(), ledger.Admitted{Member: m.ID, By: inv.CreatedBy, Invitation: inv.ID}); err != nil {
			return err
		}
		if m.Role == RoleAdmin {
			return appendEntry(ctx, tx, s.now(), ledger.RoleChanged{Member: m.ID, By: inv.CreatedBy, Role: RoleAdmin})
		}
		return nil
	})
}

// AcceptInvitationFrom is AcceptInvitation for a person at a client address,
// as the /invite/:token form takes it. Each address may try
// InvitationLimit unknown links in its window, which is what guessing
// makes; past that, every link is refused from there until the window
// passes. A person with a real link never trips it, however often they
// correct the form, and nor does one with a real link that is spent (used,
// revoked or expired): that is a late guest, not a guess.
func (s *Service) AcceptInvitationFrom(ctx context.Context, address, token string, d Details) (Member, error) {
	now := s.now()
	// The try is counted as a guess before the link is looked at, in one
	// writing transaction with the check, under the writers' lock: tries
	// sent at once, through one process or several, each see those before
	// them. A link that was issued takes its count back.
	var guess int64
	if err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.checkLimit(ctx, tx, s.InvitationLimit, limitInvitation, address, now); err != nil {
			return err
		}
		var err error
		guess, err = countEventID(ctx, tx, s.InvitationLimit, limitInvitation, address, now)
		return err
	}); err != nil {
		return Member{}, err
	}
	m, err := s.AcceptInvitation(ctx, token, d)
	if guess != 0 {
		if err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
			var issued int
			if err := tx.GetContext(ctx, &issued, `SELECT count(*) FROM invitations WHERE token_hash = ?`, tokenHash(token)); err != nil || issued == 0 {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM rate_events WHERE id = ?`, guess)
			return err
		}); err != nil {
			return Member{}, fmt.Errorf("governance: count invitation link: %w", err)
		}
	}
	return m, err
}
