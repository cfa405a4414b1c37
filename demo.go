package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/library"
)

// demoPassword is every demo member's password unless PLENARY_PASSWORD says
// otherwise. It is printed at the end: the demo is for trying Plenary out.
const demoPassword = "plenary demo password"

// demoAdminEmail is the admin a person trying the demo logs in as.
const demoAdminEmail = "admin@example.org"

func demo(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var cfg Config
	fs := flags("demo [-db FILE] [-members N] [-resources N] [-proposals N] [-votes N] [-seed S]",
		"Fill a new database with a generated co-op, for trying Plenary and for measuring it at scale:\n"+
			"an admin ("+demoAdminEmail+") and N active members who all share one password (PLENARY_PASSWORD,\n"+
			"or \""+demoPassword+"\"), the starter library and N generated resources, and N proposals that\n"+
			"went through real ballots with N votes between them, all closed, with their effects and ledger.\n"+
			"The same seed gives the same co-op (the dates end at today's midnight, UTC). Progress goes to\n"+
			"standard error. The database must be new: a file that already has members is refused.\n\n"+
			"Time and size grow with members × proposals, as every ballot freezes its whole roll: at 100,000\n"+
			"members each ballot adds about 0.35 s and 1.3 MB. On two cores, 100,000 members, 10,000 resources\n"+
			"and 1,000,000 votes take about 2 minutes and 450 MB with 100 proposals, 7 minutes and 1.6 GB\n"+
			"with 1,000.", stderr, &cfg)
	members := fs.Int("members", 1000, "active members besides the admin")
	resources := fs.Int("resources", 500, "generated resources, besides the starter library")
	proposals := fs.Int("proposals", 50, "closed proposals")
	votes := fs.Int("votes", 20000, "votes cast, across all the proposals")
	seed := fs.Uint64("seed", 1, "seed for everything generated")
	if err = parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	switch {
	case *members < 0 || *resources < 0 || *proposals < 0 || *votes < 0:
		return errors.New("demo: counts cannot be negative")
	case *members > 10_000_000 || *resources > 1_000_000 || *proposals > 100_000:
		return errors.New("demo: at most 10,000,000 members, 1,000,000 resources and 100,000 proposals")
	case int64(*votes) > int64(*proposals)*int64(*members+1):
		return fmt.Errorf("demo: %d votes do not fit in %d ballots of %d members each", *votes, *proposals, *members+1)
	}
	password := env("PLENARY_PASSWORD", demoPassword)

	switch _, err = os.Stat(cfg.DB); {
	case err == nil:
		n, err := countMembers(ctx, cfg.DB)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%s already holds a co-op with %d members: the demo fills only a new database; choose a new file", cfg.DB, n)
		}
	case errors.Is(err, iofs.ErrNotExist):
		// Half a demo is no use, and would stop the next try: a file the
		// demo made goes if it fails or is interrupted.
		defer func() {
			if err != nil {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(cfg.DB + suffix)
				}
			}
		}()
	default:
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The demo writes generated data that can be generated again: it does
	// not need each commit to survive a power cut, and with synchronous=OFF
	// it runs several times faster. Serving the file later opens it with
	// the usual FULL.
	d, err := db.Open(ctx, cfg.DB, schema(), db.Options{Synchronous: "OFF"})
	if err != nil {
		return err
	}
	defer d.Close() // before the removal above
	// The ledger's hashes, members' emails and ballot receipts are unique
	// indexes that take inserts at random places: with SQLite's default
	// 2 MB page cache most of those miss at a hundred thousand members.
	if _, err = d.W.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil { // 256 MiB
		return err
	}

	g := newDemoGen(*seed)
	r := &demoRun{ctx: ctx, log: stderr, g: g, password: password}
	r.now = g.timeline(*proposals)
	clock := func() time.Time { return r.now }
	r.gov = governance.New(d, clock)
	r.lib = library.New(d, clock)

	start := time.Now()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"founding", r.found},
		{"members", func() error { return r.admit(*members) }},
		{"library", func() error { return r.stock(*resources) }},
		{"rules", func() error { return r.setRules(*proposals, *votes, *members+1) }},
		{"ballots", func() error { return r.ballots(*proposals, *votes) }},
	}
	var timings []string
	for _, s := range steps {
		t := time.Now()
		if err = s.fn(); err != nil {
			return fmt.Errorf("demo: %s: %w", s.name, err)
		}
		timings = append(timings, fmt.Sprintf("%s %s", s.name, round(time.Since(t))))
	}
	err = r.summary(stdout, cfg.DB, time.Since(start), timings)
	return err
}

// countMembers opens an existing file only to see whether it is in use.
func countMembers(ctx context.Context, path string) (int, error) {
	d, err := openDB(ctx, path)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	_, n, err := governance.New(d, time.Now).Members(ctx, governance.MemberQuery{})
	return n, err
}

// demoRun is one run of the demo: the services on a clock it moves by
// hand, and what it has made so far.
type demoRun struct {
	ctx      context.Context
	log      io.Writer
	g        *demoGen
	now      time.Time
	gov      *governance.Service
	lib      *library.Service
	password string

	admin   governance.Member
	roll    []int64 // every active member's number, the admin's first
	listed  []int64 // listed resources
	rules   []governance.Rule
	outcome map[string]int
	votes   int

	// What proposals can be about: demands still proposed (oldest first),
	// endorsed demands and resources (which a withdrawal may be about), and
	// what a proposal in discussion or voting is already about.
	proposed         []int64
	endorsedDemands  []int64
	endorsedResource map[int64]bool
	busy             map[[2]int64]bool // {demand, 0} or {0, resource}
	running          []running
}

type running struct {
	id     int64
	closes time.Time
	kind   string
	about  [2]int64
}

// progress prints a line at most every two seconds while a phase runs.
type progress struct {
	w            io.Writer
	phase, unit  string
	total        int
	start, shown time.Time
}

func newProgress(w io.Writer, phase, unit string, total int) *progress {
	now := time.Now()
	return &progress{w: w, phase: phase, unit: unit, total: total, start: now, shown: now}
}

func (p *progress) update(done int, extra string) {
	if time.Since(p.shown) < 2*time.Second {
		return
	}
	p.shown = time.Now()
	el := time.Since(p.start)
	fmt.Fprintf(p.w, "demo: %s: %d of %d %s (%.0f/s)%s, %s\n", p.phase, done, p.total, p.unit, float64(done)/el.Seconds(), extra, round(el))
}

