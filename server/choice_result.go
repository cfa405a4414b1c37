package server

import (
	"fmt"
	"strconv"
	"strings"

	"plenary/governance"
	"plenary/governance/count"
)

// The published count of a closed choice, laid out for
// templates/partials/choice_result.html: what was decided in a sentence,
// then the method's tables and charts. Every chart has its table: the
// table is what a screen reader reads, and the chart says nothing the
// table does not.

// choiceResult is a closed choice's count as the page shows it.
type choiceResult struct {
	R          governance.ChoiceResult
	Outcome    string // in words: decided, nothing decided, inquorate
	CountedBy  string // the method, as "counted by …" ends
	Decided    string // what was decided, in one sentence
	Effect     string // what that changed, with a link
	EffectHref string
	EffectLink string
	ByLot      string // how the lot settled a tie, "" when it did not
	Approval   *approvalView
	Schulze    *schulzeView
	IRV        *irvView
	STV        *stvView
}

type approvalView struct {
	Rows  []approvalRow // most approved first
	Chart chart
}

type approvalRow struct {
	Label  string
	Total  int
	Pct    int
	Chosen bool
}

type schulzeView struct {
	Order     []string
	Condorcet string // the Condorcet winner's label, "" when there is none
	Pairwise  matrixTable
	Strongest *matrixTable // nil when the count has none
	Chart     chart
}

// matrixTable is a square table of the options, row against column.
type matrixTable struct {
	ID, Caption string
	Head        []string
	Rows        []matrixRow
}

type matrixRow struct {
	Label string
	Cells []matrixCell
}

type matrixCell struct {
	Value string
	Self  bool // the diagonal: an option against itself
	Wins  bool // greater than the cell across the diagonal
}

type irvView struct {
	Winner     string
	Rounds     []count.Round
	Eliminated []string    // per round: who went out, and how a tie was settled
	Rows       []resultRow // per option: its votes in each round
	Charts     []chart     // per round
}

type stvView struct {
	Quota    string
	Stages   []stvStage
	Rows     []resultRow // per option: transfer and total at each stage
	NonTr    []string    // non-transferable at each stage
	Rounding []string    // lost to transfer values cut to five decimals, at each stage
	Charts   []chart     // per stage
	Elected  []string
}

type stvStage struct {
	Number  int
	Action  string // first preferences, a surplus transferred, an exclusion
	Elected string
	Tie     string
}

// resultRow is one option across the rounds or stages of a count.
type resultRow struct {
	Label  string
	Cells  []string
	Chosen bool
}

// chart is a horizontal bar chart drawn as SVG: a label above each bar,
// the value written beside it, and bars for what was chosen solid, the
// others hatched, so it reads without colour. Mark is a vertical line (a
// quota, a majority) when MarkX > 0.
type chart struct {
	ID, Title, Desc, Caption string
	Height                   int
	Rows                     []chartRow
	MarkX                    int
	Mark                     string
}

type chartRow struct {
	Label, Value string
	Width, Y     int
	Solid        bool
}

const chartWidth = 380 // the longest bar, of a 500-wide view

// newChart lays values out as bars. mark, when above 0, is drawn as a
// line at its value.
func newChart(id, title, caption string, labels, texts []string, values []float64, solid []bool, mark float64, markLabel string) chart {
	c := chart{ID: id, Title: title, Caption: caption}
	most := mark
	for _, v := range values {
		most = max(most, v)
	}
	if most <= 0 {
		most = 1
	}
	top := 8
	if mark > 0 {
		top = 28
		c.MarkX, c.Mark = 4+int(mark*chartWidth/most), markLabel
	}
	var desc []string
	for i, v := range values {
		y := top + i*48
		c.Rows = append(c.Rows, chartRow{Label: shorten(labels[i], 60), Value: texts[i], Width: max(int(v*chartWidth/most), 1), Y: y, Solid: solid[i]})
		desc = append(desc, labels[i]+": "+texts[i])
	}
	c.Height = top + len(values)*48 + 4
	c.Desc = strings.Join(desc, "; ") + "."
	return c
}

// listed joins labels: "A", "A and B", "A, B and C".
func listed(labels []string) string {
	if len(labels) < 2 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}

// numbered joins labels as an order: "1. A, 2. B".
func numbered(labels []string) string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = fmt.Sprintf("%d. %s", i+1, l)
	}
	return strings.Join(out, ", ")
}

