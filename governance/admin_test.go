package governance_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

func TestAdminDecisions(t *testing.T) {
	type act func(e *env, actor governance.Member, id int64) error
	tests := []struct {
		name       string
		from       string // the state the decision applies to
		wrongFrom  string // a state it does not
		act        act
		kind       string
		wantStatus string
		wantRole   string
		wantReason string
		bumps      bool // logs the member out everywhere
	}{
		{
			name: "approving an applicant admits them", from: governance.StatusApplicant, wrongFrom: governance.StatusActive,
			act:  func(e *env, a governance.Member, id int64) error { return e.s.Approve(e.ctx, a, id) },
			kind: governance.EventAdmitted, wantStatus: governance.StatusActive, wantRole: governance.RoleMember,
		},
		{
			name: "rejecting an applicant records the reason", from: governance.StatusApplicant, wrongFrom: governance.StatusSuspended,
			act: func(e *env, a governance.Member, id int64) error {
				return e.s.Reject(e.ctx, a, id, "  We only admit people who work in the sector. ")
			},
			kind: governance.EventRejected, wantStatus: governance.StatusRejected, wantRole: governance.RoleMember,
			wantReason: "We only admit people who work in the sector.", bumps: true,
		},
		{
			name: "suspending an active member logs them out", from: governance.StatusActive, wrongFrom: governance.StatusApplicant,
			act: func(e *env, a governance.Member, id int64) error {
				return e.s.Suspend(e.ctx, a, id, "Abusive comments in the forum.")
			},
			kind: governance.EventSuspended, wantStatus: governance.StatusSuspended, wantRole: governance.RoleMember,
			wantReason: "Abusive comments in the forum.", bumps: true,
		},
		{
			name: "reinstating a suspended member lifts the suspension", from: governance.StatusSuspended, wrongFrom: governance.StatusActive,
			act:  func(e *env, a governance.Member, id int64) error { return e.s.Reinstate(e.ctx, a, id) },
			kind: governance.EventReinstated, wantStatus: governance.StatusActive, wantRole: governance.RoleMember,
		},
		{
			name: "setting an active member's role makes them an admin", from: governance.StatusActive, wrongFrom: governance.StatusSuspended,
			act: func(e *env, a governance.Member, id int64) error {
				return e.s.SetRole(e.ctx, a, id, governance.RoleAdmin)
			},
			kind: governance.EventRoleChanged, wantStatus: governance.StatusActive, wantRole: governance.RoleAdmin,
		},
		{
			name: "marking a member as left ends their membership", from: governance.StatusActive, wrongFrom: governance.StatusApplicant,
			act:  func(e *env, a governance.Member, id int64) error { return e.s.MarkLeft(e.ctx, a, id) },
			kind: governance.EventLeft, wantStatus: governance.StatusLeft, wantRole: governance.RoleMember, bumps: true,
		},
		{
			name: "erasing a member wipes their personal data", from: governance.StatusActive, wrongFrom: erased,
			act:  func(e *env, a governance.Member, id int64) error { return e.s.Erase(e.ctx, a, id, true) },
			kind: governance.EventErased, wantStatus: governance.StatusLeft, wantRole: governance.RoleMember, bumps: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			admin := e.admin(t, 0)
			outsider := e.member(t, 1, governance.StatusActive, admin)
			target := e.member(t, 2, tt.from, admin)
			wrong := e.member(t, 3, tt.wrongFrom, admin)
			everyone := []governance.Details{details(0), details(1), details(2), details(3)}

			t.Run("it is refused to a member who is not an admin, changing nothing", func(t *testing.T) {
				before := e.snapshot(t)
				if err := tt.act(e, outsider, target.ID); !errors.Is(err, governance.ErrForbidden) {
					t.Errorf("err = %v, want ErrForbidden", err)
				}
				// The actor is checked against the database, not the caller's copy.
				forged := outsider
				forged.Role = governance.RoleAdmin
				if err := tt.act(e, forged, target.ID); !errors.Is(err, governance.ErrForbidden) {
					t.Errorf("with a forged admin role: err = %v, want ErrForbidden", err)
				}
				if err := tt.act(e, governance.Member{ID: 9999, Role: governance.RoleAdmin, Status: governance.StatusActive}, target.ID); !errors.Is(err, governance.ErrForbidden) {
					t.Errorf("by an unknown member: err = %v, want ErrForbidden", err)
				}
				if after := e.snapshot(t); after != before {
					t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
				}
			})

			t.Run("it is refused for a member in the wrong state, changing nothing", func(t *testing.T) {
				before := e.snapshot(t)
				err := tt.act(e, admin, wrong.ID)
				var v governance.ValidationError
				if !errors.As(err, &v) {
					t.Fatalf("err = %v, want a ValidationError", err)
				}
				if v[""] == "" {
					t.Errorf("ValidationError %v has no message for the whole input", v)
				}
				if after := e.snapshot(t); after != before {
					t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
				}
			})

			t.Run("it is refused for an unknown member", func(t *testing.T) {
				before := e.snapshot(t)
				if err := tt.act(e, admin, 9999); !errors.Is(err, governance.ErrNotFound) {
					t.Errorf("err = %v, want ErrNotFound", err)
				}
				if after := e.snapshot(t); after != before {
					t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
				}
			})

			t.Run("an admin's decision changes the member and appends one ledger entry by number", func(t *testing.T) {
				e.clock.Advance(time.Hour)
				entriesBefore := e.entries(t)
				if err := tt.act(e, admin, target.ID); err != nil {
					t.Fatal(err)
				}
				got := e.get(t, target.ID)
				if got.Status != tt.wantStatus || got.Role != tt.wantRole {
					t.Errorf("status %q role %q, want %q %q", got.Status, got.Role, tt.wantStatus, tt.wantRole)
				}
				if got.StatusReason != tt.wantReason {
					t.Errorf("status reason = %q, want %q", got.StatusReason, tt.wantReason)
				}
				wantVersion := target.SessionVersion
				if tt.bumps {
					wantVersion++
				}
				if got.SessionVersion != wantVersion {
					t.Errorf("session version = %d, want %d", got.SessionVersion, wantVersion)
				}
				if tt.bumps {
					if _, err := e.s.SessionMember(e.ctx, target.ID, target.SessionVersion); !errors.Is(err, governance.ErrNotFound) {
						t.Errorf("the member's old session: err = %v, want ErrNotFound", err)
					}
				}

				entries := e.entries(t)
				if len(entries) != len(entriesBefore)+1 {
					t.Fatalf("ledger entries = %d, want %d", len(entries), len(entriesBefore)+1)
				}
				for i, old := range entriesBefore {
					if entries[i] != old {
						t.Errorf("ledger entry %d changed: %+v, was %+v", old.Seq, entries[i], old)
					}
				}
				last := entries[len(entries)-1]
				checkEntry(t, last, tt.kind, target.ID, admin.ID)
				if tt.kind == governance.EventRoleChanged && last.Fields()["role"] != governance.RoleAdmin {
					t.Errorf("role change body %s, want the new role", last.Body)
				}
				if tt.wantReason != "" && strings.Contains(last.Body, tt.wantReason) {
					t.Errorf("the reason is on the public ledger: %s", last.Body)
				}
				wantAt := e.clock.Now().Format(time.RFC3339Nano)
				if last.At != wantAt {
					t.Errorf("entry time %q, want the clock's %q", last.At, wantAt)
				}
				if _, _, err := e.s.VerifyLedger(e.ctx); err != nil {
					t.Errorf("verify ledger: %v", err)
				}
				e.checkAnonymous(t, everyone...)
			})

			t.Run("the same decision a second time is refused, changing nothing", func(t *testing.T) {
				before := e.snapshot(t)
				var v governance.ValidationError
				if err := tt.act(e, admin, target.ID); !errors.As(err, &v) {
					t.Errorf("err = %v, want a ValidationError", err)
				}
				if after := e.snapshot(t); after != before {
					t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
				}
			})
		})
	}
}

