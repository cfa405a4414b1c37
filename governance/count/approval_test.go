package count

import (
	"slices"
	"testing"
)

func TestApproval(t *testing.T) {
	ballots := []ApprovalBallot{{0, 2}, {2}, {1, 2, 3}, {}, {1, 3}}
	t.Run("totals count every approval and order runs from most approved", func(t *testing.T) {
		res, err := Approval(4, 0, ballots, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ballots != 5 {
			t.Errorf("Ballots = %d, want 5 (the blank ballot counts)", res.Ballots)
		}
		if want := []int{1, 2, 3, 2}; !slices.Equal(res.Totals, want) {
			t.Errorf("Totals = %v, want %v", res.Totals, want)
		}
		// B and D tie on 2: the default lot puts the lower index first.
		if want := []int{2, 1, 3, 0}; !slices.Equal(res.Order, want) {
			t.Errorf("Order = %v, want %v", res.Order, want)
		}
		if want := []bool{false, true, false, false}; !slices.Equal(res.Tied, want) {
			t.Errorf("Tied = %v, want %v", res.Tied, want)
		}
	})
	t.Run("the lot orders equal totals", func(t *testing.T) {
		res, err := Approval(4, 0, ballots, Lot{3, 2, 1, 0})
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{2, 3, 1, 0}; !slices.Equal(res.Order, want) {
			t.Errorf("Order = %v, want %v", res.Order, want)
		}
	})
}