// votes writes an STV value as a whole number when it is one, and with
// the rules' five decimals when it is not.
func votes(v count.Value) string {
	if v%count.One == 0 {
		return strconv.FormatInt(int64(v/count.One), 10)
	}
	return v.String()
}

var countedBy = map[string]string{
	governance.MethodApproval: "approval voting",
	governance.MethodSchulze:  "the Schulze method",
	governance.MethodIRV:      "instant-runoff",
	governance.MethodSTV:      "single transferable vote (Scottish STV)",
}

// choiceResultOf lays out a closed choice's stored count.
func (s *Server) choiceResultOf(p governance.Proposal, options []choiceOption) (*choiceResult, error) {
	r, ok := p.ChoiceResult()
	if !ok {
		return nil, fmt.Errorf("server: proposal %d is closed without a count", p.ID)
	}
	labels := make([]string, r.Options)
	for i := range labels {
		labels[i] = fmt.Sprintf("Option %d", i+1)
		if i < len(options) {
			labels[i] = options[i].Label
		}
	}
	names := func(os []int) []string {
		out := make([]string, len(os))
		for i, o := range os {
			out[i] = labels[o]
		}
		return out
	}
	chosen := map[int]bool{}
	for _, o := range r.Chosen {
		chosen[o] = true
	}
	v := &choiceResult{R: r, Outcome: governance.ChoiceOutcomeNames[r.Outcome], CountedBy: countedBy[r.Method]}
	v.decide(p, names(r.Chosen))

	switch {
	case r.Approval != nil:
		a := &approvalView{}
		var ls, ts []string
		var vs []float64
		var solid []bool
		for i, o := range r.Approval.Order {
			n := r.Approval.Totals[o]
			a.Rows = append(a.Rows, approvalRow{Label: labels[o], Total: n, Pct: n * 100 / max(r.Ballots, 1), Chosen: chosen[o]})
			ls, ts, vs, solid = append(ls, labels[o]), append(ts, fmt.Sprintf("%d (%d%%)", n, n*100/max(r.Ballots, 1))),
				append(vs, float64(n)), append(solid, chosen[o])
			if i+1 < len(r.Approval.Tied) && r.Approval.Tied[i] {
				v.ByLot = "Options with equal totals are listed in the order of the lot, drawn from the box digest."
			}
		}
		mark, markLabel := 0.0, ""
		if r.ApprovalPct != nil && p.Kind == governance.KindChoose {
			mark = float64(r.Ballots**r.ApprovalPct) / 100
			markLabel = fmt.Sprintf("%d%% of ballots", *r.ApprovalPct)
		}
		a.Chart = newChart("approval-chart", "Approvals for each option", "Ballots approving each option, most approved first. Solid bars: chosen; hatched: not chosen.",
			ls, ts, vs, solid, mark, markLabel)
		v.Approval = a
	case r.Schulze != nil:
		v.Schulze = schulzeOf(r.Schulze, labels, chosen)
		if v.Schulze.lot(r.Schulze) {
			v.ByLot = "The Schulze method could not separate some options; the lot, drawn from the box digest, put them in order."
		}
	case r.IRV != nil:
		v.IRV = irvOf(r.IRV, labels)
		for _, rd := range r.IRV.Rounds {
			if rd.Tie == count.TieLot {
				v.ByLot = fmt.Sprintf("In round %d options tied for last place; the lot, drawn from the box digest, chose which was eliminated.", rd.Number)
			}
		}
	case r.STV != nil:
		v.STV = stvOf(r.STV, labels, chosen)
		for _, st := range r.STV.Stages {
			if st.Tie == count.TieLot {
				v.ByLot = fmt.Sprintf("At stage %d candidates were level at every stage; the lot, drawn from the box digest, chose between them.", st.Number)
			}
		}
	}
	return v, nil
}

