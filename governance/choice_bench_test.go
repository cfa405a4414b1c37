package governance

import (
	"context"
	"fmt"
	"strconv"
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
