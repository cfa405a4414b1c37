package count

import "fmt"

// Kinds of STV stage.
const (
	StageFirst     = "first_preferences" // rule 45: the first stage
	StageSurplus   = "surplus"           // rules 48–49: a surplus transferred
	StageExclusion = "exclusion"         // rules 50–51: a candidate excluded
)

// Stage is one stage of a Scottish STV count, as a returning officer's
// result sheet shows it.
type Stage struct {
	Number int    `json:"number"` // from 1
	Kind   string `json:"kind"`   // StageFirst, StageSurplus or StageExclusion
	// Option is the option whose surplus is transferred or who is excluded
	// at this stage; -1 at the first stage.
	Option int `json:"option"`
	// Surplus is the surplus transferred at a surplus stage (votes less the
	// quota), 0 otherwise.
	Surplus Value `json:"surplus"`
	// Transfers[o] is the value added to option o at this stage; the
	// transferring or excluded option shows what it gave up, as a negative.
	// Empty at the first stage.
	Transfers []Value `json:"transfers"`
	// NonTransferable is the value of papers set aside at this stage because
	// they name no continuing option further down (exhausted).
	NonTransferable Value `json:"non_transferable"`
	// Rounding is the value lost at this stage to transfer values cut to
	// five decimals (rule 48(3): "any remainder being ignored").
	Rounding Value `json:"rounding"`
	// Totals[o] is option o's votes at the end of this stage: an elected
	// option whose surplus has gone shows the quota, an excluded one 0.
	Totals []Value `json:"totals"`
	// Elected are the options reaching the quota at this stage (rule 47),
	// most votes first.
	Elected []int `json:"elected"`
	// LastVacancies are the options deemed elected after this stage because
	// as many continuing options were left as vacancies (rule 52).
	LastVacancies []int `json:"last_vacancies,omitempty"`
	// Tie says how the choice of Option was settled when several were level:
	// "" (no tie), "earlier" (an earlier stage, rules 49(2), 51(2)(a)) or
	// "lot" (the Lot, standing in for rules 49(3), 51(2)(b)).
	Tie string `json:"tie,omitempty"`
}

// STVResult is the count of a ranked ballot by Scottish STV.
type STVResult struct {
	Seats   int     `json:"seats"`
	Ballots int     `json:"ballots"` // valid papers: ballots ranking at least one option
	Blank   int     `json:"blank"`   // ballots ranking nothing, not valid papers (rule 45)
	Quota   Value   `json:"quota"`
	Stages  []Stage `json:"stages"`
	// Elected are the options elected, in the order they were elected.
	Elected []int `json:"elected"`
	// Excluded are the options excluded, in the order they were excluded.
	Excluded []int `json:"excluded"`
	// NonTransferable and Rounding add up the stages' figures; with the
	// final Totals they make Ballots votes exactly.
	NonTransferable Value `json:"non_transferable"`
	Rounding        Value `json:"rounding"`
}

