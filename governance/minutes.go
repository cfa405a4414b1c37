package governance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"plenary/internal/ledger"
)

// A general meeting's minutes, written from the ledger (meeting.go runs
// the meeting).

// Minutes are a meeting's record, written from the ledger: when it was
// called and where, who was present (the frozen register, by member
// number), and for each agenda item its opening, those who stood aside
// and the result as published at close.
type Minutes struct {
	Meeting  Meeting
	Register *ledger.MeetingRegister
	Items    []MinutesItem
	Closed   *time.Time
}

// MinutesItem is an agenda item in the minutes.
type MinutesItem struct {
	Position int
	Proposal Proposal
	Opened   *ledger.BallotOpened
	OpenedAt string
	Recusals []ledger.Recused
	Closed   *ledger.BallotClosed
	ClosedAt string
	Effects  []string
	// Chosen are the labels a carried choice chose, in order.
	Chosen []string
}

// MeetingMinutes assembles a meeting's minutes from the ledger for viewer
// (nil for the public): the co-op's members read them while the meeting
// runs, as they follow its ballots; anyone reads them once it has closed,
// when every result in them is public. Anyone else finds nothing
// (ErrNotFound).
func (s *Service) MeetingMinutes(ctx context.Context, viewer *Member, id int64) (Minutes, error) {
	v, err := s.MeetingFor(ctx, id)
	if err != nil {
		return Minutes{}, err
	}
	if !v.Closed() && (viewer == nil || !canSeeRunning(*viewer)) {
		return Minutes{}, ErrNotFound
	}
	out := Minutes{Meeting: v.Meeting, Closed: v.ClosedAt}
	num := s.db.JSONNumber
	var regs []Entry
	if err := s.db.R.SelectContext(ctx, &regs, `SELECT seq, at, kind, body, prev_hash, hash FROM ledger WHERE kind = ? AND `+num("body", "meeting")+` = ?`,
		ledger.KindMeetingRegister, id); err != nil {
		return out, fmt.Errorf("governance: minutes: %w", err)
	}
	if len(regs) > 0 {
		out.Register = &ledger.MeetingRegister{}
		if err := json.Unmarshal([]byte(regs[0].Body), out.Register); err != nil {
			return out, fmt.Errorf("governance: minutes: %w", err)
		}
	}
	for _, it := range v.Items {
		mi := MinutesItem{Position: it.Position, Proposal: it.Proposal}
		var es []Entry
		if err := s.db.R.SelectContext(ctx, &es, `SELECT seq, at, kind, body, prev_hash, hash FROM ledger WHERE kind IN (?, ?, ?, ?, ?)
			AND `+num("body", "proposal")+` = ? ORDER BY seq`, ledger.KindBallotOpened, ledger.KindRecused, ledger.KindBallotClosed,
			ledger.KindEffectApplied, ledger.KindEffectSkipped, it.Proposal.ID); err != nil {
			return out, fmt.Errorf("governance: minutes: %w", err)
		}
		for _, e := range es {
			var err error
			switch e.Kind {
			case ledger.KindBallotOpened:
				mi.Opened, mi.OpenedAt = &ledger.BallotOpened{}, e.At
				err = json.Unmarshal([]byte(e.Body), mi.Opened)
			case ledger.KindRecused:
				var r ledger.Recused
				err = json.Unmarshal([]byte(e.Body), &r)
				mi.Recusals = append(mi.Recusals, r)
			case ledger.KindBallotClosed:
				mi.Closed, mi.ClosedAt = &ledger.BallotClosed{}, e.At
				err = json.Unmarshal([]byte(e.Body), mi.Closed)
			default:
				var ef ledger.Effect
				err = json.Unmarshal([]byte(e.Body), &ef)
				mi.Effects = append(mi.Effects, ef.Effect)
			}
			if err != nil {
				return out, fmt.Errorf("governance: minutes: ledger entry %d: %w", e.Seq, err)
			}
		}
		if mi.Chosen, err = s.Chosen(ctx, it.Proposal); err != nil {
			return out, err
		}
		out.Items = append(out.Items, mi)
	}
	return out, nil
}

