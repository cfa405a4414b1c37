package demo

import (
	"fmt"
	"strconv"
	"strings"

	"plenary/governance"
	"plenary/library"
)

func (g *gen) demandEndorsement(id int64, title string) governance.ProposalInput {
	return governance.ProposalInput{
		Title:    clip("Endorse the demand: "+title, governance.MaxProposalTitleLen),
		Body:     g.pick(g.w.EndorseDemandBodies) + "\n\n" + g.pick(g.w.ProposalClosings),
		DemandID: strconv.FormatInt(id, 10),
	}
}

func (g *gen) resourceEndorsement(id int64, title string) governance.ProposalInput {
	return governance.ProposalInput{
		Title:      clip("Endorse “"+title+"”", governance.MaxProposalTitleLen),
		Body:       g.pick(g.w.EndorseResourceBodies) + "\n\n" + g.pick(g.w.ProposalClosings),
		ResourceID: strconv.FormatInt(id, 10),
	}
}

func (g *gen) withdrawal(about [2]int64, title string) governance.ProposalInput {
	in := governance.ProposalInput{
		Title: clip("Withdraw our endorsement of “"+title+"”", governance.MaxProposalTitleLen),
		Body:  g.pick(g.w.WithdrawBodies),
	}
	if about[0] != 0 {
		in.DemandID = strconv.FormatInt(about[0], 10)
	} else {
		in.ResourceID = strconv.FormatInt(about[1], 10)
	}
	return in
}

func (g *gen) adoption() governance.ProposalInput {
	d := g.demand()
	return governance.ProposalInput{
		Title:    clip("Adopt a new demand: "+d.Title, governance.MaxProposalTitleLen),
		Body:     "We propose that the co-op adopts the demand below as its own, and campaigns for it.\n\n" + g.pick(g.w.ProposalClosings),
		NewTitle: d.Title, NewBody: d.Body, NewAudience: d.Audience,
	}
}

func (g *gen) motion() governance.ProposalInput {
	t := g.fill(g.pick(g.w.MotionTitles), map[string]string{})
	return governance.ProposalInput{Title: t, Body: g.pick(g.w.MotionBodies) + "\n\n" + g.pick(g.w.ProposalClosings)}
}

// fill replaces each {slot} in s with a random choice for it, the same
// choice wherever the slot recurs in the texts filled with the same vals.
func (g *gen) fill(s string, vals map[string]string) string {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}') + i
		slot := s[i+1 : j]
		v, ok := vals[slot]
		if !ok {
			v = g.pick(g.w.Slots[slot])
			vals[slot] = v
		}
		s = s[:i] + v + s[j+1:]
	}
}

// demand makes up a demand no other demand has the title of.
func (g *gen) demand() library.DemandInput {
	var t demandTemplate
	var title string
	vals := map[string]string{}
	for range 20 {
		t = g.w.Demands[g.r.IntN(len(g.w.Demands))]
		vals = map[string]string{}
		if title = g.fill(t.Title, vals); !g.dem[title] {
			break
		}
	}
	for n := 2; g.dem[title]; n++ {
		title = fmt.Sprintf("%s (%d)", strings.TrimSuffix(title, fmt.Sprintf(" (%d)", n-1)), n)
	}
	g.dem[title] = true
	body := g.fill("{problem}", vals) + " " + t.Ask + " " + g.pick(g.w.DemandOutcomes)
	return library.DemandInput{Title: title, Body: body, Audience: t.Audience}
}