// STV counts ranked ballots over n options for seats places by the single
// transferable vote, following to the letter the counting rules of the
// Scottish Local Government Elections Order 2007 (SSI 2007/42, schedule 1,
// rules 45 to 52), with option for candidate and ranking for ballot paper:
//
//   - Rule 45: every ballot ranking at least one option is a valid paper,
//     credited to its first preference at a value of 1.
//   - Rule 46: the quota is the number of valid papers divided by seats + 1,
//     decimals ignored, plus one.
//   - Rule 47: an option whose votes equal or exceed the quota at the end
//     of a stage is elected.
//   - Rules 48–49: while vacancies remain, the largest untransferred surplus
//     (votes above the quota) is transferred, one surplus a stage: every
//     paper the option holds passes to its next continuing preference at a
//     transfer value of surplus × the paper's value ÷ the option's votes,
//     cut to five decimals; papers naming no continuing option are set
//     aside as non-transferable. Equal surpluses: the option with more votes
//     at the most recent earlier stage where they differed goes first,
//     else the lot decides.
//   - Rules 50–51: when no surplus is left to transfer, the option with the
//     fewest votes is excluded and each of its papers passes on at the value
//     it arrived with. A tie for fewest: the option with fewer votes at the
//     most recent earlier stage where they differed is excluded, else the
//     lot decides.
//   - Rule 52: when the continuing options are no more than the vacancies
//     left, they are all elected and no further transfer is made.
//
// "By lot" is replaced by the Lot (see Lot and LotFromSeed). When more
// options reach the quota at one stage, they are listed most votes first,
// ties as for equal surpluses. Arithmetic is exact in hundred-thousandths
// of a vote (Value).
func STV(n, seats int, ballots []Ranking, lot Lot) (STVResult, error) {
	pos, err := lot.positions(n)
	if err != nil {
		return STVResult{}, err
	}
	if seats < 1 || seats > n {
		return STVResult{}, fmt.Errorf("count: %d seats among %d options", seats, n)
	}
	groups, blank, err := groupRankings(ballots, n)
	if err != nil {
		return STVResult{}, err
	}
	valid := 0
	for _, g := range groups {
		valid += g.count
	}
	quota := int64(valid/(seats+1)+1) * int64(One) // rule 46
	res := STVResult{Seats: seats, Ballots: valid, Blank: blank, Quota: Value(quota),
		Elected: []int{}, Excluded: []int{}}

	const (
		continuing = iota
		elected
		excluded
	)
	state := make([]int, n)
	transferred := make([]bool, n) // surplus already dealt with
	totals := make([]int64, n)
	holds := make([][]int32, n) // groups whose papers each option holds
	at := make([]int, len(groups))
	value := make([]int64, len(groups)) // value of each paper in the group
	var history [][]int64

	// Rule 45: the first stage.
	for gi, g := range groups {
		first := g.prefs[0]
		value[gi] = int64(One)
		totals[first] += int64(g.count) * int64(One)
		holds[first] = append(holds[first], int32(gi))
	}

	// endStage records the stage and elects those reaching the quota (rule 47).
	endStage := func(s Stage) {
		snap := append([]int64(nil), totals...)
		history = append(history, snap)
		s.Totals = values(snap)
		var reached []int
		for o := range n {
			if state[o] == continuing && totals[o] >= quota {
				reached = append(reached, o)
			}
		}
		s.Elected = byVotes(reached, totals, history, pos)
		for _, o := range s.Elected {
			state[o] = elected
			res.Elected = append(res.Elected, o)
		}
		res.NonTransferable += s.NonTransferable
		res.Rounding += s.Rounding
		res.Stages = append(res.Stages, s)
	}
	endStage(Stage{Number: 1, Kind: StageFirst, Option: -1, Transfers: []Value{}})

	for len(res.Elected) < seats {
		var cont, pending []int
		for o := range n {
			switch {
			case state[o] == continuing:
				cont = append(cont, o)
			case state[o] == elected && !transferred[o] && totals[o] > quota:
				pending = append(pending, o)
			}
		}
		if len(cont) <= seats-len(res.Elected) { // rule 52
			last := &res.Stages[len(res.Stages)-1]
			last.LastVacancies = byVotes(cont, totals, history, pos)
			for _, o := range last.LastVacancies {
				state[o] = elected
				res.Elected = append(res.Elected, o)
			}
			break
		}

		s := Stage{Number: len(res.Stages) + 1}
		trans := make([]int64, n)
		// pass moves a group's papers, worth amount in all, from the option
		// holding them to the next continuing preference (rules 48(2), 50(3)).
		pass := func(gi int32, amount int64) {
			g := groups[gi]
			for at[gi] < len(g.prefs) && state[g.prefs[at[gi]]] != continuing {
				at[gi]++
			}
			if at[gi] == len(g.prefs) {
				s.NonTransferable += Value(amount)
				return
			}
			to := g.prefs[at[gi]]
			totals[to] += amount
			trans[to] += amount
			holds[to] = append(holds[to], gi)
		}

		var from int
		if len(pending) > 0 { // rules 48 and 49
			from, s.Tie = breakTie(extreme(pending, totals, true), history, true, pos)
			s.Kind = StageSurplus
			transferred[from] = true
			votes := totals[from]
			surplus := votes - quota
			s.Surplus = Value(surplus)
			var moved int64
			for _, gi := range holds[from] {
				// Rule 48(3): A ÷ B to five decimals, remainder ignored,
				// A = surplus × the paper's value, B = the option's votes.
				tv := surplus * value[gi] / votes
				value[gi] = tv
				amount := int64(groups[gi].count) * tv
				moved += amount
				pass(gi, amount)
			}
			s.Rounding = Value(surplus - moved)
			totals[from] = quota
			trans[from] = -surplus
		} else { // rules 50 and 51
			from, s.Tie = breakTie(extreme(cont, totals, false), history, false, pos)
			s.Kind = StageExclusion
			state[from] = excluded
			res.Excluded = append(res.Excluded, from)
			for _, gi := range holds[from] {
				pass(gi, int64(groups[gi].count)*value[gi]) // rule 50(4)
			}
			trans[from] = -totals[from]
			totals[from] = 0
		}
		holds[from] = nil
		s.Option = from
		s.Transfers = values(trans)
		endStage(s)
	}
	return res, nil
}

// byVotes lists options most votes first, ties settled as for equal
// surpluses (rule 49(2), then the lot).
func byVotes(opts []int, totals []int64, history [][]int64, pos []int) []int {
	left := append([]int(nil), opts...)
	out := []int{}
	for len(left) > 0 {
		pick, _ := breakTie(extreme(left, totals, true), history, true, pos)
		out = append(out, pick)
		for i, o := range left {
			if o == pick {
				left = append(left[:i], left[i+1:]...)
				break
			}
		}
	}
	return out
}

func values(xs []int64) []Value {
	vs := make([]Value, len(xs))
	for i, x := range xs {
		vs[i] = Value(x)
	}
	return vs
}
