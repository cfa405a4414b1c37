package demo

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"plenary/governance"
	"plenary/library"
)

// setRules shortens every kind's minimum voting period to one minute, so
// whoever tries the demo can run a ballot in a minute, and lowers quorums
// to what the demo's turnout can reach: a million votes across a thousand
// ballots of a hundred thousand members is a 1 % turnout, which no default
// quorum would let through. The admin changes them, on the ledger.
func (r *run) setRules(proposals, votes, rollSize int) error {
	rules, err := r.gov.Rules(r.ctx)
	if err != nil {
		return err
	}
	turnout := 0.0
	if proposals > 0 && rollSize > 0 {
		turnout = 100 * float64(votes) / float64(proposals) / float64(rollSize)
	}
	// Half the average turnout: most ballots reach it, the quietest don't.
	quorum := int(turnout / 2)
	for _, rule := range rules {
		in := governance.RuleInput{Kind: rule.Kind, QuorumPct: strconv.Itoa(min(rule.QuorumPct, quorum)),
			Threshold: rule.Threshold, MinMinutes: "1", Secret: rule.Secret, Methods: rule.AllowedMethods()}
		if err := r.gov.SetRule(r.ctx, r.admin, in); err != nil {
			return err
		}
	}
	r.rules, err = r.gov.Rules(r.ctx)
	return err
}

