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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
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
}

const usage = `bench starts the real Plenary binary on 127.0.0.1 with a fresh database in a
temporary directory, and measures in one run:

  votes     -voters members log in (-login-concurrency at a time), then
            all cast a real vote on an open ballot together
            (POST /proposals/:id/vote, session and CSRF token and all);
            only the vote POST is timed as a vote, logins are reported apart
  reads     /, a library search with a facet, /demands, a closed ballot's
            result page and /api/v1/resources, each at -conns connections
            for -duration
  memory    the server's peak resident memory (VmHWM, and VmRSS sampled
            every 500 ms)
  ceilings  raw single-row SQLite inserts with synchronous=FULL on the same
            disk, and a minimal gin handler hit by the same client

It prints each figure with its ratio to its ceiling, the targets of issue 5
met or missed, and last a single line of JSON with every figure. Progress
goes to stderr; the table and the JSON to stdout.

Flags:
`

func main() {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.bin, "bin", "", "an already built plenary binary (default: build one with -tags sqlite_fts5)")
	fs.IntVar(&cfg.members, "members", 256, "members in the database besides the admin")
	fs.IntVar(&cfg.voters, "voters", 256, "concurrent voters (at most -members)")
	fs.IntVar(&cfg.ballots, "ballots", 1, "open ballots each voter votes on, one after another")
	fs.IntVar(&cfg.loginConcurrency, "login-concurrency", runtime.NumCPU(), "voters logging in at once before the vote; 0 means all of them (a login storm)")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent connections for each read test and the gin ceiling")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each read test and the gin ceiling run")
	fs.DurationVar(&cfg.insertFor, "insert-duration", 3*time.Second, "how long the raw SQLite insert ceiling runs")
	fs.BoolVar(&cfg.freshClosed, "fresh-closed", false, "always create a one-minute ballot for the closed result page rather than reuse a closed one")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary directory (database, server log) and print where it is")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "give up on the whole run after this long")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	if cfg.loginConcurrency == 0 || cfg.loginConcurrency > cfg.voters {
		cfg.loginConcurrency = cfg.voters
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
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
	case cfg.duration < 100*time.Millisecond || cfg.duration > 5*time.Minute:
		return errors.New("-duration must be between 100ms and 5m")
	case cfg.insertFor < 100*time.Millisecond || cfg.insertFor > 5*time.Minute:
		return errors.New("-insert-duration must be between 100ms and 5m")
	case cfg.timeout < time.Minute:
		return errors.New("-timeout must be at least 1m")
	}
	return nil
}

// progress prints what the run is doing, so a long wait is explained.
var progressOut io.Writer = os.Stderr

func progress(format string, args ...any) {
	fmt.Fprintf(progressOut, "bench: "+format+"\n", args...)
}
