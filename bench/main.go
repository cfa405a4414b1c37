// Command bench measures Plenary under load in one run on this machine:
// members logging in and casting real votes over HTTP, anonymous reads of
// the busiest pages, and the server's peak memory, each set beside a
// ceiling measured in the same run on the same disk and loopback (raw
// single-row SQLite inserts with synchronous=FULL, and a minimal gin
// handler). It prints a table against issue 5's targets, then one last line
// of JSON with every figure.
//
//	go run -tags sqlite_fts5 ./bench -h
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"plenary/internal/db"
)

// config is everything the flags set.
type config struct {
	bin     string
	members int
	voters  int
	ballots int
	// loginConcurrency bounds voters logging in at once; 0 means all.
	// Each login is an argon2id check holding 19 MiB for ~30 ms of CPU, so
	// more at once than CPUs only queue, each holding its memory.
	loginConcurrency int
	conns            int
	duration         time.Duration
	insertFor        time.Duration
	freshClosed      bool
	keep             bool
	timeout          time.Duration

	// The steady loads (issue 17): how long each offered rate is held,
	// whether the client and the measured side are pinned to CPUs of
	// their own, and a file for the server's CPU profile during the vote
	// load's 1× step.
	voteFor    time.Duration
	pageFor    time.Duration
	pin        bool
	cpuProfile string
	// profileAt is the vote step, as a multiple of the raw insert rate,
	// that cpuProfile covers.
	profileAt float64

	// backend is sqlite (a file in the run's directory, one process) or
	// postgres (a database made for the run beside pgAdmin's, served by
	// processes Plenary processes).
	backend   string
	pgAdmin   string
	processes int

	// The scale mode's settings: see scaleUsage.
	scaleDB       string
	scaleRequests int
	scaleConns    int
	scaleAdmin    string
	scalePassword string
}

const usage = `bench starts the real Plenary binary on 127.0.0.1 with a fresh database in a
temporary directory, and measures in one run, with steady open-loop loads
(vegeta): a fixed rate offered for a fixed time, whatever the answers.

  ceilings  raw single-row SQLite inserts with synchronous=FULL on the same
            disk (PostgreSQL's with synchronous_commit on), and a minimal
            gin handler hit at -conns connections for -duration
  votes     -voters members log in (-login-concurrency at a time) and vote
            once, half on a secret ballot and half on an open one; then
            they keep changing their votes (POST /proposals/:id/vote, with
            their own session, CSRF token and, in the secret ballot, their
            receipt) offered at 0.5x, 1x, 2x and 4x the raw insert rate,
            each for -vote-duration; afterwards each voter's stored vote in
            the open ballot is checked against what was acknowledged, and
            both ballots' turnout
  reads     /, a library search with a facet, /demands, a closed ballot's
            result page and /api/v1/resources, each offered anonymously at
            0.15x, 0.3x, 0.45x and 0.6x the gin ceiling, each for
            -page-duration
  control   just before each page, the minimal gin handler again, in a
            fresh child on the server's CPU, answering as many bytes as
            the page does, offered the page's steps open loop by the same
            client: a step it does not sustain is beyond what this client
            can measure at that size, so a page's miss at a step its
            control sustained is the server's, as is one where the rate
            needs a whole server CPU at the page's CPU a request; one at a
            step the control missed too is otherwise the client's limit
            (the controls are in no target)
  memory    the server's peak resident memory (VmHWM, and VmRSS sampled
            every 500 ms)

A step is sustained when its p99 stays under 50 ms (votes) or 25 ms
(pages) with no errors; the sustainable rate is the highest offered rate
sustained, given as a ratio to its ceiling. On two CPUs or more the load
generator runs on CPU 0 and the server and the ceilings on CPU 1 (-pin).
It prints the curves, the targets of issue 17 met or missed, and last a
single line of JSON with every figure. Progress goes to stderr; the
table and the JSON to stdout.
` + scaleUsage + `
Flags:
`

