package count

// Round is one round of an instant-runoff count.
type Round struct {
	Number int `json:"number"` // from 1
	// Votes[o] is the ballots counting for option o this round: each counts
	// for its highest-ranked option still in the count. Options out of the
	// count show 0.
	Votes      []int `json:"votes"`
	Continuing int   `json:"continuing"` // ballots counting for some option
	Exhausted  int   `json:"exhausted"`  // ballots whose ranked options are all out
	Majority   int   `json:"majority"`   // votes needed to win: Continuing/2 + 1
	// Eliminated is the option taken out at the end of this round, -1 in the
	// last round.
	Eliminated int `json:"eliminated"`
	// Tie says how a tie for last place was settled: "" (none), "earlier"
	// or "lot".
	Tie string `json:"tie,omitempty"`
}

// IRVResult is the count of a ranked ballot by instant-runoff.
type IRVResult struct {
	Ballots int     `json:"ballots"` // every ballot, including blank ones
	Blank   int     `json:"blank"`   // ballots ranking nothing; never counted
	Rounds  []Round `json:"rounds"`
	Winner  int     `json:"winner"`
}

// IRV counts ranked ballots over n options by instant-runoff voting
// (the alternative vote), one winner:
//
//  1. Each ballot counts for its highest-ranked option still in the count.
//  2. An option with more than half of the ballots counted this round (a
//     majority of continuing ballots, exhausted ones left aside) wins; so
//     does the last option left.
//  3. Otherwise the option with the fewest votes is eliminated and the next
//     round begins. A tie for fewest is settled as in Scottish STV rule
//     51(2): the tied option with fewer votes at the most recent earlier
//     round where they differed goes; if they never differed, the one latest
//     in the Lot goes.
//
// Blank ballots are counted in Ballots and Blank and nowhere else.
func IRV(n int, ballots []Ranking, lot Lot) (IRVResult, error) {
	pos, err := lot.positions(n)
	if err != nil {
		return IRVResult{}, err
	}
	groups, blank, err := groupRankings(ballots, n)
	if err != nil {
		return IRVResult{}, err
	}
	res := IRVResult{Ballots: len(ballots), Blank: blank, Winner: -1}
	out := make([]bool, n)
	at := make([]int, len(groups)) // index in prefs of the option each group counts for
	var history [][]int64
	for number := 1; ; number++ {
		r := Round{Number: number, Votes: make([]int, n), Eliminated: -1}
		for gi, g := range groups {
			for at[gi] < len(g.prefs) && out[g.prefs[at[gi]]] {
				at[gi]++
			}
			if at[gi] == len(g.prefs) {
				r.Exhausted += g.count
				continue
			}
			r.Votes[g.prefs[at[gi]]] += g.count
			r.Continuing += g.count
		}
		r.Majority = r.Continuing/2 + 1
		totals := make([]int64, n)
		var in []int
		for o, v := range r.Votes {
			totals[o] = int64(v)
			if !out[o] {
				in = append(in, o)
			}
		}
		history = append(history, totals)
		top := extreme(in, totals, true)
		if len(in) == 1 || r.Votes[top[0]] >= r.Majority {
			// A majority is held by one option only, so top has one entry.
			res.Winner = top[0]
			res.Rounds = append(res.Rounds, r)
			return res, nil
		}
		r.Eliminated, r.Tie = breakTie(extreme(in, totals, false), history, false, pos)
		out[r.Eliminated] = true
		res.Rounds = append(res.Rounds, r)
	}
}
