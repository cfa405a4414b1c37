package governance_test

import (
	"fmt"
	"slices"
	"testing"

	"plenary/governance"
)

// A member's view of a ballot tells its turnout: while it runs the number
// follows every vote; once the ballot has closed it is the number who
// voted, for every member and on every later read (a closed ballot's is
// kept rather than counted again: issue 17).
func TestParticipationTurnout(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 3)
	r := c.resource(t, "Ours to Share")
	p := c.propose(t, ms[0], governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse it",
		ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"})
	turnout := func(t *testing.T, viewer governance.Member) int {
		t.Helper()
		part, err := c.s.Participation(c.ctx, viewer, c.proposal(t, p.ID))
		if err != nil {
			t.Fatal(err)
		}
		return part.Turnout
	}

	t.Run("while the ballot runs, the turnout follows every vote", func(t *testing.T) {
		for i, m := range ms[:2] {
			c.vote(t, m, p, governance.ChoiceYes)
			if got := turnout(t, ms[2]); got != i+1 {
				t.Errorf("after %d votes the turnout reads %d", i+1, got)
			}
		}
	})

	t.Run("once it has closed, every member reads the number who voted, read after read", func(t *testing.T) {
		c.finish(t, p)
		for range 2 {
			for _, m := range append([]governance.Member{c.admin}, ms...) {
				if got := turnout(t, m); got != 2 {
					t.Errorf("member %d reads a turnout of %d, want 2", m.ID, got)
				}
			}
		}
	})
}

// The forms that offer the active members to pick from (proxies, meetings,
// elections) get them all in a small co-op and none in a larger one.
func TestActiveMembersUpTo(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 2)
	want := []int64{ms[1].ID, ms[0].ID, c.admin.ID} // newest first

	t.Run("as many active members as asked for, or fewer, are listed", func(t *testing.T) {
		for _, n := range []int{3, 4} {
			got, err := c.s.ActiveMembersUpTo(c.ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if !slices.Equal(ids, want) {
				t.Errorf("up to %d: members %v, want %v", n, ids, want)
			}
		}
	})

	t.Run("more active members than asked for are not listed at all", func(t *testing.T) {
		got, err := c.s.ActiveMembersUpTo(c.ctx, 2)
		if err != nil || got != nil {
			t.Errorf("up to 2 of 3: %d members, %v; want none", len(got), err)
		}
	})
}
