package governance_test

import (
	"errors"
	"testing"

	"plenary/governance"
)

// TestSuspendedMemberMayOnlyVote: a suspended member may log in to vote
// in the ballots whose roll they are on, and nothing else; their name,
// email and password stay as they were until they are reinstated.
func TestSuspendedMemberMayOnlyVote(t *testing.T) {
	c := newCoop(t)
	m := c.member(t, 1, governance.StatusActive, c.admin)
	p := c.propose(t, c.admin, motion("Move the office"))
	if err := c.s.Suspend(c.ctx, c.admin, m.ID, "Abusive comments in the forum."); err != nil {
		t.Fatal(err)
	}
	// A fresh login: the member the server would hold for the session.
	m, err := c.s.Login(c.ctx, m.EmailAddress(), password, "192.0.2.1")
	if err != nil {
		t.Fatalf("a suspended member logs in: %v", err)
	}
	if m.Status != governance.StatusSuspended || m.MayEditAccount() {
		t.Fatalf("the member is %s and MayEditAccount is %t, want suspended and false", m.Status, m.MayEditAccount())
	}
	const newPassword = "plural mutual ledger aspidistra"

	changes := []struct {
		name   string
		change func() error
	}{
		{"their name", func() error { return c.s.UpdateName(c.ctx, m.ID, "Someone Else") }},
		{"their email", func() error { return c.s.ChangeEmail(c.ctx, m.ID, password, "someone.else@example.org") }},
		{"their password", func() error { _, err := c.s.ChangePassword(c.ctx, m.ID, password, newPassword); return err }},
	}
	for _, ch := range changes {
		t.Run("a suspended member cannot change "+ch.name, func(t *testing.T) {
			before := c.snapshot(t)
			err := ch.change()
			if !errors.Is(err, governance.ErrSuspended) || !errors.Is(err, governance.ErrForbidden) {
				t.Errorf("err = %v, want ErrSuspended, a kind of ErrForbidden", err)
			}
			if after := c.snapshot(t); after != before {
				t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}

	t.Run("a suspended member still votes in a ballot whose roll they are on", func(t *testing.T) {
		c.vote(t, m, p, governance.ChoiceYes)
	})

	t.Run("once reinstated, the member changes their details again", func(t *testing.T) {
		if err := c.s.Reinstate(c.ctx, c.admin, m.ID); err != nil {
			t.Fatal(err)
		}
		for _, ch := range changes {
			if err := ch.change(); err != nil {
				t.Errorf("change %s: %v", ch.name, err)
			}
		}
		if got := c.get(t, m.ID); got.Name != "Someone Else" || got.EmailAddress() != "someone.else@example.org" {
			t.Errorf("after the changes the member is %q <%s>", got.Name, got.EmailAddress())
		}
	})

	t.Run("an applicant keeps their details up to date", func(t *testing.T) {
		a := c.member(t, 2, governance.StatusApplicant, c.admin)
		if !a.MayEditAccount() {
			t.Error("MayEditAccount is false for an applicant")
		}
		if err := c.s.UpdateName(c.ctx, a.ID, "Ada Byron"); err != nil {
			t.Error(err)
		}
	})
}