func (p *progress) done(done int, extra string) {
	el := time.Since(p.start)
	fmt.Fprintf(p.w, "demo: %s: %d %s in %s (%.0f/s)%s\n", p.phase, done, p.unit, round(el), float64(done)/max(el.Seconds(), 1e-9), extra)
}

func round(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(10 * time.Millisecond)
}

// found creates the admin, who founds the co-op.
func (r *demoRun) found() error {
	name := r.g.personName()
	m, err := r.gov.AddMember(r.ctx, governance.Details{Name: name, Email: demoAdminEmail, Password: r.password}, governance.RoleAdmin)
	if err != nil {
		return err
	}
	r.admin = m
	r.roll = append(r.roll, m.ID)
	return nil
}

// admit adds n members in batches, as if the admin approved each, over the
// co-op's first months.
func (r *demoRun) admit(n int) error {
	people := make([]governance.Newcomer, n)
	for i := range people {
		given, family := r.g.pick(givenNames), r.g.pick(familyNames)
		people[i] = governance.Newcomer{
			Name:  given + " " + family,
			Email: fmt.Sprintf("%s.%s.%d@example.org", asciiFold(given), asciiFold(family), i+1),
		}
	}
	p := newProgress(r.log, "members", "admitted", n)
	step := demoFoundingPeriod / time.Duration(max(1, (n+governance.AdmitBatch-1)/governance.AdmitBatch))
	r.now = r.now.Add(time.Hour)
	ids, err := r.gov.AdmitMany(r.ctx, r.admin, r.password, people, func(done int) {
		r.now = r.now.Add(step)
		p.update(done, "")
	})
	if err != nil {
		return err
	}
	r.roll = append(r.roll, ids...)
	p.done(len(ids), "")
	return nil
}

// stock loads the starter library and n generated resources, submitted by
// members and listed by the admin.
func (r *demoRun) stock(n int) error {
	r.now = r.now.Add(24 * time.Hour)
	if _, err := r.lib.LoadStarter(r.ctx); err != nil {
		return err
	}
	admin := library.Viewer{ID: r.admin.ID, Active: true, Admin: true}
	for page := 1; ; page++ {
		rs, _, err := r.lib.ResourcesWithStatus(r.ctx, library.StatusListed, page)
		if err != nil {
			return err
		}
		for _, res := range rs {
			r.listed = append(r.listed, res.ID)
		}
		if len(rs) < library.QueuePerPage {
			break
		}
	}
	for page := 1; ; page++ {
		ds, _, err := r.lib.Demands(r.ctx, library.DemandQuery{Status: library.DemandProposed, Page: page})
		if err != nil {
			return err
		}
		for _, dm := range ds {
			r.proposed = append(r.proposed, dm.ID)
		}
		if len(ds) < library.DemandsPerPage {
			break
		}
	}
	slices.Sort(r.listed)
	slices.Sort(r.proposed)

	p := newProgress(r.log, "library", "resources", n)
	const batch = 2000
	titles := map[string]bool{}
	for done := 0; done < n; {
		subs := make([]library.Submission, min(batch, n-done))
		for i := range subs {
			subs[i] = library.Submission{By: r.member(), Input: r.g.resource(done+i+1, titles)}
		}
		ids, err := r.lib.ListMany(r.ctx, admin, subs)
		if err != nil {
			return err
		}
		r.listed = append(r.listed, ids...)
		done += len(ids)
		r.now = r.now.Add(time.Minute)
		p.update(done, "")
	}
	p.done(n, "")
	return nil
}

// setRules shortens every kind's minimum voting period to one minute, so
// whoever tries the demo can run a ballot in a minute, and lowers quorums
// to what the demo's turnout can reach: a million votes across a thousand
// ballots of a hundred thousand members is a 1 % turnout, which no default
// quorum would let through. The admin changes them, on the ledger.
func (r *demoRun) setRules(proposals, votes, rollSize int) error {
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
			Threshold: rule.Threshold, MinMinutes: "1", Secret: rule.Secret}
		if err := r.gov.SetRule(r.ctx, r.admin, in); err != nil {
			return err
		}
	}
	r.rules, err = r.gov.Rules(r.ctx)
	return err
}

func (r *demoRun) member() int64 { return r.roll[r.g.r.IntN(len(r.roll))] }

