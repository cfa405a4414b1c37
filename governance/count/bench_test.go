package count

import (
	"math/rand/v2"
	"testing"
)

// benchBox is issue 14's benchmark: 100,000 ranked ballots over 20 options.
// Each voter ranks 5 to 20 options around a shared popularity, so the count
// has structure (surpluses, transfers) yet few identical ballots to fold.
func benchBox() []Ranking {
	const n, voters = 20, 100_000
	rng := rand.New(rand.NewPCG(14, 100))
	ballots := make([]Ranking, voters)
	score := make([]float64, n)
	for i := range ballots {
		for o := range score {
			score[o] = float64(o)/4 + rng.NormFloat64()*3
		}
		r := Ranking(rng.Perm(n))
		for a := 1; a < n; a++ { // insertion sort by score, highest first
			for b := a; b > 0 && score[r[b]] > score[r[b-1]]; b-- {
				r[b], r[b-1] = r[b-1], r[b]
			}
		}
		ballots[i] = r[:5+rng.IntN(16)]
	}
	return ballots
}

func BenchmarkSchulze(b *testing.B) {
	ballots := benchBox()
	for b.Loop() {
		if _, err := Schulze(20, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSTV(b *testing.B) {
	ballots := benchBox()
	for b.Loop() {
		if _, err := STV(20, 5, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIRV(b *testing.B) {
	ballots := benchBox()
	for b.Loop() {
		if _, err := IRV(20, ballots, nil); err != nil {
			b.Fatal(err)
		}
	}
}