const scaleUsage = `
With -scale-db FILE, bench runs instead on a database built beforehand by

  plenary demo -db FILE -members 100000 -resources 10000 -proposals 1000 -votes 1000000

(FILE may be a postgres:// URL, built the same way)

and measures issue 5's targets at that scale. It works on FILE IN PLACE,
copying nothing, and writes to it: a motion it opens (freezing a roll of
every active member, about 1.3 MB at 100,000), one vote, the motion's
result and their ledger entries. Use a file you can spare. It:

  pages     starts the server on FILE, logs in as the demo admin and reads
            every public page (/, /library, a search with a topic facet,
            a resource, /demands, a demand, /proposals, the closed ballot
            with the most votes, /ledger, the API's lists and that ballot,
            /feed.atom) anonymously and as the admin, and /account,
            /proposals/new, /admin/members and /admin/library as the
            admin; then, logged in as the first ordinary active member
            in the admin's list, /, /proposals, that ballot, /account,
            the search, /ledger, /demands, /proxies and /meetings: the
            first request alone (cold), then -scale-requests one at a
            time, then as many over -scale-conns connections (p50, p95,
            max; target p95 < 50 ms both ways)
  verify    times plenary ledger verify (target < 10 s) and plenary tally
            verify on the three closed ballots with the most votes, with
            the server idle
  ballot    opens a motion now through POST /proposals/new (target < 1 s)
            for the shortest period the rules allow, reads the size of its
            roll, votes on it (timed), reads its page as the member and
            the admin while it runs, and waits until it has closed if
            that is within 5 minutes (a demo's rules allow 1), so that no
            ballot is left running; then, the server stopped, verifies the
            ledger again with the run's entries at its head
  memory    the server's peak resident memory throughout (target < 200 MB)

The vote, read and ceiling phases above do not run in this mode, and
-members, -voters, -ballots, -conns and -duration do not apply.
`