// decide says what the choice decided, and what that changed.
func (v *choiceResult) decide(p governance.Proposal, chosen []string) {
	r := v.R
	switch {
	case r.Outcome == governance.OutcomeInquorate:
		v.Decided = fmt.Sprintf("Nothing was decided: %d of the %d members on the roll cast a ballot, short of the quorum of %d%%.",
			r.Ballots, r.RollSize, r.QuorumPct)
		return
	case r.Outcome != governance.OutcomeCarried && r.Ballots == r.Blank:
		v.Decided = "Nothing was decided: every ballot cast was blank."
		return
	case r.Outcome != governance.OutcomeCarried && p.Kind == governance.KindChoose && r.ApprovalPct != nil:
		v.Decided = fmt.Sprintf("Nothing was endorsed: no resource was approved on more than %d%% of the ballots.", *r.ApprovalPct)
		return
	case r.Outcome != governance.OutcomeCarried:
		v.Decided = "Nothing was decided."
		return
	}
	switch p.Kind {
	case governance.KindPrioritise:
		v.Decided = "The members put the demands in this order of priority: " + numbered(chosen) + "."
		v.Effect, v.EffectHref, v.EffectLink = "The priority list on the demands page now follows this order:", "/demands", "see the demands"
	case governance.KindChoose:
		v.Decided = fmt.Sprintf("Endorsed: %s, each approved on more than %d%% of the ballots.", listed(chosen), *r.ApprovalPct)
		v.Effect, v.EffectHref, v.EffectLink = "The co-op now endorses them in the library:", "/library", "see the library"
	case governance.KindElect:
		office := ""
		if p.Office != nil {
			office = " as " + *p.Office
		}
		v.Decided = fmt.Sprintf("Elected%s: %s.", office, listed(chosen))
		v.Effect, v.EffectHref, v.EffectLink = "They are listed among the co-op's officers:", "/officers", "see the officers"
	default:
		if len(chosen) == 1 {
			v.Decided = "The members chose " + chosen[0] + "."
		} else {
			v.Decided = "The members' order: " + numbered(chosen) + "."
		}
		v.Effect = "A poll changes nothing by itself: its result is the record."
	}
}

func schulzeOf(res *count.SchulzeResult, labels []string, chosen map[int]bool) *schulzeView {
	v := &schulzeView{}
	n := len(labels)
	for _, o := range res.Order {
		v.Order = append(v.Order, labels[o])
	}
	if res.Condorcet {
		v.Condorcet = labels[res.Winner]
	}
	matrix := func(m [][]int) []matrixRow {
		if len(m) != n {
			return nil
		}
		rows := make([]matrixRow, n)
		for i := range n {
			rows[i].Label = labels[i]
			for j := range n {
				c := matrixCell{Self: i == j}
				if !c.Self {
					c.Value, c.Wins = strconv.Itoa(m[i][j]), m[i][j] > m[j][i]
				}
				rows[i].Cells = append(rows[i].Cells, c)
			}
		}
		return rows
	}
	var head []string
	for _, l := range labels {
		head = append(head, shorten(l, 30))
	}
	v.Pairwise = matrixTable{ID: "pairwise", Head: head, Rows: matrix(res.Pairwise),
		Caption: "Pairwise table d[row, column]: the ballots ranking the row's option above the column's. A figure in bold beats the one across the diagonal."}
	if rows := matrix(res.Strongest); rows != nil {
		v.Strongest = &matrixTable{ID: "strongest", Head: head, Rows: rows,
			Caption: "Strongest paths p[row, column]: the strength of the strongest path from the row's option to the column's. The row's option is ranked above the column's where its figure is in bold."}
	}
	// The chart: for each option in Schulze's order, the head-to-head
	// contests it wins.
	var ls, ts []string
	var vs []float64
	var solid []bool
	for _, o := range res.Order {
		wins := 0
		for j := range n {
			if j != o && len(res.Pairwise) == n && res.Pairwise[o][j] > res.Pairwise[j][o] {
				wins++
			}
		}
		ls, ts, vs, solid = append(ls, labels[o]), append(ts, fmt.Sprintf("beats %d of %d", wins, n-1)), append(vs, float64(wins)), append(solid, chosen[o] && o == res.Winner)
	}
	v.Chart = newChart("schulze-chart", "Head-to-head contests each option wins", "Options in Schulze's order, each bar the number of others it beats head to head. Solid bar: the winner.",
		ls, ts, vs, solid, 0, "")
	return v
}

// lot says whether the lot ordered two options Schulze leaves level.
func (v *schulzeView) lot(res *count.SchulzeResult) bool {
	for i := 0; i+1 < len(res.Order); i++ {
		a, b := res.Order[i], res.Order[i+1]
		if len(res.Strongest) > max(a, b) && res.Strongest[a][b] == res.Strongest[b][a] {
			return true
		}
	}
	return false
}