// Markdown writes the minutes as Markdown, for the secretary to file or
// circulate. Names and titles are members' text: Markdown's own
// characters in them are escaped.
func (m Minutes) Markdown() string {
	var b strings.Builder
	esc := markdownEscaper.Replace
	fmt.Fprintf(&b, "# Minutes: %s\n\n", esc(m.Meeting.Title))
	fmt.Fprintf(&b, "- Meeting number: %d\n- Called for: %s\n", m.Meeting.ID, m.Meeting.StartsAt.UTC().Format("Monday 2 January 2006, 15:04 MST"))
	if m.Meeting.Place != "" {
		fmt.Fprintf(&b, "- Place: %s\n", esc(m.Meeting.Place))
	}
	if m.Meeting.Link != "" {
		fmt.Fprintf(&b, "- Online: <%s>\n", m.Meeting.Link)
	}
	fmt.Fprintf(&b, "- Chair: %s (member %d)\n", esc(m.Meeting.ChairName), m.Meeting.ChairID)
	if m.Closed != nil {
		fmt.Fprintf(&b, "- Closed: %s\n", m.Closed.UTC().Format("2 January 2006, 15:04 MST"))
	}
	b.WriteString("\n## Attendance\n\n")
	switch {
	case m.Register == nil:
		b.WriteString("The register is not frozen yet: it is, when the chair opens the first vote.\n")
	case len(m.Register.Present) == 0:
		b.WriteString("Nobody checked in.\n")
	default:
		nums := make([]string, len(m.Register.Present))
		for i, n := range m.Register.Present {
			nums[i] = fmt.Sprint(n)
		}
		fmt.Fprintf(&b, "%s present, by member number: %s.\n", plural(len(nums), "member"), strings.Join(nums, ", "))
	}
	b.WriteString("\n## Agenda\n")
	for _, it := range m.Items {
		fmt.Fprintf(&b, "\n### %d. %s\n\n", it.Position, esc(it.Proposal.Title))
		fmt.Fprintf(&b, "Proposal %d, %s.\n\n", it.Proposal.ID, strings.ToLower(it.Proposal.KindName()))
		for _, line := range it.Lines() {
			fmt.Fprintf(&b, "- %s\n", esc(line))
		}
	}
	return b.String()
}

var markdownEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`,
	"|", `\|`, "\n", " ", "\r", " ")

// Lines says, in sentences, what happened to an item: its opening, those
// who stood aside, the count and the outcome, and the effects. The
// minutes' page and their Markdown write the same sentences.
func (it MinutesItem) Lines() []string {
	if it.Opened == nil {
		return []string{"Not put to the vote."}
	}
	lines := []string{fmt.Sprintf("Voting opened at %s with %s on the roll%s.", clock(it.OpenedAt), plural(it.Opened.RollSize, "member"),
		proxiesText(len(it.Opened.Proxies)))}
	for _, r := range it.Recusals {
		lines = append(lines, fmt.Sprintf("Member %d stood aside: %s", r.Member, r.Reason))
	}
	c := it.Closed
	if c == nil {
		return append(lines, "Voting is open.")
	}
	how := ""
	switch {
	case c.ClosedBy != 0:
		how = fmt.Sprintf(" by the chair (member %d)", c.ClosedBy)
	case c.Early:
		how = ", everyone on the roll having voted"
	}
	lines = append(lines, fmt.Sprintf("Voting closed at %s%s.", clock(it.ClosedAt), how))
	quorum := fmt.Sprintf("turnout %d of %d", c.Turnout, c.RollSize-c.Recused)
	if c.QuorumOn == QuorumOnPresent {
		quorum += fmt.Sprintf(", %d present or represented", c.QuorumBase)
	}
	if c.QuorumMet {
		quorum += ", quorum met"
	} else {
		quorum += ", quorum not met"
	}
	if it.Proposal.IsChoice() {
		outcome := ChoiceOutcomeNames[c.Outcome]
		if len(it.Chosen) > 0 {
			outcome += ": " + strings.Join(it.Chosen, "; ")
		}
		lines = append(lines, fmt.Sprintf("Result (%s; %s): %s.", MethodNames[c.Method], quorum, outcome))
	} else {
		lines = append(lines, fmt.Sprintf("Result: %d yes, %d no, %d abstaining (%s): %s.", c.Yes, c.No, c.Abstain, quorum, c.Outcome))
	}
	for _, e := range it.Effects {
		lines = append(lines, "Effect: "+e+".")
	}
	return lines
}

func proxiesText(n int) string {
	if n == 0 {
		return ""
	}
	if n == 1 {
		return ", 1 proxy held"
	}
	return fmt.Sprintf(", %d proxies held", n)
}

// clock is a ledger time as the minutes write it.
func clock(at string) string {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return at
	}
	return t.UTC().Format("15:04 MST")
}

// Chosen are the labels of the options a carried choice chose, in order;
// none for a yes/no ballot, a choice still open, or one that chose nothing.
func (s *Service) Chosen(ctx context.Context, p Proposal) ([]string, error) {
	r, ok := p.ChoiceResult()
	if !ok || r.Outcome != OutcomeCarried {
		return nil, nil
	}
	options, err := readOptions(ctx, s.db.R, p.ID)
	if err != nil {
		return nil, err
	}
	var labels []string
	for _, o := range r.Chosen {
		if o >= 0 && o < len(options) {
			labels = append(labels, options[o].Label)
		}
	}
	return labels, nil
}
