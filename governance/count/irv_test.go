package count

import (
	"slices"
	"testing"
)

func TestIRV(t *testing.T) {
	type round struct {
		votes      []int
		exhausted  int
		eliminated string // "" for none
		tie        string
	}
	tests := []struct {
		name    string
		n       int
		ballots string
		lot     Lot
		rounds  []round
		winner  string
	}{
		{
			// Wikipedia, "Instant-runoff voting": the capital of Tennessee,
			// per 100 voters: Memphis (A) 42, Nashville (B) 26, Chattanooga
			// (C) 15, Knoxville (D) 17. Knoxville wins in the third round.
			name:    "the Tennessee capital example elects Knoxville",
			n:       4,
			ballots: "42 ABCD, 26 BCDA, 15 CDBA, 17 DCBA",
			rounds: []round{
				{[]int{42, 26, 15, 17}, 0, "C", ""},
				{[]int{42, 26, 0, 32}, 0, "B", ""},
				{[]int{42, 0, 0, 58}, 0, "", ""},
			},
			winner: "D",
		},
		{
			// B wins with 6 of the 11 ballots still counting, not a
			// majority of all 14: the three C-only ballots are exhausted.
			name:    "exhausted ballots leave the majority of continuing ballots",
			n:       4,
			ballots: "5 A, 4 B, 3 C, 2 DB",
			rounds: []round{
				{[]int{5, 4, 3, 2}, 0, "D", ""},
				{[]int{5, 6, 3, 0}, 0, "C", ""},
				{[]int{5, 6, 0, 0}, 3, "", ""},
			},
			winner: "B",
		},
		{
			// B and C tie on 3 in round 2; in round 1 C had fewer (2 to 3).
			name:    "a tie for last goes back to the most recent round where they differed",
			n:       4,
			ballots: "5 A, 3 B, 2 C, 1 DC",
			rounds: []round{
				{[]int{5, 3, 2, 1}, 0, "D", ""},
				{[]int{5, 3, 3, 0}, 0, "C", TieEarlier},
				{[]int{5, 3, 0, 0}, 3, "", ""},
			},
			winner: "A",
		},
		{
			name:    "a tie in the first round is settled by the lot: the latest in the lot goes",
			n:       3,
			ballots: "2 A, 2 B, 3 CA",
			rounds: []round{
				{[]int{2, 2, 3}, 0, "B", TieLot},
				{[]int{2, 0, 3}, 2, "", ""},
			},
			winner: "C",
		},
		{
			name:    "the same tie with another lot eliminates the other option",
			n:       3,
			ballots: "2 A, 2 B, 3 CA",
			lot:     Lot{1, 2, 0},
			rounds: []round{
				{[]int{2, 2, 3}, 0, "A", TieLot},
				{[]int{0, 2, 3}, 2, "", ""},
			},
			winner: "C",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := IRV(tt.n, box(tt.ballots), tt.lot)
			if err != nil {
				t.Fatal(err)
			}
			if letters([]int{res.Winner}) != tt.winner {
				t.Errorf("Winner = %d, want %s", res.Winner, tt.winner)
			}
			if len(res.Rounds) != len(tt.rounds) {
				t.Fatalf("%d rounds, want %d: %+v", len(res.Rounds), len(tt.rounds), res.Rounds)
			}
			for i, want := range tt.rounds {
				got := res.Rounds[i]
				elim := ""
				if got.Eliminated >= 0 {
					elim = letters([]int{got.Eliminated})
				}
				if !slices.Equal(got.Votes, want.votes) || got.Exhausted != want.exhausted ||
					elim != want.eliminated || got.Tie != want.tie || got.Number != i+1 {
					t.Errorf("round %d = %+v, want %+v", i+1, got, want)
				}
				if got.Continuing+got.Exhausted != res.Ballots-res.Blank {
					t.Errorf("round %d: %d continuing + %d exhausted != %d ballots", i+1, got.Continuing, got.Exhausted, res.Ballots)
				}
			}
		})
	}
}