// ballots runs n proposals through voting, staggered so that several are
// open at once as in a real co-op, and casts votes between them.
func (r *demoRun) ballots(n, votes int) error {
	r.outcome = map[string]int{}
	r.endorsedResource = map[int64]bool{}
	r.busy = map[[2]int64]bool{}
	turnouts := r.g.spread(votes, n, len(r.roll))
	gap := demoGap(n)
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
func (r *demoRun) closeUntil(t time.Time) error {
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
func (r *demoRun) propose() (governance.Proposal, error) {
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
func (r *demoRun) title(about [2]int64) string {
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
func (r *demoRun) demandToEndorse() (int64, error) {
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
func (r *demoRun) resourceToEndorse() (int64, bool) {
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
func (r *demoRun) withdrawable() [2]int64 {
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
func (r *demoRun) comment() error {
	for range r.g.r.IntN(4) {
		if len(r.running) == 0 {
			return nil
		}
		b := r.running[r.g.r.IntN(len(r.running))]
		if err := r.gov.AddComment(r.ctx, governance.Member{ID: r.member()}, b.id, r.g.pick(demoComments)); err != nil {
			return err
		}
	}
	return nil
}

func (r *demoRun) summary(w io.Writer, path string, took time.Duration, timings []string) error {
	_, entries, err := r.gov.Ledger(r.ctx, 1)
	if err != nil {
		return err
	}
	demands := map[string]int{}
	for _, s := range []string{library.DemandProposed, library.DemandEndorsed, library.DemandRejected, library.DemandWithdrawn} {
		if _, demands[s], err = r.lib.Demands(r.ctx, library.DemandQuery{Status: s}); err != nil {
			return err
		}
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			size += fi.Size()
		}
	}
	closed := r.outcome[governance.OutcomeCarried] + r.outcome[governance.OutcomeDefeated] + r.outcome[governance.OutcomeInquorate]
	var rules []string
	for _, rule := range r.rules {
		rules = append(rules, fmt.Sprintf("%s %d%%", strings.ToLower(governance.KindNames[rule.Kind]), rule.QuorumPct))
	}
	fmt.Fprintf(w, "Demo co-op written to %s (%.1f MB) in %s.\n", path, float64(size)/1e6, round(took))
	fmt.Fprintf(w, "  members    %d active, the admin included\n", len(r.roll))
	fmt.Fprintf(w, "  library    %d listed resources; demands: %d endorsed, %d rejected, %d withdrawn, %d proposed\n",
		len(r.listed), demands[library.DemandEndorsed], demands[library.DemandRejected], demands[library.DemandWithdrawn], demands[library.DemandProposed])
	fmt.Fprintf(w, "  ballots    %d closed (%d carried, %d defeated, %d inquorate), %d votes\n",
		closed, r.outcome[governance.OutcomeCarried], r.outcome[governance.OutcomeDefeated], r.outcome[governance.OutcomeInquorate], r.votes)
	fmt.Fprintf(w, "  rules      minimum voting period 1 minute; quorum: %s\n", strings.Join(rules, ", "))
	fmt.Fprintf(w, "  ledger     %d entries\n", entries)
	fmt.Fprintf(w, "  timings    %s\n", strings.Join(timings, ", "))
	fmt.Fprintf(w, "Log in as %s with the password %q; every member has it\n", demoAdminEmail, r.password)
	fmt.Fprintf(w, "(their emails are like firstname.lastname.N@example.org). Serve it: plenary serve -db %s\n", path)
	return nil
}

// The demo co-op's calendar: founded, members admitted over its first
// months, then proposals at a steady pace, all closed by today's midnight.
const (
	demoFoundingPeriod = 90 * 24 * time.Hour
	demoLongestBallot  = 14 * 24 * time.Hour
)

// demoGap is the time between one proposal and the next: two years'
// worth of proposals, but no more than a week apart or less than six
// hours.
func demoGap(proposals int) time.Duration {
	return min(7*24*time.Hour, max(6*time.Hour, 2*365*24*time.Hour/time.Duration(max(1, proposals))))
}

// demoGen makes up everything, from one seeded source.
type demoGen struct {
	r     *rand.Rand
	dem   map[string]bool // demand titles used
	today time.Time
}

func newDemoGen(seed uint64) *demoGen {
	return &demoGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), dem: map[string]bool{},
		today: time.Now().UTC().Truncate(24 * time.Hour)}
}

// timeline returns when the co-op was founded: early enough that every
// ballot closes by today's midnight.
func (g *demoGen) timeline(proposals int) time.Time {
	span := demoFoundingPeriod + 3*24*time.Hour + time.Duration(proposals)*demoGap(proposals) + demoLongestBallot
	return g.today.Add(-span)
}

func (g *demoGen) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *demoGen) personName() string { return g.pick(givenNames) + " " + g.pick(familyNames) }

// spread shares votes between n ballots, unevenly as turnout is (a few
// ballots draw crowds, most draw the faithful), none above the roll.
func (g *demoGen) spread(votes, n, roll int) []int {
	out := make([]int, n)
	if n == 0 || votes == 0 {
		return out
	}
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = math.Exp(0.7 * g.r.NormFloat64())
		sum += w[i]
	}
	left := votes
	for i := range out {
		out[i] = min(roll, int(float64(votes)*w[i]/sum))
		left -= out[i]
	}
	for left > 0 { // rounding, and whatever the cap turned away
		i := g.r.IntN(n)
		if out[i] < roll {
			add := min(roll-out[i], max(1, left/n), left)
			out[i] += add
			left -= add
		}
	}
	return out
}

// mood is how a ballot's voters lean: the share of yes among those who
// take a side, and the share who abstain.
func (g *demoGen) mood() (yes, abstain float64) {
	abstain = 0.02 + 0.10*g.r.Float64()
	switch f := g.r.Float64(); {
	case f < 0.55:
		yes = 0.62 + 0.3*g.r.Float64() // popular
	case f < 0.85:
		yes = 0.4 + 0.25*g.r.Float64() // contested
	default:
		yes = 0.15 + 0.25*g.r.Float64() // unpopular
	}
	return yes, abstain
}

func (g *demoGen) kind() string {
	switch f := g.r.Float64(); {
	case f < 0.36:
		return governance.KindEndorseDemand
	case f < 0.70:
		return governance.KindEndorseResource
	case f < 0.87:
		return governance.KindMotion
	case f < 0.95:
		return governance.KindAdoptDemand
	default:
		return governance.KindWithdraw
	}
}

// days is how long a ballot runs: resources are quick, demands and
// motions take a week or two.
func (g *demoGen) days(kind string) int {
	if kind == governance.KindEndorseResource {
		return 3 + g.r.IntN(3)
	}
	return []int{7, 7, 7, 10, 14}[g.r.IntN(5)]
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func (g *demoGen) demandEndorsement(id int64, title string) governance.ProposalInput {
	return governance.ProposalInput{
		Title:    clip("Endorse the demand: "+title, governance.MaxProposalTitleLen),
		Body:     g.pick(endorseDemandBodies) + "\n\n" + g.pick(proposalClosings),
		DemandID: strconv.FormatInt(id, 10),
	}
}

func (g *demoGen) resourceEndorsement(id int64, title string) governance.ProposalInput {
	return governance.ProposalInput{
		Title:      clip("Endorse “"+title+"”", governance.MaxProposalTitleLen),
		Body:       g.pick(endorseResourceBodies) + "\n\n" + g.pick(proposalClosings),
		ResourceID: strconv.FormatInt(id, 10),
	}
}

func (g *demoGen) withdrawal(about [2]int64, title string) governance.ProposalInput {
	in := governance.ProposalInput{
		Title: clip("Withdraw our endorsement of “"+title+"”", governance.MaxProposalTitleLen),
		Body:  g.pick(withdrawBodies),
	}
	if about[0] != 0 {
		in.DemandID = strconv.FormatInt(about[0], 10)
	} else {
		in.ResourceID = strconv.FormatInt(about[1], 10)
	}
	return in
}

func (g *demoGen) adoption() governance.ProposalInput {
	d := g.demand()
	return governance.ProposalInput{
		Title:    clip("Adopt a new demand: "+d.Title, governance.MaxProposalTitleLen),
		Body:     "We propose that the co-op adopts the demand below as its own, and campaigns for it.\n\n" + g.pick(proposalClosings),
		NewTitle: d.Title, NewBody: d.Body, NewAudience: d.Audience,
	}
}

func (g *demoGen) motion() governance.ProposalInput {
	t := g.fill(g.pick(motionTitles), map[string]string{})
	return governance.ProposalInput{Title: t, Body: g.pick(motionBodies) + "\n\n" + g.pick(proposalClosings)}
}

// fill replaces each {slot} in s with a random choice for it, the same
// choice wherever the slot recurs in the texts filled with the same vals.
func (g *demoGen) fill(s string, vals map[string]string) string {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], '}') + i
		slot := s[i+1 : j]
		v, ok := vals[slot]
		if !ok {
			v = g.pick(demoSlots[slot])
			vals[slot] = v
		}
		s = s[:i] + v + s[j+1:]
	}
}

