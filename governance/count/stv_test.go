package count

import (
	"slices"
	"testing"
)

type wantStage struct {
	kind            string
	option          string // "" at the first stage
	totals          []string
	nonTransferable string
	rounding        string
	elected         string
	lastVacancies   string
	tie             string
}

func checkSTV(t *testing.T, res STVResult, quota string, stages []wantStage, elected, excluded string) {
	t.Helper()
	if res.Quota != v(quota) {
		t.Errorf("Quota = %s, want %s", res.Quota, quota)
	}
	if letters(res.Elected) != elected || letters(res.Excluded) != excluded {
		t.Errorf("Elected %s, Excluded %s; want %s, %s", letters(res.Elected), letters(res.Excluded), elected, excluded)
	}
	if len(res.Stages) != len(stages) {
		t.Fatalf("%d stages, want %d: %+v", len(res.Stages), len(stages), res.Stages)
	}
	for i, w := range stages {
		s := res.Stages[i]
		opt := ""
		if s.Option >= 0 {
			opt = letters([]int{s.Option})
		}
		var totals []Value
		for _, x := range w.totals {
			totals = append(totals, v(x))
		}
		if s.Number != i+1 || s.Kind != w.kind || opt != w.option || !slices.Equal(s.Totals, totals) ||
			s.NonTransferable != v(w.nonTransferable) || s.Rounding != v(w.rounding) ||
			letters(s.Elected) != w.elected || letters(s.LastVacancies) != w.lastVacancies || s.Tie != w.tie {
			t.Errorf("stage %d:\n got %d %s %s totals %v nt %s rounding %s elected %s last %s tie %q\nwant %+v",
				i+1, s.Number, s.Kind, opt, s.Totals, s.NonTransferable, s.Rounding,
				letters(s.Elected), letters(s.LastVacancies), s.Tie, w)
		}
	}
}

