package governance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
)

// The ballot benchmarks of issue 5: opening a ballot (freezing the roll)
// and closing and tallying one must each take under a second with 100,000
// members. Members are seeded in one transaction and votes cast with
// VoteMany, outside the timing; each size reuses the co-op of the size
// before it, grown to the new size.

// benchSizes are the co-op sizes the ballot benchmarks measure.
var benchSizes = []int{10_000, 100_000}

// benchCoop is a co-op for the ballot benchmarks: a service on a real file,
// a clock the benchmark moves by hand, and its active members in order.
type benchCoop struct {
	ctx     context.Context
	s       *Service
	clock   *fakeclock.Clock
	members []Member
}

func newBenchCoop(b *testing.B) *benchCoop {
	b.Helper()
	c := &benchCoop{ctx: context.Background(), clock: fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
	c.s = New(dbtest.Open(b), c.clock.Now)
	return c
}

// grow adds active members until there are n.
func (c *benchCoop) grow(b *testing.B, n int) {
	b.Helper()
	if more := n - len(c.members); more > 0 {
		c.members = append(c.members, seedVoters(b, c.s, more)...)
	}
}

// propose puts a motion to the co-op with voting open from now, for a
// week, and checks that its roll holds every member.
func (c *benchCoop) propose(b *testing.B) Proposal {
	b.Helper()
	p, err := c.s.Propose(c.ctx, c.members[0], ProposalInput{Kind: KindMotion, Title: "A benchmark motion", Opens: "now", Days: "7"})
	if err != nil {
		b.Fatal(err)
	}
	if p.Status != ProposalVoting || p.RollSize == nil || *p.RollSize != len(c.members) {
		b.Fatalf("proposal %d is %s with a roll of %v; want voting with %d members", p.ID, p.Status, p.RollSize, len(c.members))
	}
	return p
}

// everyoneVotes is one vote per member, yes, no and abstain in turn, and
// the tally they should give.
func everyoneVotes(members []Member) (votes []CastVote, yes, no, abstain int) {
	votes = make([]CastVote, len(members))
	for i, m := range members {
		votes[i] = CastVote{Member: m.ID, Choice: Choices[i%3]}
		switch Choices[i%3] {
		case ChoiceYes:
			yes++
		case ChoiceNo:
			no++
		default:
			abstain++
		}
	}
	return votes, yes, no, abstain
}

// closeWithVotes opens a ballot, casts votes in it, moves the clock past
// its close and returns it, still voting until the next Advance.
func (c *benchCoop) closeWithVotes(b *testing.B, votes []CastVote) Proposal {
	b.Helper()
	p := c.propose(b)
	if !*p.Secret {
		b.Fatalf("proposal %d is an open ballot; the benchmark is of a secret one", p.ID)
	}
	if err := c.s.VoteMany(c.ctx, p.ID, votes); err != nil {
		b.Fatal(err)
	}
	// Serve's scrub truncates the log while votes come in (scrub.go), so
	// the close does not find the whole vote in it.
	if _, err := c.s.db.TruncateWAL(c.ctx); err != nil {
		b.Fatal(err)
	}
	c.clock.Set(p.ClosesAt.Add(time.Minute))
	return p
}

// checkClosed fails b unless proposal id closed with the tally given.
func (c *benchCoop) checkClosed(b *testing.B, id int64, yes, no, abstain int) {
	b.Helper()
	p, err := getProposal(c.ctx, c.s.db.R, id)
	if err != nil {
		b.Fatal(err)
	}
	if t, ok := p.Tally(); !ok || t.Yes != yes || t.No != no || t.Abstain != abstain {
		b.Fatalf("proposal %d is %s with %+v; want closed with %d yes, %d no, %d abstain", id, p.Status, t, yes, no, abstain)
	}
}

// BenchmarkFreezeRoll measures proposing a motion that opens at once: the
// roll, a row per active member, is frozen in the same transaction.
func BenchmarkFreezeRoll(b *testing.B) {
	c := newBenchCoop(b)
	for _, n := range benchSizes {
		c.grow(b, n)
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var last Proposal
			for b.Loop() {
				last = c.propose(b)
			}
			var rows int
			if err := c.s.db.R.Get(&rows, `SELECT count(*) FROM roll WHERE proposal_id = ?`, last.ID); err != nil || rows != n {
				b.Fatalf("the roll of proposal %d has %d rows (%v); want %d", last.ID, rows, err, n)
			}
		})
	}
}

