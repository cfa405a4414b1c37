package governance_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
)

const day = 24 * time.Hour

func TestInvite(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	outsider := e.member(t, 1, governance.StatusActive, admin)

	valid := []struct {
		name string
		days int
		want time.Duration
	}{
		{"no number of days gives the default of 14", 0, 14 * day},
		{"one day is the shortest", 1, day},
		{"thirty days can be chosen", 30, 30 * day},
		{"ninety days is the longest", 90, 90 * day},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.entries(t))
			inv, token, err := e.s.Invite(e.ctx, admin, "For the Leeds branch", tt.days)
			if err != nil {
				t.Fatal(err)
			}
			if !inv.CreatedAt.Equal(e.clock.Now()) {
				t.Errorf("created at %v, want %v", inv.CreatedAt, e.clock.Now())
			}
			if got := inv.ExpiresAt.Sub(inv.CreatedAt); got != tt.want {
				t.Errorf("works for %v, want %v", got, tt.want)
			}
			stored, err := e.s.OpenInvitation(e.ctx, token)
			if err != nil {
				t.Fatalf("open the new invitation: %v", err)
			}
			if stored.ID != inv.ID || !stored.ExpiresAt.Equal(inv.ExpiresAt) || stored.Note != "For the Leeds branch" || stored.CreatedBy != admin.ID {
				t.Errorf("stored %+v, want %+v", stored, inv)
			}
			if n := e.count(t, `SELECT count(*) FROM invitations WHERE token_hash = ?`, token); n != 0 {
				t.Error("the token itself is stored; only its hash should be")
			}
			entries := e.entries(t)
			if len(entries) != before+1 {
				t.Fatalf("ledger entries = %d, want %d", len(entries), before+1)
			}
			last := entries[len(entries)-1]
			f := last.Fields()
			if last.Kind != governance.EventInvitationCreated || f["invitation"] != float64(inv.ID) || f["by"] != float64(admin.ID) {
				t.Errorf("ledger entry %s %s, want invitation.created of %d by %d", last.Kind, last.Body, inv.ID, admin.ID)
			}
			if strings.Contains(last.Body, "Leeds") {
				t.Errorf("the note is on the public ledger: %s", last.Body)
			}
		})
	}

	refused := []struct {
		name  string
		actor governance.Member
		note  string
		days  int
		field string
		want  string
	}{
		{"a negative number of days is refused", admin, "", -1, "days", "Choose between 1 and 90 days."},
		{"more than ninety days are refused", admin, "", 91, "days", "Choose between 1 and 90 days."},
		{"a year is refused", admin, "", 365, "days", "Choose between 1 and 90 days."},
		{"a note over 200 characters is refused", admin, strings.Repeat("n", 201), 0, "note", "Keep the note under 200 characters."},
		{"a note with a control character is refused", admin, "for\x1bbob", 0, "note", "The note contains invalid characters."},
		{"a note with invalid UTF-8 is refused", admin, "for \xff", 0, "note", "The note contains invalid characters."},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			_, token, err := e.s.Invite(e.ctx, tt.actor, tt.note, tt.days)
			wantValidation(t, err, tt.field, tt.want)
			if token != "" {
				t.Errorf("a token %q was handed out for a refused invitation", token)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("a member who is not an admin cannot invite", func(t *testing.T) {
		before := e.snapshot(t)
		_, token, err := e.s.Invite(e.ctx, outsider, "", 0)
		if !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		if token != "" {
			t.Errorf("a token %q was handed out", token)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("the list shows invitations newest first", func(t *testing.T) {
		invs, err := e.s.Invitations(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != len(valid) {
			t.Fatalf("invitations = %d, want %d", len(invs), len(valid))
		}
		for i := 1; i < len(invs); i++ {
			if invs[i-1].ID < invs[i].ID {
				t.Errorf("invitation %d listed before %d", invs[i-1].ID, invs[i].ID)
			}
		}
	})
}

func TestAcceptInvitation(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	inv, token, err := e.s.Invite(e.ctx, admin, "", 0)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("an unknown token is not found", func(t *testing.T) {
		before := e.snapshot(t)
		if _, err := e.s.AcceptInvitation(e.ctx, "not-a-token", details(1)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("invalid details are refused and the link still works", func(t *testing.T) {
		before := e.snapshot(t)
		d := details(1)
		d.Password = "password123"
		_, err := e.s.AcceptInvitation(e.ctx, token, d)
		wantValidation(t, err, "password", "among the most common")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
		if _, err := e.s.OpenInvitation(e.ctx, token); err != nil {
			t.Errorf("the invitation after a refused attempt: %v", err)
		}
	})

	t.Run("an email already taken is refused and the link still works", func(t *testing.T) {
		d := details(1)
		d.Email = strings.ToUpper(details(0).Email)
		_, err := e.s.AcceptInvitation(e.ctx, token, d)
		wantValidation(t, err, "email", "There is already an account")
		if _, err := e.s.OpenInvitation(e.ctx, token); err != nil {
			t.Errorf("the invitation after a refused attempt: %v", err)
		}
	})

	t.Run("the invitation makes an active member, without a statement", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		d := details(1)
		d.Statement = ""
		m, err := e.s.AcceptInvitation(e.ctx, token, d)
		if err != nil {
			t.Fatal(err)
		}
		got := e.get(t, m.ID)
		if got.Status != governance.StatusActive || got.Role != governance.RoleMember {
			t.Errorf("status %q role %q, want an active member", got.Status, got.Role)
		}
		if got.JoinedAt == nil || !got.JoinedAt.Equal(e.clock.Now()) {
			t.Errorf("joined at %v, want %v", got.JoinedAt, e.clock.Now())
		}
		invs, err := e.s.Invitations(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != 1 || invs[0].UsedBy == nil || *invs[0].UsedBy != m.ID || invs[0].State(e.clock.Now()) != "used" {
			t.Errorf("invitation after use: %+v, want used by %d", invs, m.ID)
		}
		last := e.lastEntry(t)
		checkEntry(t, last, governance.EventAdmitted, m.ID, admin.ID)
		if last.Fields()["invitation"] != float64(inv.ID) {
			t.Errorf("admission entry %s does not name invitation %d", last.Body, inv.ID)
		}
		e.checkAnonymous(t, details(0), details(1))
	})

	t.Run("a used invitation does not work a second time", func(t *testing.T) {
		before := e.snapshot(t)
		if _, err := e.s.OpenInvitation(e.ctx, token); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("open: err = %v, want ErrNotFound", err)
		}
		if _, err := e.s.AcceptInvitation(e.ctx, token, details(2)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("accept: err = %v, want ErrNotFound", err)
		}
		if n := e.count(t, `SELECT count(*) FROM members WHERE email = ?`, details(2).Email); n != 0 {
			t.Errorf("a second member was made with a used invitation")
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestInvitationExpiry(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	_, token, err := e.s.Invite(e.ctx, admin, "", 0)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the link works until the last second of its fourteen days", func(t *testing.T) {
		e.clock.Advance(14*day - time.Second)
		if _, err := e.s.OpenInvitation(e.ctx, token); err != nil {
			t.Errorf("one second before expiry: %v", err)
		}
	})

	t.Run("an expired link is refused", func(t *testing.T) {
		e.clock.Advance(time.Second)
		before := e.snapshot(t)
		if _, err := e.s.OpenInvitation(e.ctx, token); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("open: err = %v, want ErrNotFound", err)
		}
		if _, err := e.s.AcceptInvitation(e.ctx, token, details(1)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("accept: err = %v, want ErrNotFound", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
		invs, err := e.s.Invitations(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := invs[0].State(e.clock.Now()); got != "expired" {
			t.Errorf("state = %q, want expired", got)
		}
	})

	t.Run("a custom short link expires after its own days", func(t *testing.T) {
		_, token, err := e.s.Invite(e.ctx, admin, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2*day + time.Second)
		if _, err := e.s.AcceptInvitation(e.ctx, token, details(1)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("accept: err = %v, want ErrNotFound", err)
		}
	})
}

func TestRevokeInvitation(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	outsider := e.member(t, 1, governance.StatusActive, admin)
	inv, token, err := e.s.Invite(e.ctx, admin, "", 0)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a member who is not an admin cannot revoke", func(t *testing.T) {
		before := e.snapshot(t)
		if err := e.s.RevokeInvitation(e.ctx, outsider, inv.ID); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("an unknown invitation is not found", func(t *testing.T) {
		if err := e.s.RevokeInvitation(e.ctx, admin, 9999); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("a revoked link is refused", func(t *testing.T) {
		if err := e.s.RevokeInvitation(e.ctx, admin, inv.ID); err != nil {
			t.Fatal(err)
		}
		last := e.lastEntry(t)
		if f := last.Fields(); last.Kind != governance.EventInvitationRevoked || f["invitation"] != float64(inv.ID) || f["by"] != float64(admin.ID) {
			t.Errorf("ledger entry %s %s, want invitation.revoked of %d by %d", last.Kind, last.Body, inv.ID, admin.ID)
		}
		before := e.snapshot(t)
		if _, err := e.s.OpenInvitation(e.ctx, token); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("open: err = %v, want ErrNotFound", err)
		}
		if _, err := e.s.AcceptInvitation(e.ctx, token, details(2)); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("accept: err = %v, want ErrNotFound", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("revoking twice is refused", func(t *testing.T) {
		before := e.snapshot(t)
		wantValidation(t, e.s.RevokeInvitation(e.ctx, admin, inv.ID), "", "already been used or revoked")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("a used invitation cannot be revoked", func(t *testing.T) {
		used, token, err := e.s.Invite(e.ctx, admin, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.AcceptInvitation(e.ctx, token, details(2)); err != nil {
			t.Fatal(err)
		}
		before := e.snapshot(t)
		wantValidation(t, e.s.RevokeInvitation(e.ctx, admin, used.ID), "", "already been used or revoked")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestAcceptInvitationConcurrently(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	inv, token, err := e.s.Invite(e.ctx, admin, "", 0)
	if err != nil {
		t.Fatal(err)
	}

	const n = 10
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]error, n)
	members := make([]governance.Member, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			members[i], results[i] = e.s.AcceptInvitation(e.ctx, token, details(i+1))
		}()
	}
	close(start)
	wg.Wait()

	var winner governance.Member
	wins := 0
	for i, err := range results {
		switch {
		case err == nil:
			wins++
			winner = members[i]
		case !errors.Is(err, governance.ErrNotFound):
			t.Errorf("accept %d: err = %v, want nil or ErrNotFound", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent accepts succeeded, want exactly 1", wins, n)
	}
	if got := e.count(t, `SELECT count(*) FROM members`); got != 2 {
		t.Errorf("members = %d, want the admin and one newcomer", got)
	}
	if got := e.count(t, `SELECT count(*) FROM invitations WHERE id = ? AND used_by = ?`, inv.ID, winner.ID); got != 1 {
		t.Errorf("the invitation is not marked used by the one member made")
	}
	if got := e.count(t, `SELECT count(*) FROM ledger WHERE kind = ?`, governance.EventAdmitted); got != 1 {
		t.Errorf("admission entries = %d, want 1", got)
	}
}