func TestSTV(t *testing.T) {
	t.Run("Wikipedia's food election: 20 voters, 3 seats", func(t *testing.T) {
		// After the example in Wikipedia's "Single transferable vote"
		// article: A oranges, B pears, C chocolate, D strawberries,
		// E sweets. Quota floor(20/4)+1 = 6. Counted by hand under the
		// Scottish rules:
		//  1. A 4, B 2, C 12, D 1, E 1: C reaches the quota.
		//  2. C's surplus 6 at 6×1/12 = 0.5 a paper: D +4 (8 papers),
		//     E +2 (4 papers); C keeps 6.
		//  3. B, lowest, is excluded: 2 papers to A, who reaches 6.
		//     A has no surplus (votes equal the quota, rule 48 needs more).
		//  4. E, lowest of D and E, is excluded: 1 paper at 1 and 4 at 0.5
		//     name nothing further, 3 votes non-transferable. D is the
		//     only continuing option for the last seat (rule 52).
		res, err := STV(5, 3, box("4 A, 2 BA, 8 CD, 4 CE, 1 D, 1 E"), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkSTV(t, res, "6", []wantStage{
			{StageFirst, "", []string{"4", "2", "12", "1", "1"}, "0", "0", "C", "", ""},
			{StageSurplus, "C", []string{"4", "2", "6", "5", "3"}, "0", "0", "", "", ""},
			{StageExclusion, "B", []string{"6", "0", "6", "5", "3"}, "0", "0", "A", "", ""},
			{StageExclusion, "E", []string{"6", "0", "6", "5", "0"}, "3", "0", "", "D", ""},
		}, "CAD", "BE")
		if want := []Value{0, 0, -6 * One, 4 * One, 2 * One}; !slices.Equal(res.Stages[1].Transfers, want) {
			t.Errorf("stage 2 transfers = %v, want %v", res.Stages[1].Transfers, want)
		}
	})

	t.Run("transfer values are cut to five decimals and weighted by each paper's value", func(t *testing.T) {
		// 24 papers, 3 seats, quota floor(24/4)+1 = 7. Counted by hand:
		//  1. A 13, B 4, C 3, D 3, E 1: A is elected.
		//  2. A's surplus 6: transfer value 6×1/13 = 0.461538… cut to
		//     0.46153. B +11×0.46153 = 5.07683 (9.07683, elected),
		//     C +2×0.46153 = 0.92306 (3.92306). 6 − 5.99989 = 0.00011 lost.
		//  3. B's surplus 2.07683 over all B's papers (rule 48(4)):
		//     4 BD papers at 1: 2.07683×1/9.07683 = 0.22880(5…) → D +0.91520;
		//     11 ABC papers at 0.46153: 2.07683×0.46153/9.07683 =
		//     0.10560(06…) → C +1.16160. 0.00003 lost.
		//     C 5.08466, D 3.91520.
		//  4. E (1) is excluded: its paper names nothing more, 1 lost.
		//  5. D (3.91520) is excluded: 3 DE papers at 1 and 4 BD papers at
		//     0.22880 name nothing continuing, 3.91520 non-transferable.
		//     C alone is left for the last seat (rule 52).
		// Check: 7 + 7 + 5.08466 + 1 + 3.91520 + 0.00011 + 0.00003 = 24.
		res, err := STV(5, 3, box("11 ABC, 2 AC, 4 BD, 3 C, 3 DE, 1 E"), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkSTV(t, res, "7", []wantStage{
			{StageFirst, "", []string{"13", "4", "3", "3", "1"}, "0", "0", "A", "", ""},
			{StageSurplus, "A", []string{"7", "9.07683", "3.92306", "3", "1"}, "0", "0.00011", "B", "", ""},
			{StageSurplus, "B", []string{"7", "7", "5.08466", "3.91520", "1"}, "0", "0.00003", "", "", ""},
			{StageExclusion, "E", []string{"7", "7", "5.08466", "3.91520", "0"}, "1", "0", "", "", ""},
			{StageExclusion, "D", []string{"7", "7", "5.08466", "0", "0"}, "3.91520", "0", "", "C", ""},
		}, "ABC", "ED")
		if res.Stages[1].Surplus != v("6") || res.Stages[2].Surplus != v("2.07683") {
			t.Errorf("surpluses %s, %s", res.Stages[1].Surplus, res.Stages[2].Surplus)
		}
	})

	t.Run("the larger surplus is transferred first, whatever the stage it arose at", func(t *testing.T) {
		// Quota floor(21/4)+1 = 6. A 8 and B 7 both elected at stage 1;
		// A's surplus 2 goes first (rule 49(1)) at 0.25: C 5. Then B's 1
		// at 1/7 = 0.14285: D 3 + 7×0.14285 = 3.99995, 0.00005 lost.
		// D is excluded, all its papers exhaust; C takes the last seat.
		res, err := STV(4, 3, box("8 AC, 7 BD, 3 C, 3 D"), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkSTV(t, res, "6", []wantStage{
			{StageFirst, "", []string{"8", "7", "3", "3"}, "0", "0", "AB", "", ""},
			{StageSurplus, "A", []string{"6", "7", "5", "3"}, "0", "0", "", "", ""},
			{StageSurplus, "B", []string{"6", "6", "5", "3.99995"}, "0", "0.00005", "", "", ""},
			{StageExclusion, "D", []string{"6", "6", "5", "0"}, "3.99995", "0", "", "C", ""},
		}, "ABC", "D")
	})

	t.Run("a tie for exclusion looks back to the last stage where the tied differed", func(t *testing.T) {
		// Quota floor(12/3)+1 = 5. Stage 1: A 6, B 2, C 2, D 2: A elected.
		// Stage 2: A's surplus 1 at 1/6 = 0.16666: C +0.16666 (1 AC paper),
		// leaving B 2, C 2.16666, D 2: B and D tie for fewest, and they
		// tied at stage 1 too, so the lot (default: later index) excludes D.
		// Then B 2 is lowest; then C is last for the second seat.
		res, err := STV(4, 2, box("5 A, 1 AC, 2 B, 2 C, 2 DB"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s := res.Stages[2]; s.Option != 3 || s.Tie != TieLot {
			t.Errorf("stage 3 excluded %d by %q, want D by lot", s.Option, s.Tie)
		}
		// The same count with D favoured by the lot excludes B instead.
		res, err = STV(4, 2, box("5 A, 1 AC, 2 B, 2 C, 2 DB"), Lot{3, 0, 2, 1})
		if err != nil {
			t.Fatal(err)
		}
		if s := res.Stages[2]; s.Option != 1 || s.Tie != TieLot {
			t.Errorf("stage 3 excluded %d by %q, want B by lot", s.Option, s.Tie)
		}
		// Here B and C tie at stage 3 after differing at stage 1.
		// Quota floor(11/3)+1 = 4. Stage 1: A 4, B 3, C 2, D 1, E 1:
		// A elected, no surplus. Stage 2: E (tied with D at 1, both 1 at
		// every stage, lot) excluded, its paper to C: C 3. Stage 3: D
		// excluded, paper exhausts. B 3, C 3 tie: at stage 2 they were
		// 3 and 3, at stage 1 3 and 2, so C goes.
		res, err = STV(5, 2, box("4 A, 3 B, 2 C, 1 D, 1 EC"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if s := res.Stages[3]; s.Kind != StageExclusion || s.Option != 2 || s.Tie != TieEarlier {
			t.Errorf("stage 4 excluded %d by %q, want C by an earlier stage", s.Option, s.Tie)
		}
		if letters(res.Elected) != "AB" {
			t.Errorf("Elected %s, want AB", letters(res.Elected))
		}
	})

	t.Run("as many options as seats are all elected at once", func(t *testing.T) {
		res, err := STV(3, 3, box("2 A, 1 B"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Stages) != 1 || letters(res.Elected) != "AB"+"C" {
			t.Errorf("stages %d, elected %s", len(res.Stages), letters(res.Elected))
		}
	})

	t.Run("blank ballots are not valid papers and do not raise the quota", func(t *testing.T) {
		ballots := append(box("3 A, 2 B, 1 C"), Ranking{}, Ranking{})
		res, err := STV(3, 1, ballots, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Ballots != 6 || res.Blank != 2 || res.Quota != v("4") {
			t.Errorf("Ballots %d, Blank %d, Quota %s", res.Ballots, res.Blank, res.Quota)
		}
	})
}