// demand makes up a demand no other demand has the title of.
func (g *demoGen) demand() library.DemandInput {
	var t demandTemplate
	var title string
	vals := map[string]string{}
	for range 20 {
		t = demandTemplates[g.r.IntN(len(demandTemplates))]
		vals = map[string]string{}
		if title = g.fill(t.title, vals); !g.dem[title] {
			break
		}
	}
	for n := 2; g.dem[title]; n++ {
		title = fmt.Sprintf("%s (%d)", strings.TrimSuffix(title, fmt.Sprintf(" (%d)", n-1)), n)
	}
	g.dem[title] = true
	body := g.fill("{problem}", vals) + " " + t.ask + " " + g.pick(demandOutcomes)
	return library.DemandInput{Title: title, Body: body, Audience: t.audience}
}

// resource makes up the n-th generated resource.
func (g *demoGen) resource(n int, titles map[string]bool) library.ResourceInput {
	format := weighted(g.r, resourceFormats)
	lang := weighted(g.r, resourceLanguages)
	words := titleWords[lang]
	region := g.pick(words.regions)
	place := g.pick(words.places[region])
	subject := words.subjects[g.r.IntN(len(words.subjects))]
	var title string
	for tries := 0; ; tries++ {
		title = fmt.Sprintf(words.pattern, g.pick(words.heads), g.pick(words.kinds), subject.name, place)
		if !titles[title] {
			break
		}
		if tries > 5 {
			title = fmt.Sprintf("%s (%d)", title, n)
			break
		}
	}
	titles[title] = true

	var authors []string
	if g.r.IntN(5) == 0 {
		authors = []string{g.pick(organisations)}
	} else {
		for range 1 + g.r.IntN(3) {
			authors = append(authors, g.personName())
		}
	}
	topics := []string{subject.topic}
	for range 1 + g.r.IntN(3) {
		topics = append(topics, g.pick(topicNames))
	}
	year := g.today.Year() - int(math.Abs(g.r.NormFloat64())*6)
	year = max(year, 1995)

	in := library.ResourceInput{
		Title:     title,
		Authors:   strings.Join(authors, "\n"),
		Publisher: g.pick(publishers),
		Year:      strconv.Itoa(year),
		Format:    format,
		Language:  lang,
		Region:    region,
		Topics:    strings.Join(topics, ", "),
		Summary: fmt.Sprintf("%s %s in %s. %s %s", strings.ReplaceAll(g.pick(summaryOpenings), "FORMAT", formatNoun(format)),
			strings.ToLower(subject.english), englishPlace(region, place), g.pick(summaryMiddles), g.pick(summaryClosings)),
	}
	slug := slugOf(title)
	switch format {
	case "book":
		in.ISBN = isbn13(g.r)
		in.URL = "https://books.example.com/isbn/" + in.ISBN
	case "article":
		in.DOI = fmt.Sprintf("10.5555/plenary-demo.%d", n)
		in.URL = fmt.Sprintf("https://journal.example.org/articles/%d/%s", n, slug)
	case "podcast", "video":
		in.URL = fmt.Sprintf("https://media.example.net/%s/%d-%s", strings.ReplaceAll(format, " ", "-"), n, slug)
	default:
		in.URL = fmt.Sprintf("https://library.example.org/%s/%d-%s", strings.ReplaceAll(format, " ", "-"), n, slug)
	}
	if format == "article" || format == "report" || format == "toolkit" || format == "course" || format == "dataset" {
		in.Licence = weighted(g.r, licences)
	}
	return in
}

func formatNoun(format string) string {
	if format == "other" {
		return "piece"
	}
	return format
}

// englishPlace names a resource's place in the English summary.
func englishPlace(region, place string) string {
	if _, ok := titleWords["en"].places[region]; ok {
		return place
	}
	return region
}

func isbn13(r *rand.Rand) string {
	digits := "978" + fmt.Sprintf("%09d", r.IntN(1_000_000_000))
	sum := 0
	for i, c := range digits {
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return digits + strconv.Itoa((10-sum%10)%10)
}

func slugOf(title string) string {
	var b strings.Builder
	dash := false
	for _, word := range strings.FieldsFunc(strings.ToLower(title), func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c > 127)
	}) {
		w := asciiFold(word)
		if w == "" {
			continue
		}
		if dash {
			b.WriteByte('-')
		}
		b.WriteString(w)
		dash = true
		if b.Len() > 60 {
			break
		}
	}
	return b.String()
}

// asciiFold writes a name in lower-case ASCII letters and digits, for an
// email address or a link: "Jónsdóttir" → "jonsdottir", "O'Brien" → "obrien".
func asciiFold(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case foldTable[c] != "":
			b.WriteString(foldTable[c])
		}
	}
	return b.String()
}

var foldTable = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th", 'ð': "d", 'đ': "d", 'ł': "l", 'ı': "i", 'ø': "o"}
	for base, variants := range map[string]string{
		"a": "áàâäãåāąă", "c": "çćč", "d": "ď", "e": "éèêëēęě", "g": "ğģ", "i": "íìîïī", "k": "ķ", "l": "ļľ",
		"n": "ñńňņ", "o": "óòôöõōő", "r": "ř", "s": "śšşș", "t": "ťţț", "u": "úùûüūůű", "y": "ýÿ", "z": "źżž",
	} {
		for _, v := range variants {
			m[v] = base
		}
	}
	return m
}()

type weight struct {
	value  string
	weight int
}

func weighted(r *rand.Rand, ws []weight) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

// The demo's vocabulary. Names are from many cultures and mixed freely, as
// in any large co-op; publishers, organisations and links are made up
// (example.org and friends are reserved for examples, 10.5555 is a test DOI
// prefix), so no real body is credited with a generated work.

