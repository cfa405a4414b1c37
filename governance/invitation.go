package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
)

// MaxNoteLen caps an invitation's note, mirrored in schema.sql.
const MaxNoteLen = 200

// Invitation is a single-use link that makes an active member.
type Invitation struct {
	ID        int64      `db:"id"`
	Note      string     `db:"note"`
	CreatedBy int64      `db:"created_by"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	UsedBy    *int64     `db:"used_by"`
	RevokedAt *time.Time `db:"revoked_at"`
}

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

// invitationInput is what an admin's invitation form gives: a note for the
// admins' list, and how many days the link works (0 for the default). The
// tags check the note trimmed.
type invitationInput struct {
	Note string `form:"note" validate:"utf8,nocontrol,oneline,max=200"`
	Days int    `form:"days" validate:"omitempty,min=1,max=90"`
}

var invitationMessages = map[string]string{
	"note.utf8":      "The note contains invalid characters.",
	"note.nocontrol": "The note contains invalid characters.",
	"note.oneline":   "The note contains invalid characters.",
	"note.max":       fmt.Sprintf("Keep the note under %d characters.", MaxNoteLen),
	"days.min":       "Choose between 1 and 90 days.",
	"days.max":       "Choose between 1 and 90 days.",
}

// Messages words what the tags refuse.
func (invitationInput) Messages() map[string]string { return invitationMessages }

// Invite makes an invitation that works for ttl (the default when zero) and
// returns it with its token. The token is returned only here: the database
// keeps its hash.
func (s *Service) Invite(ctx context.Context, actor Member, note string, days int) (Invitation, string, error) {
	in := invitationInput{Note: strings.TrimSpace(note), Days: days}
	if err := check.Struct(in).Err(); err != nil {
		return Invitation{}, "", err
	}
	note = in.Note
	ttl := s.InvitationTTL
	if days != 0 {
		ttl = time.Duration(days) * 24 * time.Hour
	}
	token := newToken()
	now := s.now()
	inv := Invitation{Note: note, CreatedBy: actor.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO invitations (token_hash, note, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			tokenHash(token), inv.Note, inv.CreatedBy, inv.CreatedAt, inv.ExpiresAt)
		if err != nil {
			return fmt.Errorf("governance: insert invitation: %w", err)
		}
		inv.ID = id
		return appendEntry(ctx, tx, now, ledger.InvitationCreated{
			Invitation: inv.ID, By: actor.ID, ExpiresAt: inv.ExpiresAt.Format(time.RFC3339)})
	})
	if err != nil {
		return Invitation{}, "", err
	}
	return inv, token, nil
}

// Invitations lists every invitation, newest first.
func (s *Service) Invitations(ctx context.Context) ([]Invitation, error) {
	var invs []Invitation
	err := s.db.R.SelectContext(ctx, &invs, `SELECT id, note, created_by, created_at, expires_at, used_at, used_by, revoked_at
		FROM invitations ORDER BY id DESC LIMIT 500`)
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
	err := s.db.R.GetContext(ctx, &inv, `SELECT id, note, created_by, created_at, expires_at, used_at, used_by, revoked_at
		FROM invitations WHERE token_hash = ?`, tokenHash(token))
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
// gets in.
func (s *Service) AcceptInvitation(ctx context.Context, token string, d Details) (Member, error) {
	// A spent or unknown link is gone whatever was typed into its form.
	if _, err := s.OpenInvitation(ctx, token); err != nil {
		return Member{}, err
	}
	var inv Invitation
	return s.createMember(ctx, d, false, func(tx *sqlx.Tx, m *Member) error {
		err := tx.GetContext(ctx, &inv, `SELECT id, created_by, expires_at FROM invitations
			WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, tokenHash(token), s.now())
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("governance: get invitation: %w", err)
		}
		m.Status = StatusActive
		return nil
	}, func(tx *sqlx.Tx, m Member) error {
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET used_at = ?, used_by = ? WHERE id = ?`, s.now(), m.ID, inv.ID); err != nil {
			return fmt.Errorf("governance: use invitation: %w", err)
		}
		return appendEntry(ctx, tx, s.now(), ledger.Admitted{Member: m.ID, By: inv.CreatedBy, Invitation: inv.ID})
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
