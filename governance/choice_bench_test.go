package governance

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
)

// BenchmarkCastChoice is BenchmarkCastVote for a ranked ballot over 20
// options: issue 14 wants a ranked vote to cost no more than 1.5 times a
// yes/no vote. Each ballot ranks five options.
func BenchmarkCastChoice(b *testing.B) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	s := New(dbtest.Open(b), clock.Now)
	members := seedVoters(b, s, 1000)
	// An open ballot, so the same members can vote again.
	if _, err := s.db.W.Exec(`UPDATE rules SET secret = 0 WHERE kind = 'poll'`); err != nil {
		b.Fatal(err)
	}
	options := make([]OptionInput, 20)
	for i := range options {
		options[i] = OptionInput{Label: fmt.Sprintf("Option %d", i+1)}
	}
	p, err := s.Propose(ctx, members[0], ProposalInput{Kind: KindPoll, Title: "Benchmark poll", Opens: "now", Days: "7",
		Options: options, Method: MethodSchulze})
	if err != nil {
		b.Fatal(err)
	}
	// Each member's ballot differs from their last one (the round i/1000
	// shifts it), so every vote changes a row and its commit writes, as a
	// yes/no vote's does in BenchmarkCastVote: a ballot cast again unchanged
	// writes nothing and commits without waiting for the disk.
	ballot := func(i int) ChoiceInput {
		ranks := map[int]string{}
		for k := range 5 {
			ranks[(i+i/len(members)+7*k)%20] = strconv.Itoa(k + 1)
		}
		return ChoiceInput{Ranks: ranks}
	}
	b.Run("one voter at a time", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.VoteChoice(ctx, members[i%len(members)], p.ID, ballot(i), ""); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("256 voters at once", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(128)
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, err := s.VoteChoice(ctx, members[i%len(members)], p.ID, ballot(i), ""); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkCloseChoice measures the close of a secret ranked ballot of
// 100,000 ballots over 20 options, as BenchmarkCloseBallot does for
// yes/no: reading the box, parsing every ranking, counting it (Schulze,
// IRV, or STV for 5 seats), the result, the effect and the ledger entry,
// committed. Each ballot ranks from 1 to 20 options in an order drawn
// per member, options earlier in the list drawn more often, so counts are
// not ties. Proposing and voting are not timed.
func BenchmarkCloseChoice(b *testing.B) {
	const n = 100_000
	c := newBenchCoop(b)
	c.grow(b, n)
	if _, err := c.s.db.W.Exec(`UPDATE rules SET secret = 1, min_minutes = 1 WHERE kind IN ('poll', 'elect')`); err != nil {
		b.Fatal(err)
	}
	options := make([]OptionInput, 20)
	for i := range options {
		options[i] = OptionInput{Label: fmt.Sprintf("Candidate %d", i+1)}
	}
	ballots := make([]ChoiceInput, n)
	for i := range ballots {
		rng := rand.New(rand.NewPCG(uint64(i), 14))
		// A skewed order: option o gets weight 20-o plus noise.
		order := make([]int, 20)
		key := make([]float64, 20)
		for o := range order {
			order[o], key[o] = o, float64(20-o)*rng.Float64()
		}
		slices.SortFunc(order, func(x, y int) int { return cmp.Compare(key[y], key[x]) })
		ranks := map[int]string{}
		for k, o := range order[:1+rng.IntN(20)] {
			ranks[o] = strconv.Itoa(k + 1)
		}
		ballots[i] = ChoiceInput{Ranks: ranks}
	}
	for _, tt := range []struct{ kind, method, seats, office string }{
		{KindPoll, MethodSchulze, "", ""},
		{KindPoll, MethodIRV, "", ""},
		{KindElect, MethodSTV, "5", "Board"},
	} {
		b.Run(fmt.Sprintf("%s/ballots=%d", tt.method, n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				p, err := c.s.Propose(c.ctx, c.members[0], ProposalInput{Kind: tt.kind, Title: "A benchmark choice", Opens: "now",
					Days: "7", Options: options, Method: tt.method, Seats: tt.seats, Office: tt.office})
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				var next atomic.Int64
				for range 256 {
					wg.Go(func() {
						for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
							if _, err := c.s.VoteChoice(c.ctx, c.members[i], p.ID, ballots[i], ""); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				if _, err := c.s.db.TruncateWAL(c.ctx); err != nil {
					b.Fatal(err)
				}
				c.clock.Set(p.ClosesAt.Add(time.Minute))
				b.StartTimer()
				if err := c.s.openAndClose(c.ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				closed, err := getProposal(c.ctx, c.s.db.R, p.ID)
				if err != nil {
					b.Fatal(err)
				}
				if r, ok := closed.ChoiceResult(); !ok || r.Ballots != n || len(r.Chosen) == 0 {
					b.Fatalf("proposal %d is %s with %d ballots counted; want closed with %d and something chosen", p.ID, closed.Status, r.Ballots, n)
				}
				if err := c.s.rewriteBoxes(c.ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