var givenNames = strings.Fields(`
Oliver Amelia Jack Isla Harry Ava George Mia Noah Grace Thomas Lily James Emily William Sophie Daniel Chloe Samuel Hannah
Aoife Ciarán Niamh Seán Siobhán Eilidh Callum Rhys Cerys Dafydd Gwen Catriona
Camille Léa Hugo Chloé Mathis Manon Théo Élodie Baptiste Margaux
Sofía Mateo Lucía Santiago Valentina Diego Camila Javier Ximena Alejandro Pilar Joaquín
João Beatriz Gonçalo Inês Thiago Larissa Rafaela Caio
Giulia Lorenzo Chiara Matteo Francesca Alessandro Giorgia Leonardo
Lukas Lena Jonas Anja Felix Katharina Jürgen Greta
Daan Sanne Bram Femke Joris Lieke
Astrid Lars Ingrid Søren Freya Magnus Sigrid Øyvind Aino Eero
Zofia Jakub Agnieszka Łukasz Tereza Ondřej Zsófia Bence
Anastasia Dmitri Oksana Taras Irina Mykola Rūta Jānis
Eleni Nikos Dimitra Yannis Ana Luka Milica Dragan
Elif Emre Zeynep Mehmet Ayşe Can
Omar Fatima Layla Youssef Amira Karim Nour Hassan Samira Tariq
Dariush Shirin Arash Leila Roya Kawa
Noa Eitan Tamar Yael
Priya Arjun Ananya Rohan Aisha Vikram Kavya Sanjay Deepika Rahul Meera Imran Farida Nimal Tharindu Anjali Sunil Bilal Ayesha Rajesh
Wei Mei Jun Xiu Hao Lan Yuki Haruto Aiko Sakura Kenji Hiroshi Min-jun Seo-yeon Ji-woo Hyun Ling Chen
Linh Minh Thanh Anh Siti Putri Budi Ayu Malee Somchai Maria José Rizal Dewi
Chiamaka Emeka Ngozi Oluwaseun Adebayo Folake Amara Kwame Ama Kofi Abena Wanjiru Otieno Amina Baraka Zawadi Thabo Nomvula
Sipho Lindiwe Tendai Chipo Abebe Selam Hodan Ayaan Moussa Awa Fatou Mamadou
Aroha Tane Mere Wiremu Sina Malia Inti Killa Nayeli Tupac
Kai Alex Sam Jordan Robin Ariel Eden Noor Ren Sasha
`)

var familyNames = append(strings.Fields(`
Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts Green Hall Wood Jackson Clarke
Murphy O'Brien Kelly Byrne MacDonald Campbell Stewart Fraser Llewellyn Pritchard Gallagher
Martin Bernard Dubois Lefèvre Moreau Laurent Girard Rousseau Fontaine Chevalier
García Fernández López Martínez Sánchez Pérez Gómez Rodríguez Hernández Ruiz Ortega Castillo Morales Vargas Quispe Mamani
Silva Santos Oliveira Souza Pereira Costa Ferreira Almeida
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco
Müller Schmidt Schneider Fischer Weber Wagner Becker Hoffmann
Bakker Janssen Visser Smit
Andersson Johansson Nielsen Hansen Larsen Virtanen Korhonen Jónsdóttir Berg Lindqvist
Nowak Kowalski Wiśniewska Dvořák Novák Horváth Nagy Kovács
Ivanova Petrov Shevchenko Kovalenko Bondarenko Kazlauskas Bērziņš Tamm
Papadopoulos Georgiou Nikolaidis Petrović Jovanović Horvat Kovač Popescu Ionescu
Yılmaz Kaya Demir Şahin Çelik Öztürk
Haddad Khalil Mansour Nasser Saleh Hamdan Aziz El-Amin Farouk Rahman
Hosseini Karimi Rahimi Tehrani Barzani
Cohen Levi Mizrahi Friedman
Patel Sharma Singh Kumar Gupta Iyer Nair Reddy Chowdhury Das Banerjee Khan Hussain Ahmed Qureshi Perera Fernando Jayasuriya Thapa Gurung
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Sato Suzuki Takahashi Tanaka Watanabe Kim Lee Park Choi Jung
Nguyen Tran Pham Le Hoang Reyes Cruz Bautista Wijaya Saputra Susanto Srisai Chaiyaporn
Okafor Adeyemi Okonkwo Balogun Eze Mensah Owusu Boateng Asante Kamau Mwangi Ochieng Njoroge Mutua Dlamini
Nkosi Ndlovu Mokoena Moyo Banda Phiri Tesfaye Bekele Haile Abdi Warsame Diallo Traoré Ndiaye Keita Touré
Ngata Parata Tupou Faleolo Huaman Condori Tzul Yupanqui
`), "de Vries", "van Dijk", "Te Rangi", "Ó Súilleabháin")

var organisations = []string{
	"Co-operative Futures Lab", "Commons Research Network", "Institute for Democratic Enterprise",
	"Platform Workers' Collective", "Solidarity Economy Observatory", "Northern Co-operative Council",
	"Digital Mutuals Project", "Community Ownership Trust", "Fair Work Research Unit", "Open Co-op Foundation",
}

var publishers = []string{
	"Northern Co-operative Press", "Commonweal Books", "Mutual Aid Publishing", "Institute for Democratic Enterprise",
	"Platform Futures Foundation", "Open Economy Review", "Review of Democratic Economics", "Solidarity Press",
	"Co-operative Futures Lab", "Fair Work Research Unit", "Commons Research Network", "University of Eastmoor Press",
	"Westbridge University", "Harbour Books", "Federation Working Papers", "Digital Mutuals Project",
	"The Co-op Quarterly", "Co-op Voices", "Platform Talks", "Riverside Community Media",
}

var resourceFormats = []weight{
	{"article", 25}, {"report", 20}, {"book", 10}, {"case study", 10}, {"policy brief", 8}, {"toolkit", 6},
	{"video", 5}, {"podcast", 5}, {"website", 4}, {"course", 3}, {"dataset", 3}, {"other", 1},
}

var resourceLanguages = []weight{{"en", 80}, {"es", 5}, {"fr", 4}, {"de", 4}, {"pt-BR", 4}, {"it", 3}}

var licences = []weight{{"", 40}, {"CC BY 4.0", 35}, {"CC BY-SA 4.0", 10}, {"CC BY-NC 4.0", 10}, {"All rights reserved", 5}}

var topicNames = []string{
	"platform co-ops", "ownership", "gig economy", "worker rights", "policy", "finance and investment",
	"digital commons", "unions", "community wealth building", "conversions", "federation", "data governance",
	"care work", "housing", "energy", "food", "procurement", "open source", "governance", "culture and media",
	"cloud and hosting", "freelancing", "co-op development", "digital infrastructure", "education",
}

