package governance

import (
	"context"
	"testing"
	"time"

	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
)

// A crash between a secret ballot's close and the rewrite of its box leaves
// the ballot in box_rewrites, and the next Advance, in whichever process,
// rewrites it once: the close is not repeated and the tally stands.
func TestBoxRewriteAfterCrash(t *testing.T) {
	ctx := context.Background()
	path := dbtest.Path(t)
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	d := dbtest.OpenPath(t, path)
	s := New(d, clock.Now)
	members := seedVoters(t, s, 9)
	p, err := s.Propose(ctx, members[0], ProposalInput{Kind: KindMotion, Title: "A motion closed by a crash", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if !*p.Secret {
		t.Fatalf("proposal %d is an open ballot; the test is of a secret one", p.ID)
	}
	votes, yes, no, abstain := everyoneVotes(members)
	for i, v := range votes {
		if _, err := s.Vote(ctx, members[i], p.ID, v.Choice, ""); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(p.ClosesAt.Add(time.Minute))

	// The close commits; the process dies before the rewrite.
	if err := s.openAndClose(ctx); err != nil {
		t.Fatal(err)
	}
	pending := func() []int64 {
		t.Helper()
		var ids []int64
		if err := d.R.SelectContext(ctx, &ids, `SELECT proposal_id FROM box_rewrites`); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := pending(); len(got) != 1 || got[0] != p.ID {
		t.Fatalf("after the close, box_rewrites holds %v, want [%d]", got, p.ID)
	}
	writers := func(table string) int {
		t.Helper()
		if !d.IsPostgres() {
			return -1
		}
		var n int
		if err := d.R.GetContext(ctx, &n, `SELECT count(DISTINCT xmin::text) FROM `+table+` WHERE proposal_id = ?`, p.ID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if d.IsPostgres() && writers("ballot_box") == 1 {
		t.Fatal("the box was written by one transaction before its rewrite: the test proves nothing")
	}

	// Another process, or this one restarted, advances.
	s2 := New(dbtest.OpenPath(t, path), clock.Now)
	if err := s2.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pending(); len(got) != 0 {
		t.Errorf("after the next Advance, box_rewrites holds %v, want none", got)
	}
	if d.IsPostgres() {
		for _, table := range []string{"ballot_box", "roll"} {
			if n := writers(table); n != 1 {
				t.Errorf("the ballot's %s rows were written by %d transactions after the rewrite, want 1", table, n)
			}
		}
	}
	got, err := getProposal(ctx, d.R, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tally, ok := got.Tally(); !ok || tally.Yes != yes || tally.No != no || tally.Abstain != abstain {
		t.Errorf("after the rewrite the ballot reads %+v, want %d yes, %d no, %d abstain", tally, yes, no, abstain)
	}
	var closes int
	if err := d.R.GetContext(ctx, &closes, `SELECT count(*) FROM ledger WHERE kind = 'ballot.closed'`); err != nil || closes != 1 {
		t.Errorf("%d ballot.closed entries (%v), want 1", closes, err)
	}
	if _, err := s2.VerifyTally(ctx, p.ID); err != nil {
		t.Errorf("the rewritten box does not verify: %v", err)
	}
	// Nothing left to do: a third Advance changes nothing.
	if err := s.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if d.IsPostgres() && writers("ballot_box") != 1 {
		t.Error("a later Advance wrote the box again")
	}
}