// ballots runs n proposals through voting, staggered so that several are
// open at once as in a real co-op, and casts votes between them.
func (r *run) ballots(n, votes int) error {
	r.outcome = map[string]int{}
	r.endorsedResource = map[int64]bool{}
	r.busy = map[[2]int64]bool{}
	turnouts := r.g.spread(votes, n, len(r.roll))
	gap := proposalGap(n)
	base := r.now.Add(24 * time.Hour)
	voters := slices.Clone(r.roll) // shuffled in part for each ballot
	p := newProgress(r.log, "ballots", "proposals", n)
	for i := range n {
		at := base.Add(time.Duration(i)*gap + time.Duration(r.g.r.Int64N(int64(gap/2)))).Truncate(time.Second)
		if err := r.closeUntil(at); err != nil {
			return err
		}
		if err := r.comment(); err != nil {
			return err
		}
		prop, err := r.propose()
		if err != nil {
			return err
		}
		k := turnouts[i]
		cast := make([]governance.CastVote, k)
		for j := range k {
			x := j + r.g.r.IntN(len(voters)-j)
			voters[j], voters[x] = voters[x], voters[j]
			cast[j].Member = voters[j]
		}
		slices.SortFunc(cast, func(a, b governance.CastVote) int { return cmp.Compare(a.Member, b.Member) })
		yes, abstain := r.g.mood()
		for j := range cast {
			switch f := r.g.r.Float64(); {
			case f < abstain:
				cast[j].Choice = governance.ChoiceAbstain
			case f < abstain+(1-abstain)*yes:
				cast[j].Choice = governance.ChoiceYes
			default:
				cast[j].Choice = governance.ChoiceNo
			}
		}
		if k > 0 {
			if err := r.gov.VoteMany(r.ctx, prop.ID, cast); err != nil {
				return fmt.Errorf("votes on proposal %d: %w", prop.ID, err)
			}
		}
		r.votes += k
		p.update(i+1, fmt.Sprintf(", %d votes", r.votes))
	}
	last := r.now
	for _, b := range r.running {
		last = maxTime(last, b.closes)
	}
	if err := r.closeUntil(last); err != nil {
		return err
	}
	p.done(n, fmt.Sprintf(", %d votes", r.votes))
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// closeUntil moves the clock on to t, closing on the way each ballot whose
// time is up at its closing time, through the Advance the server's ticker
// calls, and notes what each decided.
func (r *run) closeUntil(t time.Time) error {
	slices.SortStableFunc(r.running, func(a, b running) int { return a.closes.Compare(b.closes) })
	for len(r.running) > 0 && !r.running[0].closes.After(t) {
		b := r.running[0]
		r.running = r.running[1:]
		r.now = maxTime(r.now, b.closes)
		if err := r.gov.Advance(r.ctx); err != nil {
			return err
		}
		p, err := r.gov.Proposal(r.ctx, &r.admin, b.id)
		if err != nil {
			return err
		}
		if !p.Closed() {
			return fmt.Errorf("proposal %d is %s after its close", p.ID, p.Status)
		}
		outcome := *p.Outcome
		r.outcome[outcome]++
		carried := outcome == governance.OutcomeCarried
		delete(r.busy, b.about)
		switch demand, resource := b.about[0], b.about[1]; b.kind {
		case governance.KindEndorseDemand:
			switch outcome {
			case governance.OutcomeCarried:
				r.endorsedDemands = append(r.endorsedDemands, demand)
			case governance.OutcomeInquorate:
				r.proposed = append(r.proposed, demand) // still proposed: it may come back
			}
		case governance.KindEndorseResource:
			if carried {
				r.endorsedResource[resource] = true
			}
		case governance.KindAdoptDemand:
			if carried && p.DemandID != nil {
				r.endorsedDemands = append(r.endorsedDemands, *p.DemandID)
			}
		case governance.KindWithdraw:
			switch {
			case demand != 0 && !carried:
				r.endorsedDemands = append(r.endorsedDemands, demand)
			case resource != 0 && carried:
				delete(r.endorsedResource, resource)
			}
		}
	}
	r.now = maxTime(r.now, t)
	return nil
}

// propose puts one proposal to the members, its ballot opening at once.
func (r *run) propose() (governance.Proposal, error) {
	author := governance.Member{ID: r.member()}
	kind := r.g.kind()
	var in governance.ProposalInput
	var about [2]int64
	switch kind {
	case governance.KindWithdraw:
		if about = r.withdrawable(); about == [2]int64{} {
			kind = governance.KindEndorseResource
			break
		}
		in = r.g.withdrawal(about, r.title(about))
	case governance.KindAdoptDemand:
		in = r.g.adoption()
	case governance.KindMotion:
		in = r.g.motion()
	}
	switch kind {
	case governance.KindEndorseDemand:
		id, err := r.demandToEndorse()
		if err != nil {
			return governance.Proposal{}, err
		}
		about = [2]int64{id, 0}
		in = r.g.demandEndorsement(id, r.title(about))
	case governance.KindEndorseResource:
		id, ok := r.resourceToEndorse()
		if !ok { // every resource is endorsed or under a ballot
			kind, in = governance.KindMotion, r.g.motion()
			break
		}
		about = [2]int64{0, id}
		in = r.g.resourceEndorsement(id, r.title(about))
	}
	in.Kind, in.Opens = kind, "now"
	in.Days = strconv.Itoa(r.g.days(kind))
	p, err := r.gov.Propose(r.ctx, author, in)
	if err != nil {
		return governance.Proposal{}, fmt.Errorf("propose %s %v: %w", kind, about, err)
	}
	if about != [2]int64{} {
		r.busy[about] = true
	}
	r.running = append(r.running, running{id: p.ID, closes: p.ClosesAt, kind: kind, about: about})
	return p, nil
}

// title is the title of what a proposal is about.
func (r *run) title(about [2]int64) string {
	if about[0] != 0 {
		d, err := r.lib.Demand(r.ctx, about[0])
		if err == nil {
			return d.Title
		}
	} else if about[1] != 0 {
		res, err := r.lib.Resource(r.ctx, library.Viewer{}, about[1])
		if err == nil {
			return res.Title
		}
	}
	return ""
}

// demandToEndorse takes the oldest proposed demand nobody is voting on, or
// has a member draft a new one when none is left.
func (r *run) demandToEndorse() (int64, error) {
	for i, id := range r.proposed {
		if !r.busy[[2]int64{id, 0}] {
			r.proposed = slices.Delete(r.proposed, i, i+1)
			return id, nil
		}
	}
	in := r.g.demand()
	var support []string
	for range r.g.r.IntN(4) {
		if len(r.listed) > 0 {
			support = append(support, strconv.FormatInt(r.listed[r.g.r.IntN(len(r.listed))], 10))
		}
	}
	in.Resources = strings.Join(support, ", ")
	dm, err := r.lib.DraftDemand(r.ctx, library.Viewer{ID: r.member(), Active: true}, in)
	if err != nil {
		return 0, fmt.Errorf("draft a demand: %w", err)
	}
	return dm.ID, nil
}

// resourceToEndorse picks a listed resource that is neither endorsed nor
// under a ballot already, if there is one.
func (r *run) resourceToEndorse() (int64, bool) {
	free := func(id int64) bool { return !r.endorsedResource[id] && !r.busy[[2]int64{0, id}] }
	for range 20 {
		if len(r.listed) == 0 {
			break
		}
		if id := r.listed[r.g.r.IntN(len(r.listed))]; free(id) {
			return id, true
		}
	}
	for _, id := range r.listed {
		if free(id) {
			return id, true
		}
	}
	return 0, false
}

// withdrawable picks an endorsed demand or resource to propose withdrawing,
// or nothing.
func (r *run) withdrawable() [2]int64 {
	if len(r.endorsedDemands) > 0 && r.g.r.IntN(2) == 0 {
		i := r.g.r.IntN(len(r.endorsedDemands))
		id := r.endorsedDemands[i]
		r.endorsedDemands = slices.Delete(r.endorsedDemands, i, i+1)
		return [2]int64{id, 0}
	}
	var ids []int64
	for id := range r.endorsedResource {
		if !r.busy[[2]int64{0, id}] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return [2]int64{}
	}
	slices.Sort(ids) // map order is random; the seed must decide
	return [2]int64{0, ids[r.g.r.IntN(len(ids))]}
}

// comment has a few members say something about proposals still open.
func (r *run) comment() error {
	for range r.g.r.IntN(4) {
		if len(r.running) == 0 {
			return nil
		}
		b := r.running[r.g.r.IntN(len(r.running))]
		if err := r.gov.AddComment(r.ctx, governance.Member{ID: r.member()}, b.id, r.g.pick(r.g.w.Comments)); err != nil {
			return err
		}
	}
	return nil
}