// BenchmarkCloseBallot measures the close of a secret ballot in which every
// member voted: reading and counting the box, its digest, the result and
// the ledger entry, committed. Advance then rewrites the box in key order
// in a transaction of its own and scrubs the log: that is reported apart,
// as rewrite-ms/op. Opening the ballot and voting are not timed.
func BenchmarkCloseBallot(b *testing.B) {
	c := newBenchCoop(b)
	for _, n := range benchSizes {
		c.grow(b, n)
		votes, yes, no, abstain := everyoneVotes(c.members)
		b.Run(fmt.Sprintf("votes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var rewrite time.Duration
			for b.Loop() {
				b.StopTimer()
				p := c.closeWithVotes(b, votes)
				b.StartTimer()
				if err := c.s.openAndClose(c.ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				c.checkClosed(b, p.ID, yes, no, abstain)
				// What Advance does next, timed apart: the box's rewrite in
				// key order, in its own transaction, and the scrub.
				start := time.Now()
				if err := c.s.rewriteBoxes(c.ctx); err != nil {
					b.Fatal(err)
				}
				rewrite += time.Since(start)
				b.StartTimer()
			}
			b.ReportMetric(float64(rewrite.Milliseconds())/float64(b.N), "rewrite-ms/op")
		})
	}
}

// BenchmarkVerifyTally measures recounting a closed secret ballot of
// 100,000 votes and checking it against its digests and the ledger.
func BenchmarkVerifyTally(b *testing.B) {
	c := newBenchCoop(b)
	c.grow(b, benchSizes[len(benchSizes)-1])
	votes, yes, no, abstain := everyoneVotes(c.members)
	p := c.closeWithVotes(b, votes)
	if err := c.s.Advance(c.ctx); err != nil {
		b.Fatal(err)
	}
	c.checkClosed(b, p.ID, yes, no, abstain)
	b.Run(fmt.Sprintf("votes=%d", len(votes)), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t, err := c.s.VerifyTally(c.ctx, p.ID)
			if err != nil {
				b.Fatal(err)
			}
			if t.Turnout() != len(votes) {
				b.Fatalf("VerifyTally counted %d votes; want %d", t.Turnout(), len(votes))
			}
		}
	})
}

// BenchmarkQueueVotingOpened measures what opening a ballot adds to
// freezing its roll (BenchmarkFreezeRoll times both): queueing the
// voting_opened message of everyone on the roll, one INSERT … SELECT,
// committed. Between runs the queued rows are deleted, untimed.
func BenchmarkQueueVotingOpened(b *testing.B) {
	c := newBenchCoop(b)
	for _, n := range benchSizes {
		c.grow(b, n)
		p := c.propose(b)
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if _, err := c.s.db.W.ExecContext(c.ctx, `DELETE FROM notifications WHERE kind = 'voting_opened' AND event = ?`,
					fmt.Sprint(p.ID)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := c.s.db.WithTx(c.ctx, func(tx *sqlx.Tx) error { return c.s.queueVotingOpened(c.ctx, tx, p) }); err != nil {
					b.Fatal(err)
				}
			}
			var rows int
			if err := c.s.db.R.Get(&rows, `SELECT count(*) FROM notifications WHERE kind = 'voting_opened' AND event = ?`, fmt.Sprint(p.ID)); err != nil || rows != n {
				b.Fatalf("%d messages queued (%v); want %d", rows, err, n)
			}
		})
	}
}
