package count

import (
	"slices"
	"testing"
)

func TestSchulze(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		ballots   string
		pairwise  [][]int // nil: not checked
		strongest [][]int // nil: not checked
		order     string
		condorcet bool
	}{
		{
			// The worked example of Wikipedia's "Schulze method" article
			// (and of Schulze 2011, section 3): 45 voters, 5 candidates.
			// Matrices as printed there.
			name:    "Wikipedia's 45-voter example elects E, ranking E > A > C > B > D",
			n:       5,
			ballots: "5 ACBED, 5 ADECB, 8 BEDAC, 3 CABED, 7 CAEBD, 2 CBADE, 7 DCEBA, 8 EBADC",
			pairwise: [][]int{
				{0, 20, 26, 30, 22},
				{25, 0, 16, 33, 18},
				{19, 29, 0, 17, 24},
				{15, 12, 28, 0, 14},
				{23, 27, 21, 31, 0},
			},
			strongest: [][]int{
				{0, 28, 28, 30, 24},
				{25, 0, 28, 33, 24},
				{25, 29, 0, 29, 24},
				{25, 28, 28, 0, 24},
				{25, 28, 28, 31, 0},
			},
			order: "EACBD",
		},
		{
			// A 21-voter, 4-candidate example with a cycle A>C>B>A, counted
			// by hand: links A→C 14, B→A 13, C→B 15, C→D 12, D→A 11, D→B 19.
			name:    "a 21-voter cycle is resolved to D > A > C > B",
			n:       4,
			ballots: "8 ACDB, 2 BADC, 4 CDBA, 4 DBAC, 3 DCBA",
			pairwise: [][]int{
				{0, 8, 14, 10},
				{13, 0, 6, 2},
				{7, 15, 0, 12},
				{11, 19, 9, 0},
			},
			strongest: [][]int{
				{0, 14, 14, 12},
				{13, 0, 13, 12},
				{13, 15, 0, 12},
				{13, 19, 13, 0},
			},
			order: "DACB",
		},
		{
			name:      "a Condorcet winner wins and is flagged",
			n:         3,
			ballots:   "4 BAC, 3 CBA, 2 ABC",
			order:     "BAC",
			condorcet: true,
		},
		{
			// Unranked options are below ranked ones and equal among
			// themselves: A over B and C on 3 ballots, B over C on 2.
			name:      "partial rankings put the unranked below the ranked",
			n:         3,
			ballots:   "3 A, 2 B, 1 C",
			pairwise:  [][]int{{0, 3, 3}, {2, 0, 2}, {1, 1, 0}},
			order:     "ABC",
			condorcet: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Schulze(tt.n, box(tt.ballots), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.pairwise != nil && !slices.EqualFunc(res.Pairwise, tt.pairwise, slices.Equal) {
				t.Errorf("Pairwise = %v, want %v", res.Pairwise, tt.pairwise)
			}
			if tt.strongest != nil && !slices.EqualFunc(res.Strongest, tt.strongest, slices.Equal) {
				t.Errorf("Strongest = %v, want %v", res.Strongest, tt.strongest)
			}
			if got := letters(res.Order); got != tt.order {
				t.Errorf("Order = %s, want %s", got, tt.order)
			}
			if res.Winner != int(tt.order[0]-'A') || len(res.Winners) != 1 {
				t.Errorf("Winner = %d, Winners = %v, want only %c", res.Winner, res.Winners, tt.order[0])
			}
			if res.Condorcet != tt.condorcet {
				t.Errorf("Condorcet = %v, want %v", res.Condorcet, tt.condorcet)
			}
		})
	}

	t.Run("a perfect tie is ordered by the lot and every option is a potential winner", func(t *testing.T) {
		ballots := box("1 ABC, 1 BCA, 1 CAB")
		res, err := Schulze(3, ballots, Lot{2, 0, 1})
		if err != nil {
			t.Fatal(err)
		}
		if letters(res.Order) != "CAB" || len(res.Winners) != 3 || res.Winner != 2 || res.Condorcet {
			t.Errorf("Order %s, Winners %v, Winner %d, Condorcet %v", letters(res.Order), res.Winners, res.Winner, res.Condorcet)
		}
	})
}
