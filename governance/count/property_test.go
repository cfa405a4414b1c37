package count

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// randomBox draws a small election: few options and voters, so ties and
// exhausted ballots are common, and rankings often partial.
func randomBox(rng *rand.Rand) (n int, ballots []Ranking) {
	n = 2 + rng.IntN(6)
	ballots = make([]Ranking, rng.IntN(40))
	for i := range ballots {
		perm := rng.Perm(n)
		ballots[i] = Ranking(perm[:rng.IntN(n+1)])
	}
	return n, ballots
}

func shuffled(rng *rand.Rand, ballots []Ranking) []Ranking {
	out := append([]Ranking(nil), ballots...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

const trials = 2000

func TestCountsDoNotDependOnBallotOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	for range trials {
		n, ballots := randomBox(rng)
		lot := Lot(rng.Perm(n))
		again := shuffled(rng, ballots)
		seats := 1 + rng.IntN(n)

		s1, err1 := Schulze(n, ballots, lot)
		s2, err2 := Schulze(n, again, lot)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(s1, s2) {
			t.Fatalf("Schulze differs on reordered ballots %v: %+v vs %+v", ballots, s1, s2)
		}
		i1, err1 := IRV(n, ballots, lot)
		i2, err2 := IRV(n, again, lot)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(i1, i2) {
			t.Fatalf("IRV differs on reordered ballots %v", ballots)
		}
		t1, err1 := STV(n, seats, ballots, lot)
		t2, err2 := STV(n, seats, again, lot)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(t1, t2) {
			t.Fatalf("STV differs on reordered ballots %v", ballots)
		}
		approvals := make([]ApprovalBallot, len(ballots))
		for i, r := range ballots {
			approvals[i] = ApprovalBallot(r)
		}
		a1, _ := Approval(n, 0, approvals, lot)
		rng.Shuffle(len(approvals), func(i, j int) { approvals[i], approvals[j] = approvals[j], approvals[i] })
		a2, _ := Approval(n, 0, approvals, lot)
		if !reflect.DeepEqual(a1, a2) {
			t.Fatalf("Approval differs on reordered ballots")
		}
	}
}

func TestSTVWithOneSeatElectsTheIRVWinner(t *testing.T) {
	// Ties included: both settle them by the most recent earlier stage
	// where the tied differed, then by the same lot.
	rng := rand.New(rand.NewPCG(14, 2))
	for range trials {
		n, ballots := randomBox(rng)
		lot := Lot(rng.Perm(n))
		irv, err := IRV(n, ballots, lot)
		if err != nil {
			t.Fatal(err)
		}
		stv, err := STV(n, 1, ballots, lot)
		if err != nil {
			t.Fatal(err)
		}
		if len(stv.Elected) != 1 || stv.Elected[0] != irv.Winner {
			t.Fatalf("ballots %v, lot %v: STV elects %v, IRV %d", ballots, lot, stv.Elected, irv.Winner)
		}
	}
}

func TestACondorcetWinnerTopsSchulze(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	found := 0
	for range trials {
		n, ballots := randomBox(rng)
		res, err := Schulze(n, ballots, Lot(rng.Perm(n)))
		if err != nil {
			t.Fatal(err)
		}
		for w := range n {
			beatsAll := true
			for j := range n {
				if j != w && res.Pairwise[w][j] <= res.Pairwise[j][w] {
					beatsAll = false
				}
			}
			if beatsAll {
				found++
				if res.Order[0] != w || res.Winner != w || !res.Condorcet || len(res.Winners) != 1 {
					t.Fatalf("ballots %v: Condorcet winner %d, Schulze %+v", ballots, w, res)
				}
			}
		}
		// Schulze's order never puts an option below one it beats by paths.
		for a := range res.Order {
			for b := a + 1; b < n; b++ {
				x, y := res.Order[a], res.Order[b]
				if res.Strongest[y][x] > res.Strongest[x][y] {
					t.Fatalf("order %v puts %d above %d, which beats it", res.Order, x, y)
				}
			}
		}
	}
	if found < trials/4 {
		t.Fatalf("only %d of %d trials had a Condorcet winner: the test checks too little", found, trials)
	}
}

func TestSTVInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 4))
	for range trials {
		n, ballots := randomBox(rng)
		seats := 1 + rng.IntN(n)
		res, err := STV(n, seats, ballots, Lot(rng.Perm(n)))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Elected) != seats {
			t.Fatalf("%d elected for %d seats", len(res.Elected), seats)
		}
		// Every stage accounts for every vote: totals, set aside and lost
		// to rounding make the number of valid papers exactly.
		var nt, lost Value
		for _, s := range res.Stages {
			nt += s.NonTransferable
			lost += s.Rounding
			sum := nt + lost
			for _, x := range s.Totals {
				sum += x
			}
			if sum != Value(res.Ballots)*One {
				t.Fatalf("stage %d accounts for %s of %d votes", s.Number, sum, res.Ballots)
			}
			if s.Rounding < 0 || s.NonTransferable < 0 {
				t.Fatalf("stage %d: negative rounding or non-transferable", s.Number)
			}
		}
		if nt != res.NonTransferable || lost != res.Rounding {
			t.Fatalf("result totals %s, %s differ from the stages' %s, %s", res.NonTransferable, res.Rounding, nt, lost)
		}
		// An option with a quota of first preferences is elected at stage 1.
		for o, x := range res.Stages[0].Totals {
			if x >= res.Quota {
				found := false
				for _, e := range res.Stages[0].Elected {
					found = found || e == o
				}
				if !found {
					t.Fatalf("option %d has %s first preferences, quota %s, not elected at stage 1", o, x, res.Quota)
				}
			}
		}
	}
}
