package count

// How a tie was settled, as recorded on a round or stage.
const (
	TieEarlier = "earlier" // by the totals at the most recent earlier stage where they differed
	TieLot     = "lot"     // by the Lot, the rules' "by lot"
)

// breakTie chooses one option among tied ones the way Scottish STV rules 49(2)
// and 51(2) do, and IRV here too: look back stage by stage, most recent
// first, and at each keep only the tied options with the most votes (most)
// or the fewest (!most); once one is left, it is chosen. If the stages never
// separate them, the Lot does: the one earliest in the Lot when most, the
// one latest when !most. history[k] holds every option's total at the end of
// stage k. how is "" when only one option was given.
func breakTie(tied []int, history [][]int64, most bool, lotPos []int) (pick int, how string) {
	if len(tied) == 1 {
		return tied[0], ""
	}
	cur := append([]int(nil), tied...)
	for k := len(history) - 1; k >= 0 && len(cur) > 1; k-- {
		best := history[k][cur[0]]
		for _, o := range cur[1:] {
			if v := history[k][o]; (most && v > best) || (!most && v < best) {
				best = v
			}
		}
		kept := cur[:0]
		for _, o := range cur {
			if history[k][o] == best {
				kept = append(kept, o)
			}
		}
		cur = kept
	}
	if len(cur) == 1 {
		return cur[0], TieEarlier
	}
	pick = cur[0]
	for _, o := range cur[1:] {
		if (most && lotPos[o] < lotPos[pick]) || (!most && lotPos[o] > lotPos[pick]) {
			pick = o
		}
	}
	return pick, TieLot
}

// extreme returns the options among cands whose current total is highest
// (most) or lowest (!most).
func extreme(cands []int, totals []int64, most bool) []int {
	var out []int
	for _, o := range cands {
		switch {
		case len(out) == 0:
			out = append(out, o)
		case totals[o] == totals[out[0]]:
			out = append(out, o)
		case (most && totals[o] > totals[out[0]]) || (!most && totals[o] < totals[out[0]]):
			out = append(out[:0], o)
		}
	}
	return out
}