// subject is what a generated resource is about: its name in the title's
// language, in English for the summary, and its main topic.
type subject struct{ name, english, topic string }

func en(name, topic string) subject { return subject{name, name, topic} }

type languageWords struct {
	pattern      string // head, kind, subject, place
	heads, kinds []string
	subjects     []subject
	regions      []string
	places       map[string][]string
}

var titleWords = map[string]languageWords{
	"en": {
		pattern: "%s: %s %s in %s",
		subjects: []subject{
			en("Worker-Owned Delivery Platforms", "gig economy"), en("Freelancer Co-operatives", "freelancing"),
			en("Community-Owned Broadband", "digital infrastructure"), en("Co-operative Cloud Hosting", "cloud and hosting"),
			en("Data Co-operatives", "data governance"), en("Care Co-operatives", "care work"),
			en("Ride-Hailing Co-ops", "gig economy"), en("Multi-Stakeholder Platforms", "governance"),
			en("Co-operative Conversions", "conversions"), en("Community Shares", "finance and investment"),
			en("Public Procurement from Co-ops", "procurement"), en("Open-Source Co-operatives", "open source"),
			en("Music Streaming Co-ops", "culture and media"), en("Journalism Co-operatives", "culture and media"),
			en("Housing Co-ops", "housing"), en("Energy Co-operatives", "energy"), en("Food Co-ops", "food"),
			en("Platform Co-op Finance", "finance and investment"), en("Co-operative Development Agencies", "co-op development"),
			en("Worker Buyouts", "conversions"), en("Union-Backed Co-ops", "unions"), en("The Digital Commons", "digital commons"),
			en("Co-operative Federations", "federation"), en("Local Wealth Building", "community wealth building"),
			en("Tech Worker Co-ops", "worker rights"), en("Co-operative Education", "education"),
		},
		heads: []string{"Owning the Platform", "Beyond the Gig", "Shared Ground", "The Democratic Firm", "Commons by Design",
			"Who Owns the Algorithm?", "Solidarity at Scale", "Exit to Community", "Co-operative Code", "Fair Shares",
			"Data for the Many", "The Patient Capital Gap", "Local Wealth, Local Power", "Working Together Online",
			"Platforms We Own", "After Uber", "Governing the Digital Commons", "The Member-Owned Internet",
			"Rebuilding the Market Square", "From Users to Owners", "Open Books", "Collective Bargaining in the Cloud",
			"Small Co-ops, Big Networks", "Scaling Solidarity", "The Care Economy Reimagined", "Unions and Co-ops",
			"Tech for the Common Good", "Ownership Matters", "Democracy at Work", "Building the Co-operative Stack",
			"One Member, One Vote", "The Sharing Economy, Shared", "Logging Off Precarity", "Commons and Co-ops",
			"Power to the Riders", "No Boss but Us", "The Long Road to Ownership", "Many Hands", "Counting What Matters",
			"A Seat at the Table"},
		kinds: []string{"A Study of", "Lessons from", "Case Studies of", "A Practical Guide to", "Evidence on",
			"A Policy Agenda for", "A Toolkit for", "Field Notes on", "A Survey of", "Rethinking", "The Case for",
			"Building", "Financing", "Organising", "Scaling"},
		regions: []string{"UK", "UK", "UK", "US", "US", "international", "international", "Canada", "Australia",
			"Ireland", "India", "Kenya", "South Africa", "New Zealand"},
		places: map[string][]string{
			"UK": {"the UK", "Scotland", "Wales", "Northern Ireland", "Greater Manchester", "London", "Preston",
				"Bristol", "Glasgow", "Cardiff", "Leeds", "Newcastle"},
			"US":            {"the United States", "New York", "California", "Cleveland", "Oakland", "Detroit", "Madison"},
			"international": {"Europe", "the Global South", "Latin America", "East Africa", "South Asia", "Europe and North America"},
			"Canada":        {"Canada", "Toronto", "Vancouver", "Quebec"},
			"Australia":     {"Australia", "Melbourne", "Sydney"},
			"Ireland":       {"Ireland", "Dublin", "Cork"},
			"India":         {"India", "Kerala", "Bengaluru", "Gujarat"},
			"Kenya":         {"Kenya", "Nairobi"},
			"South Africa":  {"South Africa", "Cape Town", "Johannesburg"},
			"New Zealand":   {"Aotearoa New Zealand", "Wellington"},
		},
	},
	"es": {
		pattern: "%s: %s sobre %s en %s",
		heads:   []string{"Plataformas que nos pertenecen", "Economía social digital", "Cooperativismo de plataforma", "Propiedad compartida", "Trabajo digno en la era de las apps", "Los comunes digitales"},
		kinds:   []string{"un estudio", "lecciones", "guía práctica", "informe", "casos"},
		subjects: []subject{{"cooperativas de reparto", "delivery co-ops", "gig economy"},
			{"cooperativas de trabajo", "worker co-operatives", "ownership"}, {"datos y cooperativas", "data and co-ops", "data governance"},
			{"finanzas para cooperativas", "finance for co-ops", "finance and investment"},
			{"cooperativas de cuidados", "care co-operatives", "care work"}, {"software libre y cooperativas", "free software and co-ops", "open source"}},
		regions: []string{"Spain", "Spain", "Argentina", "Mexico", "Colombia"},
		places: map[string][]string{"Spain": {"Barcelona", "Madrid", "el País Vasco", "Valencia"}, "Argentina": {"Buenos Aires", "Rosario"},
			"Mexico": {"Ciudad de México", "Oaxaca"}, "Colombia": {"Bogotá", "Medellín"}},
	},
	"fr": {
		pattern: "%s : %s sur %s %s",
		heads:   []string{"Plateformes coopératives", "L'économie sociale numérique", "Posséder nos outils", "Travailler autrement", "Les communs numériques"},
		kinds:   []string{"une étude", "enseignements", "guide pratique", "rapport"},
		subjects: []subject{{"les coopératives de livraison", "delivery co-ops", "gig economy"},
			{"les SCIC numériques", "multi-stakeholder digital co-ops", "governance"}, {"les données coopératives", "co-operative data", "data governance"},
			{"le financement solidaire", "solidarity finance", "finance and investment"},
			{"les coopératives d'activité et d'emploi", "business and employment co-ops", "freelancing"}},
		regions: []string{"France", "France", "Canada", "Belgium", "Senegal"},
		places: map[string][]string{"France": {"en France", "à Paris", "à Lyon", "à Lille"}, "Canada": {"au Québec", "à Montréal"},
			"Belgium": {"en Belgique", "à Bruxelles"}, "Senegal": {"au Sénégal", "à Dakar"}},
	},
	"de": {
		pattern: "%s: %s zu %s in %s",
		heads:   []string{"Plattformen in Gemeinschaftshand", "Digitale Genossenschaften", "Gemeinsam besitzen", "Gute Arbeit im Netz"},
		kinds:   []string{"eine Studie", "Erfahrungen", "ein Leitfaden", "Bericht"},
		subjects: []subject{{"Liefergenossenschaften", "delivery co-ops", "gig economy"}, {"Datengenossenschaften", "data co-operatives", "data governance"},
			{"Energiegenossenschaften", "energy co-operatives", "energy"}, {"Plattformarbeit", "platform work", "worker rights"},
			{"genossenschaftlicher Finanzierung", "co-operative finance", "finance and investment"}},
		regions: []string{"Germany", "Germany", "Austria", "Switzerland"},
		places:  map[string][]string{"Germany": {"Berlin", "Hamburg", "Leipzig", "Köln"}, "Austria": {"Wien", "Graz"}, "Switzerland": {"Zürich", "Basel"}},
	},
	"pt-BR": {
		pattern: "%s: %s sobre %s em %s",
		heads:   []string{"Plataformas cooperativas", "Economia solidária digital", "Cooperativismo de plataforma", "Trabalho digno"},
		kinds:   []string{"um estudo", "lições", "guia prático", "relatório"},
		subjects: []subject{{"cooperativas de entregadores", "couriers' co-ops", "gig economy"}, {"cooperativas de motoristas", "drivers' co-ops", "gig economy"},
			{"dados e cooperativas", "data and co-ops", "data governance"}, {"finanças solidárias", "solidarity finance", "finance and investment"}},
		regions: []string{"Brazil"},
		places:  map[string][]string{"Brazil": {"São Paulo", "Porto Alegre", "Recife", "Belo Horizonte"}},
	},
	"it": {
		pattern: "%s: %s su %s a %s",
		heads:   []string{"Piattaforme cooperative", "Economia sociale digitale", "Lavoro e proprietà condivisa"},
		kinds:   []string{"uno studio", "lezioni", "guida pratica", "rapporto"},
		subjects: []subject{{"cooperative di consegna", "delivery co-ops", "gig economy"}, {"cooperative di comunità", "community co-operatives", "community wealth building"},
			{"dati e cooperative", "data and co-ops", "data governance"}, {"finanza cooperativa", "co-operative finance", "finance and investment"}},
		regions: []string{"Italy"},
		places:  map[string][]string{"Italy": {"Bologna", "Milano", "Torino", "Napoli"}},
	},
}

