package governance_test

import (
	"errors"
	"testing"

	"plenary/governance"
)

func TestSetup(t *testing.T) {
	t.Run("the setup token founds the co-op once", func(t *testing.T) {
		e := newEnv(t)
		token, err := e.s.NewSetupToken(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.CheckSetupToken(e.ctx, token); err != nil {
			t.Fatalf("check the fresh token: %v", err)
		}
		if n := e.count(t, `SELECT count(*) FROM setup_tokens WHERE token_hash = ?`, token); n != 0 {
			t.Error("the token itself is stored; only its hash should be")
		}

		founder, err := e.s.Setup(e.ctx, token, details(0))
		if err != nil {
			t.Fatal(err)
		}
		got := e.get(t, founder.ID)
		if !got.IsAdmin() || got.JoinedAt == nil {
			t.Errorf("founder role %q status %q joined %v, want an active admin", got.Role, got.Status, got.JoinedAt)
		}
		entries := e.entries(t)
		if len(entries) != 1 || entries[0].Kind != governance.EventFounded || entries[0].Fields()["member"] != float64(founder.ID) {
			t.Errorf("ledger = %+v, want one member.founded entry naming member %d", entries, founder.ID)
		}
		e.checkAnonymous(t, details(0))
		if ok, err := e.s.HasAdmin(e.ctx); err != nil || !ok {
			t.Errorf("HasAdmin = %v, %v; want true", ok, err)
		}

		before := e.snapshot(t)
		if err := e.s.CheckSetupToken(e.ctx, token); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("check the used token: err = %v, want ErrNotFound", err)
		}
		if _, err := e.s.Setup(e.ctx, token, details(1)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("setup a second time: err = %v, want ErrNotFound", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("a new token replaces the one before", func(t *testing.T) {
		e := newEnv(t)
		first, err := e.s.NewSetupToken(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.s.NewSetupToken(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if first == second {
			t.Fatal("two setup tokens are the same")
		}
		if err := e.s.CheckSetupToken(e.ctx, first); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("check the replaced token: err = %v, want ErrNotFound", err)
		}
		if _, err := e.s.Setup(e.ctx, first, details(0)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("setup with the replaced token: err = %v, want ErrNotFound", err)
		}
		if n := e.count(t, `SELECT count(*) FROM members`); n != 0 {
			t.Errorf("members = %d after a refused setup, want 0", n)
		}
		if _, err := e.s.Setup(e.ctx, second, details(0)); err != nil {
			t.Errorf("setup with the current token: %v", err)
		}
	})

	t.Run("invalid details are refused and the token still works", func(t *testing.T) {
		e := newEnv(t)
		token, err := e.s.NewSetupToken(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		before := e.snapshot(t)
		d := details(0)
		d.Email = "not an email"
		_, err = e.s.Setup(e.ctx, token, d)
		wantValidation(t, err, "email", "Enter an email address")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
		if err := e.s.CheckSetupToken(e.ctx, token); err != nil {
			t.Errorf("check the token after a refused setup: %v", err)
		}
	})

	t.Run("no token is made once an admin exists", func(t *testing.T) {
		e := newEnv(t)
		e.admin(t, 0)
		before := e.snapshot(t)
		token, err := e.s.NewSetupToken(e.ctx)
		if !errors.Is(err, governance.ErrSetupDone) {
			t.Errorf("err = %v, want ErrSetupDone", err)
		}
		if token != "" {
			t.Errorf("a token %q was handed out", token)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("a token made before an admin was added stops working", func(t *testing.T) {
		e := newEnv(t)
		token, err := e.s.NewSetupToken(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.admin(t, 0)
		if err := e.s.CheckSetupToken(e.ctx, token); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("check: err = %v, want ErrNotFound", err)
		}
		before := e.snapshot(t)
		if _, err := e.s.Setup(e.ctx, token, details(1)); !errors.Is(err, governance.ErrSetupDone) {
			t.Errorf("setup: err = %v, want ErrSetupDone", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestAddMember(t *testing.T) {
	e := newEnv(t)

	t.Run("the first admin added founds the co-op", func(t *testing.T) {
		m, err := e.s.AddMember(e.ctx, details(0), governance.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if !m.IsAdmin() {
			t.Errorf("role %q status %q, want an active admin", m.Role, m.Status)
		}
		checkEntry(t, e.lastEntry(t), governance.EventFounded, m.ID, 0)
	})

	t.Run("a later admin is admitted and made admin by the operator", func(t *testing.T) {
		before := len(e.entries(t))
		m, err := e.s.AddMember(e.ctx, details(1), governance.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		entries := e.entries(t)
		if len(entries) != before+2 {
			t.Fatalf("ledger entries = %d, want %d", len(entries), before+2)
		}
		checkEntry(t, entries[before], governance.EventAdmitted, m.ID, 0)
		checkEntry(t, entries[before+1], governance.EventRoleChanged, m.ID, 0)
	})

	t.Run("an unknown role is refused", func(t *testing.T) {
		before := e.snapshot(t)
		_, err := e.s.AddMember(e.ctx, details(2), "owner")
		wantValidation(t, err, "role", "Choose member or admin.")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}