func main() {
	if len(os.Args) > 1 && os.Args[1] == ceilingChild {
		os.Exit(runCeilingChild(os.Args[2:]))
	}
	var cfg config
	var err error
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.bin, "bin", "", "an already built plenary binary (default: build one with -tags sqlite_fts5)")
	fs.IntVar(&cfg.members, "members", 1024, "members in the database besides the admin")
	fs.IntVar(&cfg.voters, "voters", 1024, "voters in the steady vote load (at most -members): enough that one voter rarely has two votes in flight")
	fs.IntVar(&cfg.ballots, "ballots", 1, "secret ballots opened for the vote load (its voters vote on the first; every other voter on an open one)")
	fs.IntVar(&cfg.loginConcurrency, "login-concurrency", runtime.NumCPU(), "voters logging in at once before the vote; 0 means all of them (a login storm)")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent connections for each read test and the gin ceiling")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each read test and the gin ceiling run")
	fs.DurationVar(&cfg.insertFor, "insert-duration", 3*time.Second, "how long the raw SQLite insert ceiling runs")
	fs.DurationVar(&cfg.voteFor, "vote-duration", 20*time.Second, "how long each offered vote rate is held (0.5×, 1×, 2× and 4× the raw insert rate)")
	fs.DurationVar(&cfg.pageFor, "page-duration", 5*time.Second, "how long each offered page rate is held (shares of the gin ceiling)")
	fs.BoolVar(&cfg.pin, "pin", true, "on two CPUs or more, pin the load generator to CPU 0 and the server and ceilings to CPU 1 (taskset); not with -scale-db")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the server's CPU profile during one vote step (-profile-at) to this file (go tool pprof)")
	fs.Float64Var(&cfg.profileAt, "profile-at", 1, "with -cpuprofile: the vote step profiled, as its multiple of the raw insert rate (0.5, 1, 2 or 4)")
	fs.BoolVar(&cfg.freshClosed, "fresh-closed", false, "always create a one-minute ballot for the closed result page rather than reuse a closed one")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (database, server log) and print where it is")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "give up on the whole run after this long (with -scale-db: 30m unless set)")
	fs.StringVar(&cfg.backend, "backend", "sqlite", "sqlite, or postgres: a fresh database beside -pg's, served by -processes processes, "+
		"its ceiling single-row PostgreSQL inserts")
	fs.StringVar(&cfg.pgAdmin, "pg", "postgres://postgres@127.0.0.1:5432/postgres", "with -backend postgres: a database URL whose user may create databases")
	fs.IntVar(&cfg.processes, "processes", 0, "Plenary processes serving the run (default 1 on sqlite, 2 on postgres; sqlite takes only 1)")
	fs.StringVar(&cfg.scaleDB, "scale-db", "", "run the scale mode on this demo database, in place, writing to it (see above)")
	fs.IntVar(&cfg.scaleRequests, "scale-requests", 200, "with -scale-db: requests for each page, one at a time and again over -scale-conns")
	fs.IntVar(&cfg.scaleConns, "scale-conns", 8, "with -scale-db: connections for each page's concurrent requests")
	fs.StringVar(&cfg.scaleAdmin, "scale-admin", "admin@example.org", "with -scale-db: the admin to log in as (plenary demo's)")
	fs.StringVar(&cfg.scalePassword, "scale-password", "",
		`with -scale-db: the admin's password (default: PLENARY_PASSWORD if set, as plenary demo took it from there, else "plenary demo password")`)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	timeoutSet := false
	fs.Visit(func(f *flag.Flag) { timeoutSet = timeoutSet || f.Name == "timeout" })
	if cfg.scaleDB != "" && !timeoutSet {
		cfg.timeout = 30 * time.Minute
	}
	// Not a flag default: -h would print the password.
	cfg.scalePassword = cmp.Or(cfg.scalePassword, os.Getenv("PLENARY_PASSWORD"), "plenary demo password")
	if cfg.processes == 0 {
		cfg.processes = map[bool]int{true: 2, false: 1}[cfg.backend == "postgres"]
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	if cfg.loginConcurrency == 0 || cfg.loginConcurrency > cfg.voters {
		cfg.loginConcurrency = cfg.voters
	}

	// The load run pins (issue 17); the scale mode does not: its eight
	// connections' pages would have one CPU between them, and its figures
	// are compared with runs that had two.
	measured = newPinning(cfg.pin && cfg.scaleDB == "")
	if err := measured.pinSelf(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	if measured.On {
		runtime.GOMAXPROCS(1)
	}
	if cfg.cpuProfile != "" {
		if cfg.cpuProfile, err = filepath.Abs(cfg.cpuProfile); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(2)
		}
		serverProfile = cfg.cpuProfile
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	runMode := run
	if cfg.scaleDB != "" {
		runMode = runScale
	}
	if err := runMode(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func (cfg config) check() error {
	switch {
	case cfg.members < 1 || cfg.members > 100000:
		return errors.New("-members must be between 1 and 100000")
	case cfg.voters < 1 || cfg.voters > cfg.members:
		return errors.New("-voters must be between 1 and -members")
	case cfg.ballots < 1 || cfg.ballots > 10:
		return errors.New("-ballots must be between 1 and 10")
	case cfg.loginConcurrency < 0:
		return errors.New("-login-concurrency must not be negative")
	case cfg.conns < 1 || cfg.conns > 4096:
		return errors.New("-conns must be between 1 and 4096")
	case cfg.voteFor < time.Second || cfg.voteFor > 10*time.Minute:
		return errors.New("-vote-duration must be between 1s and 10m")
	case cfg.pageFor < time.Second || cfg.pageFor > 5*time.Minute:
		return errors.New("-page-duration must be between 1s and 5m")
	case cfg.duration < 100*time.Millisecond || cfg.duration > 5*time.Minute:
		return errors.New("-duration must be between 100ms and 5m")
	case cfg.insertFor < 100*time.Millisecond || cfg.insertFor > 5*time.Minute:
		return errors.New("-insert-duration must be between 100ms and 5m")
	case cfg.timeout < time.Minute:
		return errors.New("-timeout must be at least 1m")
	case cfg.scaleRequests < 1 || cfg.scaleRequests > 100000:
		return errors.New("-scale-requests must be between 1 and 100000")
	case cfg.scaleConns < 1 || cfg.scaleConns > 256:
		return errors.New("-scale-conns must be between 1 and 256")
	case cfg.backend != "sqlite" && cfg.backend != "postgres":
		return errors.New("-backend must be sqlite or postgres")
	case cfg.processes < 1 || cfg.processes > 8:
		return errors.New("-processes must be between 1 and 8")
	case cfg.backend == "sqlite" && cfg.processes > 1:
		return errors.New("-processes: SQLite is served by one process")
	}
	if cfg.scaleDB != "" && !db.IsPostgresURL(cfg.scaleDB) {
		fi, err := os.Stat(cfg.scaleDB)
		if err != nil {
			return fmt.Errorf("-scale-db: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Size() == 0 {
			return fmt.Errorf("-scale-db: %s is not a database built by plenary demo", cfg.scaleDB)
		}
	}
	return nil
}

// progress prints what the run is doing, so a long wait is explained.
var progressOut io.Writer = os.Stderr

func progress(format string, args ...any) {
	fmt.Fprintf(progressOut, "bench: "+format+"\n", args...)
}