func irvOf(res *count.IRVResult, labels []string) *irvView {
	v := &irvView{Winner: labels[res.Winner], Rounds: res.Rounds}
	out := map[int]int{} // option → the round it was eliminated in
	for _, rd := range res.Rounds {
		went := "—"
		if rd.Eliminated >= 0 && rd.Eliminated < len(labels) {
			out[rd.Eliminated] = rd.Number
			went = labels[rd.Eliminated]
			if rd.Tie != "" {
				went += map[string]string{count.TieEarlier: " (tie settled by an earlier round)", count.TieLot: " (tie settled by lot)"}[rd.Tie]
			}
		}
		v.Eliminated = append(v.Eliminated, went)
	}
	for o, l := range labels {
		row := resultRow{Label: l, Chosen: o == res.Winner}
		for _, rd := range res.Rounds {
			if at, gone := out[o]; gone && at < rd.Number {
				row.Cells = append(row.Cells, "—")
			} else if o < len(rd.Votes) {
				row.Cells = append(row.Cells, strconv.Itoa(rd.Votes[o]))
			}
		}
		v.Rows = append(v.Rows, row)
	}
	for _, rd := range res.Rounds {
		var ls, ts []string
		var vs []float64
		var solid []bool
		for o, l := range labels {
			if at, gone := out[o]; (gone && at < rd.Number) || o >= len(rd.Votes) {
				continue
			}
			note := ""
			if rd.Eliminated == o {
				note = ", eliminated"
			}
			ls, ts, vs, solid = append(ls, l), append(ts, strconv.Itoa(rd.Votes[o])+note), append(vs, float64(rd.Votes[o])), append(solid, o == res.Winner)
		}
		v.Charts = append(v.Charts, newChart(fmt.Sprintf("irv-chart-%d", rd.Number), fmt.Sprintf("Round %d", rd.Number),
			fmt.Sprintf("Round %d: votes for each option still in the count. The line marks a majority, %d votes. Solid bar: the winner.", rd.Number, rd.Majority),
			ls, ts, vs, solid, float64(rd.Majority), fmt.Sprintf("majority %d", rd.Majority)))
	}
	return v
}

func stvOf(res *count.STVResult, labels []string, chosen map[int]bool) *stvView {
	v := &stvView{Quota: votes(res.Quota)}
	for _, o := range res.Elected {
		v.Elected = append(v.Elected, labels[o])
	}
	for _, st := range res.Stages {
		s := stvStage{Number: st.Number, Tie: st.Tie}
		switch st.Kind {
		case count.StageFirst:
			s.Action = "First preferences"
		case count.StageSurplus:
			s.Action = fmt.Sprintf("Surplus of %s (%s) transferred", labels[st.Option], votes(st.Surplus))
		case count.StageExclusion:
			s.Action = labels[st.Option] + " excluded"
		}
		if st.Tie != "" {
			s.Action += map[string]string{count.TieEarlier: " (a tie, settled by an earlier stage)", count.TieLot: " (a tie, settled by lot)"}[st.Tie]
		}
		var el []string
		for _, o := range append(append([]int{}, st.Elected...), st.LastVacancies...) {
			el = append(el, labels[o])
		}
		s.Elected = listed(el)
		v.Stages = append(v.Stages, s)
		v.NonTr, v.Rounding = append(v.NonTr, votes(st.NonTransferable)), append(v.Rounding, votes(st.Rounding))
	}
	for o, l := range labels {
		row := resultRow{Label: l, Chosen: chosen[o]}
		for _, st := range res.Stages {
			cell := ""
			if o < len(st.Transfers) && st.Transfers[o] != 0 {
				sign := "+"
				if st.Transfers[o] < 0 {
					sign = ""
				}
				cell = sign + votes(st.Transfers[o]) + " → "
			}
			if o < len(st.Totals) {
				cell += votes(st.Totals[o])
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	for _, st := range res.Stages {
		var ls, ts []string
		var vs []float64
		var solid []bool
		for o, l := range labels {
			if o >= len(st.Totals) {
				continue
			}
			ls, ts, vs, solid = append(ls, l), append(ts, votes(st.Totals[o])), append(vs, float64(st.Totals[o])/float64(count.One)), append(solid, chosen[o])
		}
		v.Charts = append(v.Charts, newChart(fmt.Sprintf("stv-chart-%d", st.Number), fmt.Sprintf("Stage %d", st.Number),
			fmt.Sprintf("Stage %d: each candidate's votes at its end. The line marks the quota, %s. Solid bars: elected.", st.Number, votes(res.Quota)),
			ls, ts, vs, solid, float64(res.Quota)/float64(count.One), "quota "+votes(res.Quota)))
	}
	return v
}