var summaryOpenings = []string{
	"This FORMAT looks at", "Drawing on interviews with members, this FORMAT examines", "An accessible FORMAT on",
	"This FORMAT compares", "Based on a survey of co-op members, this FORMAT explores", "A close look at",
	"This FORMAT introduces", "Written by and for practitioners, this FORMAT covers",
}

var summaryMiddles = []string{
	"It finds that member ownership keeps more of each fare or fee with the people doing the work.",
	"It shows how members set prices and working conditions together, and where that proved hard.",
	"The authors argue that access to patient finance, not a lack of demand, is what holds these co-ops back.",
	"It traces how a small group of founders grew into a federation of several hundred members.",
	"Interviews with workers describe what changed after they took ownership of the platform.",
	"It compares governance models, from one member one vote to multi-stakeholder boards.",
	"It sets out the legal structures available and the trade-offs between them.",
	"The figures show higher retention and pay than on comparable corporate platforms.",
	"It looks candidly at the co-ops that failed, and why.",
	"It explains how councils can buy from co-ops without breaking procurement rules.",
	"Members' own accounts sit beside financial figures from the first five years.",
	"It describes the open-source tools the co-ops share and how they maintain them together.",
	"It argues that data generated by workers should be governed by them.",
	"Unions and co-ops are shown working together to organise people the law treats as self-employed.",
}

var summaryClosings = []string{
	"It ends with recommendations for local government.", "A short checklist for founders closes the piece.",
	"Recommendations for funders and investors follow.", "It closes with questions for the wider co-op movement.",
	"Useful for anyone starting or converting a business.", "A good starting point for newcomers to the field.",
	"It includes a template set of rules that co-ops can adapt.",
	"Policy recommendations for national government are set out at the end.",
}

// demoSlots fill the {slots} of demand and motion templates.
var demoSlots = map[string][]string{
	"sector": {"food delivery", "ride-hailing", "home care", "cleaning", "freelance design", "translation", "music streaming",
		"photography", "local journalism", "childcare", "tutoring", "courier", "cloud hosting", "software development",
		"bike repair", "renewable energy", "housing repair", "social care", "video production", "academic publishing"},
	"place": {"Greater Manchester", "Glasgow", "Cardiff", "Belfast", "Bristol", "Leeds", "Liverpool", "Birmingham",
		"Newcastle", "Preston", "Sheffield", "Edinburgh", "Swansea", "Derry", "Plymouth", "Norwich"},
	"nation":     {"Scotland", "Wales", "Northern Ireland"},
	"incumbent":  {"the big delivery apps", "corporate ride-hailing apps", "agency platforms", "commercial booking sites"},
	"season":     {"spring", "summer", "autumn", "winter", "annual"},
	"where":      {"online", "in Manchester", "in Glasgow", "in Cardiff", "online and in Bristol", "in Leeds"},
	"topic":      topicNames,
	"federation": {"the Platform Co-op Federation", "the Digital Commons Alliance", "our regional co-op council", "the European Platform Co-op Network"},
	"language":   {"Spanish", "French", "Welsh", "Portuguese", "German", "Italian", "Polish", "Arabic", "Urdu"},
	"event":      {"the Co-operative Congress", "the Platform Co-op Conference", "the Digital Commons Summit", "the regional co-op festival"},
	"partner":    {"the local credit union", "a tenants' union", "the university's co-op research centre", "a worker co-op federation"},
	"group":      {"the library editors", "the membership secretaries", "our volunteers", "the outgoing board"},
	"dues":       {"£12", "£15", "£20", "£24", "£30"},
	"problem": {"Workers in {sector} earn less and have fewer rights when a corporate platform sits between them and their customers.",
		"Most {sector} platforms take a large cut of every job and answer only to their investors.",
		"Co-ops in {sector} struggle to raise the money they need to compete with venture-funded apps.",
		"People who do {sector} work through apps have little say over how the apps treat them.",
		"Public money spent on {sector} rarely reaches businesses owned by the people who do the work."},
}

