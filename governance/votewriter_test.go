package governance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
)

// seedVoters inserts n active members sharing one password hash, so a test
// with a thousand voters doesn't spend minutes in argon2id.
func seedVoters(t testing.TB, s *Service, n int) []Member {
	t.Helper()
	ctx := context.Background()
	var out []Member
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var first int
		if err := tx.Get(&first, `SELECT count(*) FROM members`); err != nil {
			return err
		}
		for i := first; i < first+n; i++ {
			id, err := db.InsertID(ctx, tx, `INSERT INTO members (name, email, password_hash, status, applied_at, joined_at)
				VALUES (?, ?, 'x', 'active', ?, ?)`, fmt.Sprintf("Voter %d", i), fmt.Sprintf("voter%d@example.org", i), s.now(), s.now())
			if err != nil {
				return err
			}
			out = append(out, Member{ID: id, Status: StatusActive, Role: RoleMember})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVoteWriter(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := New(dbtest.Open(t), clock.Now)
	members := seedVoters(t, s, 1000)
	author := members[0]
	p, err := s.Propose(ctx, author, ProposalInput{Kind: KindMotion, Title: "A motion for a thousand", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a thousand simultaneous votes are each stored exactly once, and answered only once committed", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, len(members))
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.Vote(ctx, m, p.ID, Choices[i%3], "")
				if err != nil {
					errs <- fmt.Errorf("member %d: %w", m.ID, err)
					return
				}
				// The reader pool sees only committed data: if the vote is
				// not visible here, it was acknowledged before its commit.
				var n int
				if err := s.db.R.Get(&n, `SELECT count(*) FROM roll WHERE proposal_id = ? AND member_id = ? AND voted = 1`, p.ID, m.ID); err != nil || n != 1 {
					errs <- fmt.Errorf("member %d was answered %+v but a reader sees %d voter rows (%v)", m.ID, res, n, err)
				}
				if res.Receipt == "" {
					errs <- fmt.Errorf("member %d got no receipt in a secret ballot", m.ID)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var voters, box int
		s.db.R.Get(&voters, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID)
		s.db.R.Get(&box, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, p.ID)
		if voters != 1000 || box != 1000 {
			t.Errorf("stored %d voters and %d ballots; want 1000 of each", voters, box)
		}
		if c := s.votes.commits.Load(); c >= 1000 {
			t.Errorf("1000 simultaneous votes took %d commits: none were grouped", c)
		} else {
			t.Logf("1000 simultaneous votes took %d commits", c)
		}
	})

	t.Run("a vote whose caller gave up before its batch began is not applied", func(t *testing.T) {
		// A member whose first try timed out and who voted again must not
		// find the first try stored after the second. Each of these callers
		// has given up before voting: whether the vote reached the queue or
		// not (the writer's select picks either), it is not applied.
		q, err := s.Propose(ctx, author, ProposalInput{Kind: KindMotion, Title: "A motion nobody waits for", Opens: "now", Days: "7"})
		if err != nil {
			t.Fatal(err)
		}
		gone, cancel := context.WithCancel(ctx)
		cancel()
		for _, m := range members[:60] {
			if _, err := s.Vote(gone, m, q.ID, ChoiceYes, ""); !errors.Is(err, context.Canceled) {
				t.Fatalf("a vote from a caller who gave up answered %v, want context.Canceled", err)
			}
		}
		var stored int
		if err := s.db.R.Get(&stored, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, q.ID); err != nil {
			t.Fatal(err)
		}
		if stored != 0 {
			t.Errorf("%d of 60 votes whose callers had given up were applied", stored)
		}
		// And the writer still takes the next vote.
		if _, err := s.Vote(ctx, members[0], q.ID, ChoiceNo, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a refused vote in a batch fails alone", func(t *testing.T) {
		p2, err := s.Propose(ctx, author, ProposalInput{Kind: KindMotion, Title: "A second motion", Opens: "now", Days: "7"})
		if err != nil {
			t.Fatal(err)
		}
		// Admitted after voting opened: not on the roll.
		late := seedVoters(t, s, 1)[0]
		var wg sync.WaitGroup
		results := make([]error, 101)
		for i := 0; i <= 100; i++ {
			voter := members[i]
			if i == 50 {
				voter = late
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i] = s.Vote(ctx, voter, p2.ID, ChoiceYes, "")
			}()
		}
		wg.Wait()
		for i, err := range results {
			switch {
			case i == 50 && !errors.Is(err, ErrNotOnRoll):
				t.Errorf("the late member's vote: %v; want ErrNotOnRoll", err)
			case i != 50 && err != nil:
				t.Errorf("vote %d: %v", i, err)
			}
		}
		var voters int
		s.db.R.Get(&voters, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p2.ID)
		if voters != 100 {
			t.Errorf("stored %d voters; want the 100 on the roll", voters)
		}
	})
}

// openMotion is a fresh co-op of n voters with an open (not secret) motion
// in its voting period, opened by the first of them.
func openMotion(tb testing.TB, n int) (*Service, []Member, Proposal) {
	tb.Helper()
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := New(dbtest.Open(tb), clock.Now)
	members := seedVoters(tb, s, n)
	if _, err := s.db.W.Exec(`UPDATE rules SET secret = 0 WHERE kind = 'motion'`); err != nil {
		tb.Fatal(err)
	}
	p, err := s.Propose(context.Background(), members[0], ProposalInput{Kind: KindMotion, Title: "An open motion", Opens: "now", Days: "7"})
	if err != nil {
		tb.Fatal(err)
	}
	return s, members, p
}

// BenchmarkCastVote measures votes through the writer on a real file with
// synchronous=FULL: one voter at a time, where every vote pays a commit,
// and many at once, where votes share commits.
func BenchmarkCastVote(b *testing.B) {
	ctx := context.Background()
	// An open ballot, so the same members can vote again (a change is a
	// write like any other) however many iterations the benchmark runs.
	s, members, p := openMotion(b, 1000)
	b.Run("one voter at a time", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Vote(ctx, members[i%len(members)], p.ID, Choices[i%3], ""); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("256 voters at once", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(128) // 128 × GOMAXPROCS(2) = 256 goroutines
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, err := s.Vote(ctx, members[i%len(members)], p.ID, Choices[i%3], ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func TestVerifyTallyChecksTheLedger(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := New(dbtest.Open(t), clock.Now)
	ms := seedVoters(t, s, 3)
	p, err := s.Propose(ctx, ms[0], ProposalInput{Kind: KindMotion, Title: "A motion to tamper with", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if _, err := s.Vote(ctx, m, p.ID, ChoiceYes, ""); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(8 * 24 * time.Hour)
	if err := s.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyTally(ctx, p.ID); err != nil {
		t.Fatalf("an untouched ballot: %v", err)
	}
	// Turn one yes into a no, and rewrite the stored count and box digest
	// to match: the ballot agrees with itself, but not with the ledger.
	if _, err := s.db.W.Exec(`UPDATE ballot_box SET choice = 'no' WHERE proposal_id = ? AND receipt_hash = (SELECT min(receipt_hash) FROM ballot_box WHERE proposal_id = ?)`, p.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	closed, err := getProposal(ctx, s.db.R, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := box(ctx, s.db.R, closed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.W.Exec(`UPDATE proposals SET yes = 2, no = 1, box_digest = ? WHERE id = ?`, boxDigest(entries), p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.VerifyTally(ctx, p.ID)
	var te *TallyError
	if !errors.As(err, &te) || !strings.Contains(te.Problem, "ledger") {
		t.Errorf("VerifyTally after a consistent edit of box and result: %v; want a mismatch with the ledger", err)
	}
}

func TestPublishedBoxComesInPages(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := New(dbtest.Open(t), clock.Now)
	ms := seedVoters(t, s, 450)
	p, err := s.Propose(ctx, ms[0], ProposalInput{Kind: KindMotion, Title: "A motion for a big box", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	receipts := make([]string, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Vote(ctx, m, p.ID, Choices[i%3], "")
			if err != nil {
				t.Error(err)
			}
			receipts[i] = res.Receipt
		}()
	}
	wg.Wait()
	if _, _, err := s.BoxPage(ctx, p, 1); !errors.Is(err, ErrBallotClosed) {
		t.Errorf("the box of an open ballot: err = %v, want ErrBallotClosed", err)
	}
	clock.Advance(8 * 24 * time.Hour)
	if err := s.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	closed, err := getProposal(ctx, s.db.R, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var all []BoxEntry
	for page := 1; page <= 3; page++ {
		entries, total, err := s.BoxPage(ctx, closed, page)
		if err != nil || total != 450 {
			t.Fatalf("page %d: total %d, %v", page, total, err)
		}
		if want := []int{200, 200, 50}[page-1]; len(entries) != want {
			t.Errorf("page %d has %d lines, want %d", page, len(entries), want)
		}
		all = append(all, entries...)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Key >= all[i].Key {
			t.Fatalf("the box is not in key order across pages at line %d", i)
		}
	}
	for _, i := range []int{0, 199, 449} {
		choice, page, err := s.FindReceipt(ctx, closed, receipts[i])
		if err != nil || choice != Choices[i%3] {
			t.Errorf("receipt %d: %q, %v; want %q", i, choice, err, Choices[i%3])
		}
		entries, _, _ := s.BoxPage(ctx, closed, page)
		found := false
		for _, e := range entries {
			found = found || e.Key == ReceiptHash(receipts[i])
		}
		if !found {
			t.Errorf("receipt %d is not on the page FindReceipt named (%d)", i, page)
		}
	}
	if choice, page, err := s.FindReceipt(ctx, closed, "NOT-A-REAL-RECEIPT"); err != nil || choice != "" || page != 0 {
		t.Errorf("a wrong receipt: %q, %d, %v", choice, page, err)
	}
}

func TestDecidedProposalsComeInPages(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := New(dbtest.Open(t), clock.Now)
	m := seedVoters(t, s, 1)[0]
	for i := 0; i < ClosedPerPage+5; i++ {
		if _, err := s.Propose(ctx, m, ProposalInput{Kind: KindMotion, Title: fmt.Sprintf("Motion %d", i), Opens: "now", Days: "7"}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
	}
	clock.Advance(8 * 24 * time.Hour)
	first, err := s.ProposalsPage(ctx, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.ProposalsPage(ctx, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if first.ClosedTotal != 30 || len(first.Closed) != ClosedPerPage || len(second.Closed) != 5 {
		t.Fatalf("total %d, pages of %d and %d; want 30 in pages of 25 and 5", first.ClosedTotal, len(first.Closed), len(second.Closed))
	}
	if first.Closed[0].Title != "Motion 29" || second.Closed[4].Title != "Motion 0" {
		t.Errorf("pages run %q … %q; want newest first", first.Closed[0].Title, second.Closed[4].Title)
	}
	if len(first.Voting) != 0 || len(first.Discussion) != 0 {
		t.Error("the public was shown running proposals")
	}
}

// TestVotesApplyInArrivalOrder: a member's vote that waited (for a turn, in
// the queue) while a later one of theirs was applied is refused, not
// applied over it; so is one that waited too long (arrival.go).
func TestVotesApplyInArrivalOrder(t *testing.T) {
	ctx := context.Background()
	s, members, p := openMotion(t, 4)
	stored := func(m Member) string {
		t.Helper()
		var choice string
		if err := s.db.R.Get(&choice, `SELECT choice FROM votes WHERE proposal_id = ? AND member_id = ?`, p.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		return choice
	}

	t.Run("a vote that arrived before one already applied is refused", func(t *testing.T) {
		m := members[1]
		first := Arrived(ctx)  // the try that hung
		second := Arrived(ctx) // the member's next try, sent after it
		if _, err := s.Vote(second, m, p.ID, ChoiceNo, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Vote(first, m, p.ID, ChoiceYes, ""); !errors.Is(err, ErrVoteSuperseded) {
			t.Fatalf("the earlier try, applied late: %v; want ErrVoteSuperseded", err)
		}
		if got := stored(m); got != ChoiceNo {
			t.Errorf("stored %q; want the later vote, %q", got, ChoiceNo)
		}
		// Another member's earlier arrival is theirs alone: it is applied.
		if _, err := s.Vote(first, members[2], p.ID, ChoiceYes, ""); err != nil {
			t.Errorf("another member's vote with an earlier stamp: %v", err)
		}
		// And the member's next vote goes through.
		if _, err := s.Vote(Arrived(ctx), m, p.ID, ChoiceAbstain, ""); err != nil || stored(m) != ChoiceAbstain {
			t.Errorf("the next vote: %v, stored %q", err, stored(m))
		}
	})

	t.Run("within one batch, the later arrival stands whichever is queued first", func(t *testing.T) {
		m := members[3]
		early, late := nextStamp(), nextStamp()
		ask := func(choice string, stamp int64) voteRequest {
			return voteRequest{voter: m.ID, proposal: p.ID, choice: choice, stamp: stamp, ctx: ctx, answer: make(chan voteAnswer, 1)}
		}
		batch := []voteRequest{ask(ChoiceNo, late), ask(ChoiceYes, early)}
		s.votes.mu.Lock()
		s.votes.commit(batch)
		s.votes.mu.Unlock()
		if a := <-batch[0].answer; a.err != nil {
			t.Errorf("the later vote: %v", a.err)
		}
		if a := <-batch[1].answer; !errors.Is(a.err, ErrVoteSuperseded) {
			t.Errorf("the earlier vote, queued second: %v; want ErrVoteSuperseded", a.err)
		}
		if got := stored(m); got != ChoiceNo {
			t.Errorf("stored %q; want the later vote, %q", got, ChoiceNo)
		}
	})

	t.Run("a vote that waited longer than maxVoteWait is refused", func(t *testing.T) {
		old := context.WithValue(ctx, arrivalKey{}, sinceStart()-int64(maxVoteWait)-int64(time.Second))
		before := stored(members[1])
		if _, err := s.Vote(old, members[1], p.ID, ChoiceYes, ""); !errors.Is(err, ErrVoteTooLate) {
			t.Fatalf("a vote older than %s: %v; want ErrVoteTooLate", maxVoteWait, err)
		}
		if got := stored(members[1]); got != before {
			t.Errorf("stored %q; want it unchanged, %q", got, before)
		}
	})

	t.Run("a vote with no arrival is applied in the order it is cast", func(t *testing.T) {
		// Callers in this process (tests, the command line) order their own
		// calls; only the server's requests carry an arrival.
		if _, err := s.Vote(Arrived(ctx), members[2], p.ID, ChoiceYes, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Vote(ctx, members[2], p.ID, ChoiceNo, ""); err != nil || stored(members[2]) != ChoiceNo {
			t.Errorf("an unstamped vote after a stamped one: %v, stored %q", err, stored(members[2]))
		}
	})

	t.Run("what was applied is forgotten once no vote could be refused for it", func(t *testing.T) {
		var a applied
		k, other := ballotOf{1, 1}, ballotOf{1, 2}
		now := int64(10 * maxVoteWait)
		a.remember(map[ballotOf]int64{k: now - int64(maxVoteWait) - 1, other: now - 1}, now)
		if _, kept := a.latest[k]; kept {
			t.Error("an arrival older than maxVoteWait is still remembered")
		}
		if a.latest[other] != now-1 {
			t.Error("a recent arrival was forgotten")
		}
		// Had it been kept, the vote it would refuse is refused for its age.
		v := voteRequest{voter: 1, proposal: 1, stamp: now - int64(maxVoteWait) - 2}
		if err := a.refuse(v, nil, now); !errors.Is(err, ErrVoteTooLate) {
			t.Errorf("a vote that arrived before a forgotten one: %v; want ErrVoteTooLate", err)
		}
	})
}