func TestApprove(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusApplicant, admin)

	t.Run("an approved applicant joins on the day of approval and can take part", func(t *testing.T) {
		e.clock.Advance(72 * time.Hour)
		if err := e.s.Approve(e.ctx, admin, m.ID); err != nil {
			t.Fatal(err)
		}
		got := e.get(t, m.ID)
		if got.JoinedAt == nil || !got.JoinedAt.Equal(e.clock.Now()) {
			t.Errorf("joined at %v, want %v", got.JoinedAt, e.clock.Now())
		}
		if !got.AppliedAt.Equal(m.AppliedAt) {
			t.Errorf("applied at %v changed from %v", got.AppliedAt, m.AppliedAt)
		}
		if !got.IsActive() {
			t.Error("the approved member is not active")
		}
	})
}

func TestReject(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusApplicant, admin)

	tests := []struct {
		name, reason, want string
	}{
		{"a rejection without a reason is refused", "   ", "Give a reason: the applicant will see it."},
		{"a reason over 500 characters is refused", strings.Repeat("x", 501), "Keep the reason under 500 characters."},
		{"a reason with invalid UTF-8 is refused", "no \xff thanks", "The reason contains invalid characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			wantValidation(t, e.s.Reject(e.ctx, admin, m.ID, tt.reason), "reason", tt.want)
			if after := e.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestSetRole(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)

	t.Run("an unknown role is refused", func(t *testing.T) {
		before := e.snapshot(t)
		wantValidation(t, e.s.SetRole(e.ctx, admin, m.ID, "owner"), "role", "Choose member or admin.")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("giving a member the role they have is refused", func(t *testing.T) {
		before := e.snapshot(t)
		wantValidation(t, e.s.SetRole(e.ctx, admin, m.ID, governance.RoleMember), "", "Nothing to change.")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("a new admin can decide, and an admin made a member again cannot", func(t *testing.T) {
		other := e.member(t, 2, governance.StatusApplicant, admin)
		if err := e.s.SetRole(e.ctx, admin, m.ID, governance.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := e.s.SetRole(e.ctx, e.get(t, m.ID), admin.ID, governance.RoleMember); err != nil {
			t.Fatalf("the new admin demotes the founder: %v", err)
		}
		checkEntry(t, e.lastEntry(t), governance.EventRoleChanged, admin.ID, m.ID)
		if err := e.s.Approve(e.ctx, admin, other.ID); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("the demoted founder approves: err = %v, want ErrForbidden", err)
		}
	})
}

func TestErase(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	m := e.member(t, 1, governance.StatusActive, admin)
	applicant := e.member(t, 2, governance.StatusApplicant, admin)
	// Give member m some history on the ledger before erasing them.
	if err := e.s.Suspend(e.ctx, admin, m.ID, "Pending an inquiry."); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Reinstate(e.ctx, admin, m.ID); err != nil {
		t.Fatal(err)
	}

	t.Run("erasure must be confirmed", func(t *testing.T) {
		before := e.snapshot(t)
		wantValidation(t, e.s.Erase(e.ctx, admin, m.ID, false), "confirm", "cannot be undone")
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("the number, status history and ledger stay while the personal data goes", func(t *testing.T) {
		entriesBefore := e.entries(t)
		if err := e.s.Erase(e.ctx, admin, m.ID, true); err != nil {
			t.Fatal(err)
		}
		got := e.get(t, m.ID)
		if got.ID != m.ID {
			t.Errorf("member number %d, want %d", got.ID, m.ID)
		}
		if got.Name != "" || got.Email != nil || got.PasswordHash != nil || got.Statement != "" || got.StatusReason != "" {
			t.Errorf("after erasure: name %q email %v hash %v statement %q reason %q; want all wiped",
				got.Name, got.Email, got.PasswordHash, got.Statement, got.StatusReason)
		}
		if got.ErasedAt == nil || !got.ErasedAt.Equal(e.clock.Now()) {
			t.Errorf("erased at %v, want %v", got.ErasedAt, e.clock.Now())
		}
		if got.JoinedAt == nil || !got.AppliedAt.Equal(m.AppliedAt) {
			t.Errorf("dates lost: applied %v joined %v", got.AppliedAt, got.JoinedAt)
		}
		if want := "Member 2 (erased)"; got.DisplayName() != want {
			t.Errorf("display name %q, want %q", got.DisplayName(), want)
		}
		// Nothing matching the person is left in the members table.
		p := details(1)
		if n := e.count(t, `SELECT count(*) FROM members WHERE name = ? OR email = ?`, p.Name, p.Email); n != 0 {
			t.Errorf("%d rows still hold the erased member's data", n)
		}
		entries := e.entries(t)
		if len(entries) != len(entriesBefore)+1 {
			t.Fatalf("ledger entries = %d, want %d", len(entries), len(entriesBefore)+1)
		}
		for i, old := range entriesBefore {
			if entries[i] != old {
				t.Errorf("ledger entry %d changed by erasure", old.Seq)
			}
		}
		checkEntry(t, entries[len(entries)-1], governance.EventErased, m.ID, admin.ID)
		if _, _, err := e.s.VerifyLedger(e.ctx); err != nil {
			t.Errorf("verify ledger after erasure: %v", err)
		}
		e.checkAnonymous(t, details(0), details(1), details(2))
	})

	t.Run("an erased applicant is recorded as rejected", func(t *testing.T) {
		if err := e.s.Erase(e.ctx, admin, applicant.ID, true); err != nil {
			t.Fatal(err)
		}
		if got := e.get(t, applicant.ID); got.Status != governance.StatusRejected || got.ErasedAt == nil {
			t.Errorf("status %q erased %v, want rejected and erased", got.Status, got.ErasedAt)
		}
	})

	t.Run("nothing more can be decided about an erased member", func(t *testing.T) {
		before := e.snapshot(t)
		for _, attempt := range []struct {
			name string
			err  error
		}{
			{"reinstate", e.s.Reinstate(e.ctx, admin, m.ID)},
			{"erase again", e.s.Erase(e.ctx, admin, m.ID, true)},
			{"approve", e.s.Approve(e.ctx, admin, applicant.ID)},
		} {
			if msg, ok := isValidation(attempt.err, ""); !ok || !strings.Contains(msg, "erased") {
				t.Errorf("%s: err = %v, want a ValidationError saying the data is erased", attempt.name, attempt.err)
			}
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})

	t.Run("the erased email can be used again", func(t *testing.T) {
		d := details(1)
		if _, err := e.s.Apply(e.ctx, d); err != nil {
			t.Errorf("apply again with the erased email: %v", err)
		}
	})
}

func TestLastAdmin(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)

	refusals := []struct {
		name string
		act  func() error
	}{
		{"the last admin cannot make themself a member", func() error { return e.s.SetRole(e.ctx, admin, admin.ID, governance.RoleMember) }},
		{"the last admin cannot be suspended", func() error { return e.s.Suspend(e.ctx, admin, admin.ID, "") }},
		{"the last admin cannot be marked as left", func() error { return e.s.MarkLeft(e.ctx, admin, admin.ID) }},
		{"the last admin cannot be erased", func() error { return e.s.Erase(e.ctx, admin, admin.ID, true) }},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot(t)
			if err := tt.act(); !errors.Is(err, governance.ErrLastAdmin) {
				t.Errorf("err = %v, want ErrLastAdmin", err)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("the database itself refuses to remove the last admin", func(t *testing.T) {
		for _, q := range []string{
			`UPDATE members SET role = 'member' WHERE id = ?`,
			`UPDATE members SET status = 'suspended' WHERE id = ?`,
			`UPDATE members SET status = 'left', role = 'member' WHERE id = ?`,
		} {
			before := e.snapshot(t)
			_, err := e.d.W.ExecContext(e.ctx, q, admin.ID)
			if err == nil || !strings.Contains(err.Error(), "plenary: last admin") {
				t.Errorf("%s: err = %v, want the last-admin trigger", q, err)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("%s changed the database:\nbefore %s\nafter  %s", q, before, after)
			}
		}
	})

	t.Run("with a second admin one of them can step down, but not both", func(t *testing.T) {
		second := e.admin(t, 1)
		before := e.snapshot(t)
		_, err := e.d.W.ExecContext(e.ctx, `UPDATE members SET role = 'member' WHERE role = 'admin'`)
		if err == nil || !strings.Contains(err.Error(), "plenary: last admin") {
			t.Errorf("demoting every admin at once: err = %v, want the last-admin trigger", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}

		if err := e.s.SetRole(e.ctx, admin, admin.ID, governance.RoleMember); err != nil {
			t.Fatalf("the founder steps down with a second admin in place: %v", err)
		}
		if err := e.s.Suspend(e.ctx, second, second.ID, ""); !errors.Is(err, governance.ErrLastAdmin) {
			t.Errorf("the second, now last, admin suspends themself: err = %v, want ErrLastAdmin", err)
		}
	})
}

func TestDecisionsByAdminNoLongerActive(t *testing.T) {
	e := newEnv(t)
	founder := e.admin(t, 0)
	second := e.admin(t, 1)
	applicant := e.member(t, 2, governance.StatusApplicant, founder)
	if err := e.s.Suspend(e.ctx, founder, second.ID, "Pending an inquiry."); err != nil {
		t.Fatal(err)
	}

	t.Run("a suspended admin's stale copy of themself decides nothing", func(t *testing.T) {
		before := e.snapshot(t)
		if err := e.s.Approve(e.ctx, second, applicant.ID); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		if _, _, err := e.s.Invite(e.ctx, second, "", 0); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("invite: err = %v, want ErrForbidden", err)
		}
		if after := e.snapshot(t); after != before {
			t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}