type demandTemplate struct{ title, audience, ask string }

var demandTemplates = []demandTemplate{
	{"Create a public fund for {sector} co-operatives", "national government", "National government should set up a fund, run at arm's length, that invests in member-owned businesses without asking for control."},
	{"Give {sector} co-ops a fair share of council contracts in {place}", "local government", "The council should write social value into its contracts and make them small enough for co-ops to bid for."},
	{"Back a co-operative alternative to {incumbent} in {place}", "local government", "The council should offer start-up support and a first contract to a co-op that the workers own."},
	{"Set up a digital co-op development agency in {nation}", "devolved administrations", "The devolved government should fund an agency that helps people start and convert digital businesses as co-ops."},
	{"Treat co-op shares fairly in tax relief for {sector}", "national government", "Tax reliefs for investment should apply to withdrawable co-op shares on the same terms as company shares."},
	{"Let gig workers in {sector} bargain collectively", "national government", "The law should let people classed as self-employed bargain together without breaking competition rules."},
	{"Make data portability work for {sector} workers", "national government", "Platforms should have to hand workers their ratings and work history in a form another platform can read."},
	{"Fund {sector} co-op start-ups through community wealth building in {place}", "local government", "Anchor institutions in the area should commit part of their spending to new co-ops."},
	{"Open a patient capital fund for platform co-ops in {sector}", "funders and investors", "Funders should offer long-term finance that expects a fair return but never an exit or control."},
	{"Adopt exit-to-community terms in {sector} investments", "funders and investors", "Investors should agree from the start that the business can pass into the hands of its workers and users."},
	{"Train union organisers to support {sector} co-ops", "unions", "Unions should train organisers to help members set up and run co-ops where bargaining alone cannot reach."},
	{"Organise {sector} workers into co-operative agencies", "unions", "Unions should help members form agencies they own, so that work is found and shared on their terms."},
	{"Share open-source tools between {sector} co-ops", "co-op movement", "Co-ops should pool their software and maintain it together instead of each paying for the same tools."},
	{"Federate {sector} co-ops to share a common platform", "co-op movement", "Co-ops in the same trade should build one platform together and govern it as a federation."},
	{"Recognise platform co-ops in international trade rules for {sector}", "international", "International agreements should protect public support for co-ops from being treated as unfair subsidy."},
	{"Set co-op-friendly standards for {sector} platforms across borders", "international", "Standards bodies should make interoperability a requirement, so members can move between platforms."},
	{"Include co-ops in devolved skills funding for {sector} in {nation}", "devolved administrations", "Skills funding should cover the governance and finance training that new co-op members need."},
}

var demandOutcomes = []string{
	"This would keep more of the value in the communities that create it.",
	"It would give people who do the work a real say in how it is organised.",
	"It would cost little and could be in place within a year.",
	"Other countries have done this, with good results.",
	"It would help co-ops grow without giving up member control.",
}

var endorseDemandBodies = []string{
	"Members have discussed this demand for several weeks. Endorsing it puts the co-op's name behind it in our campaigning and in our answers to consultations.",
	"This demand came out of the working group and has support from members across the regions. It is time the co-op made it its own.",
	"We have the evidence for this demand in our library. Endorsing it lets us take it to the people who can act on it.",
	"Several partner organisations already back this demand. Our endorsement adds the voice of a member-owned platform.",
}

var endorseResourceBodies = []string{
	"This is one of the clearest accounts of its subject we have. Endorsing it tells newcomers to start here.",
	"Members keep citing this in discussions. An endorsement would mark it as something the co-op stands behind.",
	"The evidence here underpins several of our demands. Endorsing it makes that link plain.",
	"It is practical, well sourced and free to read. It deserves to be at the top of the library.",
}

var withdrawBodies = []string{
	"Circumstances have changed since we endorsed this, and it no longer says what the co-op thinks.",
	"Newer work has overtaken this. Keeping our endorsement on it sends people to an out-of-date account.",
	"The demand has been met in part, and the rest is better pursued through a new demand.",
}

var motionTitles = []string{
	"Hold the {season} general meeting {where}", "Set up a working group on {topic}", "Join {federation}",
	"Publish the co-op's accounts every quarter", "Adopt a code of conduct for online discussion",
	"Run a members' survey on {topic}", "Translate the library's summaries into {language}",
	"Pay volunteers' travel costs to {event}", "Partner with {partner} on {topic}",
	"Set membership dues at {dues} a year", "Thank {group} for their work this year",
	"Start a mentoring scheme for new co-ops in {sector}", "Send two delegates to {event}",
	"Move our website to a co-operative hosting provider", "Open a members' forum for {sector} workers",
}

var motionBodies = []string{
	"The board asks members to decide this rather than settle it among themselves.",
	"This came up at the last general meeting, where there was not time to vote on it.",
	"A group of members from the regions asked for this to be put to everyone.",
	"The cost is small and fits in this year's budget; the treasurer's note is in the discussion.",
}

var proposalClosings = []string{
	"Please read the discussion before you vote.",
	"Questions are welcome in the comments below.",
	"The author will answer questions in the comments while voting is open.",
	"",
}

var demoComments = []string{
	"I support this: it's what members in the north asked for at the last meeting.",
	"Could we say more about how this would be paid for?",
	"Voting yes. We've waited long enough for this.",
	"I'm not convinced the timing is right, but I'll abstain rather than vote against.",
	"Has anyone talked to the union branch about this?",
	"The evidence in the library backs this up: see the resources linked from the demand.",
	"Against: this commits us to something we can't deliver.",
	"Good proposal. One small point: the wording could be clearer for people new to co-ops.",
	"This was discussed at the regional meeting and most people there were in favour.",
	"Can the author share the figures behind this?",
	"I'd like to see a pilot first, but I'll vote yes.",
	"As a courier I can tell you this matters a lot to the people doing the work.",
	"We tried something similar in our housing co-op and it worked well.",
	"Worth reading the summary in the library before voting.",
	"I think this is too narrow. We should aim higher.",
	"Thanks for putting this together, it's clear and well argued.",
	"Yes from me. Let's get it done.",
	"I'll vote no: we have more urgent things to spend our time on.",
}
