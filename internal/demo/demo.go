// Package demo fills a new database with a generated co-op, for trying
// Plenary out and for measuring it at scale (`plenary demo`, and the load
// program in bench/ through it). Everything goes through the domain's
// services, on a clock the demo moves by hand, so the co-op is one the
// application itself could have made.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/library"
)

// DefaultPassword is every demo member's password unless the caller gives
// another. It is printed at the end: the demo is for trying Plenary out.
const DefaultPassword = "plenary demo password"

// AdminEmail is the admin a person trying the demo logs in as.
const AdminEmail = "admin@example.org"

// Options say how big a co-op to make, from which seed.
type Options struct {
	Members   int // active members besides the admin
	Resources int // generated resources, besides the starter library
	Proposals int // closed proposals
	Votes     int // votes cast, across all the proposals
	Seed      uint64
	Password  string // every member's, the admin's included
}

// check refuses counts no co-op can have, before any file is touched.
func (o Options) check() error {
	switch {
	case o.Members < 0 || o.Resources < 0 || o.Proposals < 0 || o.Votes < 0:
		return errors.New("demo: counts cannot be negative")
	case o.Members > 10_000_000 || o.Resources > 1_000_000 || o.Proposals > 100_000:
		return errors.New("demo: at most 10,000,000 members, 1,000,000 resources and 100,000 proposals")
	case int64(o.Votes) > int64(o.Proposals)*int64(o.Members+1):
		return fmt.Errorf("demo: %d votes do not fit in %d ballots of %d members each", o.Votes, o.Proposals, o.Members+1)
	}
	return nil
}

// Write fills the database at path, which must be new or hold no members,
// with the co-op opts describe, and prints a summary to stdout; progress
// goes to log. schema is the text of schema.sql. A file Write created is
// removed if it fails or ctx ends, so a half-made co-op never stops the
// next try.
func Write(ctx context.Context, path, schema string, opts Options, stdout, log io.Writer) (err error) {
	if err := opts.check(); err != nil {
		return err
	}
	w, err := loadWords(wordsJSON)
	if err != nil {
		return err
	}
	exists, err := db.Exists(ctx, path)
	switch {
	case err != nil:
		return err
	case exists:
		n, err := countMembers(ctx, path, schema)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%s already holds a co-op with %d members: the demo fills only a new database; choose a new file", db.Redact(path), n)
		}
	case !db.IsPostgresURL(path):
		defer func() {
			if err != nil {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(path + suffix)
				}
			}
		}()
	}
	// The demo writes generated data that can be generated again: it does
	// not need each commit to survive a power cut, and with synchronous=OFF
	// it runs several times faster. Serving the file later opens it with
	// the usual FULL.
	d, err := db.Open(ctx, path, schema, db.Options{Synchronous: "OFF"})
	if err != nil {
		return err
	}
	defer d.Close() // before the removal above
	// The ledger's hashes, members' emails and ballot receipts are unique
	// indexes that take inserts at random places: with SQLite's default
	// 2 MB page cache most of those miss at a hundred thousand members.
	// (PostgreSQL's cache is the server's to size.)
	if !d.IsPostgres() {
		if _, err = d.W.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil { // 256 MiB
			return err
		}
	}

	g := newGen(opts.Seed, w)
	r := &run{ctx: ctx, log: log, g: g, password: opts.Password}
	r.now = g.timeline(opts.Proposals)
	clock := func() time.Time { return r.now }
	r.gov = governance.New(d, clock)
	// A made-up past tells nobody anything: its ballots queue no email.
	r.gov.Silent = true
	r.lib = library.New(d, clock)

	start := time.Now()
	steps := []struct {
		name string
		fn   func() error
	}{
		{"founding", r.found},
		{"members", func() error { return r.admit(opts.Members) }},
		{"library", func() error { return r.stock(opts.Resources) }},
		{"rules", func() error { return r.setRules(opts.Proposals, opts.Votes, opts.Members+1) }},
		{"ballots", func() error { return r.ballots(opts.Proposals, opts.Votes) }},
	}
	var timings []string
	for _, s := range steps {
		t := time.Now()
		if err = s.fn(); err != nil {
			return fmt.Errorf("demo: %s: %w", s.name, err)
		}
		timings = append(timings, fmt.Sprintf("%s %s", s.name, round(time.Since(t))))
	}
	err = r.summary(stdout, path, time.Since(start), timings)
	return err
}

// countMembers opens an existing file only to see whether it is in use.
func countMembers(ctx context.Context, path, schema string) (int, error) {
	d, err := db.Open(ctx, path, schema, db.Options{})
	if err != nil {
		return 0, err
	}
	defer d.Close()
	_, n, err := governance.New(d, time.Now).Members(ctx, governance.MemberQuery{})
	return n, err
}

// run is one run of the demo: the services on a clock it moves by hand,
// and what it has made so far.
type run struct {
	ctx      context.Context
	log      io.Writer
	g        *gen
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

func (r *run) member() int64 { return r.roll[r.g.r.IntN(len(r.roll))] }

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

func (r *run) summary(w io.Writer, path string, took time.Duration, timings []string) error {
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
	if db.IsPostgresURL(path) {
		fmt.Fprintf(w, "Demo co-op written to %s in %s.\n", db.Redact(path), round(took))
	} else {
		fmt.Fprintf(w, "Demo co-op written to %s (%.1f MB) in %s.\n", path, float64(size)/1e6, round(took))
	}
	fmt.Fprintf(w, "  members    %d active, the admin included\n", len(r.roll))
	fmt.Fprintf(w, "  library    %d listed resources; demands: %d endorsed, %d rejected, %d withdrawn, %d proposed\n",
		len(r.listed), demands[library.DemandEndorsed], demands[library.DemandRejected], demands[library.DemandWithdrawn], demands[library.DemandProposed])
	fmt.Fprintf(w, "  ballots    %d closed (%d carried, %d defeated, %d inquorate), %d votes\n",
		closed, r.outcome[governance.OutcomeCarried], r.outcome[governance.OutcomeDefeated], r.outcome[governance.OutcomeInquorate], r.votes)
	fmt.Fprintf(w, "  rules      minimum voting period 1 minute; quorum: %s\n", strings.Join(rules, ", "))
	fmt.Fprintf(w, "  ledger     %d entries\n", entries)
	fmt.Fprintf(w, "  timings    %s\n", strings.Join(timings, ", "))
	fmt.Fprintf(w, "Log in as %s with the password %q; every member has it\n", AdminEmail, r.password)
	fmt.Fprintf(w, "(their emails are like firstname.lastname.N@example.org). Serve it: plenary serve -db %s\n", db.Redact(path))
	return nil
}
