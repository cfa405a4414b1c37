package count

import (
	"fmt"
	"slices"
)

// ApprovalResult is the count of an approval ballot.
type ApprovalResult struct {
	Ballots int   `json:"ballots"` // every ballot, including those approving nothing
	Totals  []int `json:"totals"`  // Totals[o]: ballots approving option o
	Order   []int `json:"order"`   // options, most approved first
	// Tied[i] is true when Order[i] and Order[i+1] have the same total and
	// only the Lot put them in this order; the last entry is always false.
	Tied []bool `json:"tied"`
}

// Approval counts approval ballots over n options: each ballot gives one
// vote to every option it approves, and options are ordered by their
// totals. Equal totals are ordered by the Lot (earlier in the Lot first).
// max is the most options a ballot may approve (0: any number); a ballot
// that breaks it, or names an option twice or out of range, makes the whole
// count fail with the ballot's index, since the server should never have
// stored it.
func Approval(n, max int, ballots []ApprovalBallot, lot Lot) (ApprovalResult, error) {
	if err := validN(n); err != nil {
		return ApprovalResult{}, err
	}
	pos, err := lot.positions(n)
	if err != nil {
		return ApprovalResult{}, err
	}
	res := ApprovalResult{Ballots: len(ballots), Totals: make([]int, n)}
	for i, b := range ballots {
		if err := ValidApproval(b, n, max); err != nil {
			return ApprovalResult{}, fmt.Errorf("count: ballot %d: %w", i, err)
		}
		for _, o := range b {
			res.Totals[o]++
		}
	}
	res.Order = make([]int, n)
	for o := range res.Order {
		res.Order[o] = o
	}
	slices.SortFunc(res.Order, func(a, b int) int {
		if res.Totals[a] != res.Totals[b] {
			return res.Totals[b] - res.Totals[a]
		}
		return pos[a] - pos[b]
	})
	res.Tied = make([]bool, n)
	for i := 0; i+1 < n; i++ {
		res.Tied[i] = res.Totals[res.Order[i]] == res.Totals[res.Order[i+1]]
	}
	return res, nil
}
