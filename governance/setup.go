package governance

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
)

// ErrSetupDone means the co-op already has an admin: the setup link is spent.
var ErrSetupDone = errors.New("governance: setup already done")

// NewSetupToken returns a fresh one-time token for creating the founding
// admin, replacing any earlier one, or ErrSetupDone if an admin exists.
func (s *Service) NewSetupToken(ctx context.Context) (string, error) {
	token := newToken()
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := noAdminYet(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO setup_tokens (token_hash, created_at) VALUES (?, ?)`, tokenHash(token), s.now())
		return err
	})
	if err != nil {
		if errors.Is(err, ErrSetupDone) {
			return "", err
		}
		return "", fmt.Errorf("governance: new setup token: %w", err)
	}
	return token, nil
}

// CheckSetupToken says whether token is the current setup token.
func (s *Service) CheckSetupToken(ctx context.Context, token string) error {
	var n int
	err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM setup_tokens WHERE token_hash = ?
		AND NOT EXISTS (SELECT 1 FROM members WHERE role = 'admin' AND status = 'active')`, tokenHash(token))
	if err != nil {
		return fmt.Errorf("governance: check setup token: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Setup creates the founding admin with the one-time token, which stops
// working at once.
func (s *Service) Setup(ctx context.Context, token string, d Details) (Member, error) {
	// A spent or unknown link is gone whatever was typed into its form:
	// an unknown token is not found, and a known one is spent once the
	// co-op has an admin. (The transaction below checks both again.)
	var known int
	if err := s.db.R.GetContext(ctx, &known, `SELECT count(*) FROM setup_tokens WHERE token_hash = ?`, tokenHash(token)); err != nil {
		return Member{}, fmt.Errorf("governance: check setup token: %w", err)
	}
	if known == 0 {
		return Member{}, ErrNotFound
	}
	if has, err := s.HasAdmin(ctx); err != nil || has {
		return Member{}, cmp.Or(err, ErrSetupDone)
	}
	return s.createMember(ctx, d, false, func(tx *sqlx.Tx, m *Member) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens WHERE token_hash = ?`, tokenHash(token))
		if err != nil {
			return fmt.Errorf("governance: use setup token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if err := noAdminYet(ctx, tx); err != nil {
			return err
		}
		m.Role, m.Status = RoleAdmin, StatusActive
		return nil
	}, func(tx *sqlx.Tx, m Member) error {
		return appendEntry(ctx, tx, s.now(), ledger.Founded{Member: m.ID})
	})
}

func noAdminYet(ctx context.Context, tx *sqlx.Tx) error {
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM members WHERE role = 'admin' AND status = 'active'`); err != nil {
		return err
	}
	if n > 0 {
		return ErrSetupDone
	}
	return nil
}

// AddMember creates an active member directly, for the command line
// (`plenary member add`), which only the operator can run. The first admin
// added this way founds the co-op; later ones are admitted by member 0,
// meaning the operator, on the ledger.
func (s *Service) AddMember(ctx context.Context, d Details, role string) (Member, error) {
	if err := check.Struct(roleChoice{role}).Err(); err != nil {
		return Member{}, err
	}
	founding := false
	return s.createMember(ctx, d, false, func(tx *sqlx.Tx, m *Member) error {
		founding = role == RoleAdmin && noAdminYet(ctx, tx) == nil
		m.Role, m.Status = role, StatusActive
		return nil
	}, func(tx *sqlx.Tx, m Member) error {
		if founding {
			return appendEntry(ctx, tx, s.now(), ledger.Founded{Member: m.ID})
		}
		if err := appendEntry(ctx, tx, s.now(), ledger.Admitted{Member: m.ID, By: 0}); err != nil {
			return err
		}
		if role == RoleAdmin {
			return appendEntry(ctx, tx, s.now(), ledger.RoleChanged{Member: m.ID, By: 0, Role: RoleAdmin})
		}
		return nil
	})
}
