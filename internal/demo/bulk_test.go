package demo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/library"
)

// These tests moved here from package main with the demo: the bulk paths
// live in governance and library, marked for the demo and benchmarks
// only, and the demo is what writes through them.

const testPassword = "correct horse battery staple"

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// The bulk paths apply the rules of their one-at-a-time counterparts.
func TestBulkPaths(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	gov := governance.New(d, func() time.Time { return now })
	lib := library.New(d, func() time.Time { return now })
	admin, err := gov.AddMember(ctx, governance.Details{Name: "Ada Lovelace", Email: "ada@example.org", Password: testPassword}, governance.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a wrong email admits nobody", func(t *testing.T) {
		_, err := gov.AdmitMany(ctx, admin, testPassword, []governance.Newcomer{{Name: "Robert Owen", Email: "robert@example.org"}, {Name: "No Email", Email: "nope"}}, nil)
		var v governance.ValidationError
		if !errors.As(err, &v) || v["email"] == "" {
			t.Errorf("got %v, want a message about the email", err)
		}
		if n := count(t, d, `SELECT count(*) FROM members`); n != 1 {
			t.Errorf("%d members, want only the admin", n)
		}
	})
	t.Run("only an admin admits", func(t *testing.T) {
		_, err := gov.AdmitMany(ctx, governance.Member{ID: 99}, testPassword, []governance.Newcomer{{Name: "Robert Owen", Email: "robert@example.org"}}, nil)
		if !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("got %v, want ErrForbidden", err)
		}
	})
	ids, err := gov.AdmitMany(ctx, admin, testPassword, []governance.Newcomer{
		{Name: "Robert Owen", Email: "robert@example.org"}, {Name: "Beatrice Webb", Email: "beatrice@example.org"}, {Name: "William King", Email: "william@example.org"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a taken email is refused", func(t *testing.T) {
		_, err := gov.AdmitMany(ctx, admin, testPassword, []governance.Newcomer{{Name: "Robert Again", Email: "Robert@example.org"}}, nil)
		var v governance.ValidationError
		if !errors.As(err, &v) || !strings.Contains(v["email"], "already") {
			t.Errorf("got %v, want the email refused as taken", err)
		}
	})

	t.Run("a wrong resource lists none", func(t *testing.T) {
		_, err := lib.ListMany(ctx, library.Viewer{ID: admin.ID, Admin: true}, []library.Submission{
			{By: ids[0], Input: library.ResourceInput{Title: "Fine", URL: "https://example.org/fine", Format: "report"}},
			{By: ids[0], Input: library.ResourceInput{Title: "Bad link", URL: "javascript:alert(1)", Format: "report"}},
		})
		var v library.ValidationError
		if !errors.As(err, &v) || v["url"] == "" {
			t.Errorf("got %v, want a message about the link", err)
		}
		if _, err := lib.ListMany(ctx, library.Viewer{ID: ids[0], Active: true}, nil); !errors.Is(err, library.ErrForbidden) {
			t.Errorf("a member listed resources: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM resources`); n != 0 {
			t.Errorf("%d resources, want none", n)
		}
	})

	motion, err := gov.Propose(ctx, admin, governance.ProposalInput{Kind: governance.KindMotion, Title: "Meet in spring", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	late, err := gov.AdmitMany(ctx, admin, testPassword, []governance.Newcomer{{Name: "Late Comer", Email: "late@example.org"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		votes []governance.CastVote
		want  error
	}{
		{"a member not on the roll", []governance.CastVote{{Member: ids[0], Choice: "yes"}, {Member: late[0], Choice: "yes"}}, governance.ErrNotOnRoll},
		{"a member listed twice", []governance.CastVote{{Member: ids[0], Choice: "yes"}, {Member: ids[0], Choice: "no"}}, governance.ErrAlreadyVoted},
		{"a choice that is not one", []governance.CastVote{{Member: ids[0], Choice: "maybe"}}, governance.ValidationError{}},
	} {
		t.Run(c.name+" casts no vote at all", func(t *testing.T) {
			err := gov.VoteMany(ctx, motion.ID, c.votes)
			var v governance.ValidationError
			if _, want := c.want.(governance.ValidationError); want && !errors.As(err, &v) || !want && !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
			if n := count(t, d, `SELECT count(*) FROM roll WHERE voted = 1`); n != 0 {
				t.Errorf("%d voters, want none", n)
			}
		})
	}
	if err := gov.VoteMany(ctx, motion.ID, []governance.CastVote{{Member: ids[2], Choice: "no"}, {Member: ids[0], Choice: "yes"}, {Member: admin.ID, Choice: "yes"}}); err != nil {
		t.Fatal(err)
	}
	t.Run("a second vote is refused", func(t *testing.T) {
		if err := gov.VoteMany(ctx, motion.ID, []governance.CastVote{{Member: ids[0], Choice: "no"}}); !errors.Is(err, governance.ErrAlreadyVoted) {
			t.Errorf("got %v, want ErrAlreadyVoted", err)
		}
		if _, err := gov.Vote(ctx, governance.Member{ID: ids[0]}, motion.ID, "no", ""); !errors.Is(err, governance.ErrAlreadyVoted) {
			t.Errorf("Vote after VoteMany: got %v, want ErrAlreadyVoted", err)
		}
	})
	t.Run("secret ballots keep no member beside a choice", func(t *testing.T) {
		if n := count(t, d, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, motion.ID); n != 3 {
			t.Errorf("%d ballots in the box, want 3", n)
		}
		if n := count(t, d, `SELECT count(*) FROM votes`); n != 0 {
			t.Errorf("%d open votes in a secret ballot", n)
		}
	})
	now = now.Add(8 * 24 * time.Hour)
	t.Run("a closed ballot takes no votes", func(t *testing.T) {
		if err := gov.VoteMany(ctx, motion.ID, []governance.CastVote{{Member: ids[1], Choice: "yes"}}); !errors.Is(err, governance.ErrBallotClosed) {
			t.Errorf("got %v, want ErrBallotClosed", err)
		}
	})
	t.Run("the ballot counts and verifies", func(t *testing.T) {
		if err := gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		tally, err := gov.VerifyTally(ctx, motion.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tally.Yes != 2 || tally.No != 1 || tally.RollSize != 4 {
			t.Errorf("tally %+v, want 2 yes, 1 no, roll of 4", tally)
		}
	})
}
