package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// run does the whole measurement: prepare, ceilings, votes, reads,
// memory, report. The votes run before the reads so that a one-minute
// ballot created at the start has closed by the time its result page is
// read.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	progressOut = stderr
	dir, done, err := workDir("plenary-bench-", "plenary.db, server.log", cfg.keep)
	if err != nil {
		return err
	}
	defer done()

	res := newResults(cfg)
	res.Pinning = measured
	res.Machine.LoadBefore = loadAverage()
	bin := cfg.bin
	if bin == "" {
		if bin, err = build(ctx, dir); err != nil {
			return err
		}
	}
	dbPath := filepath.Join(dir, "plenary.db")
	if cfg.backend == "postgres" {
		url, drop, err := benchDatabase(ctx, cfg.pgAdmin, cfg.keep)
		if err != nil {
			return err
		}
		defer drop()
		dbPath = url
	}
	pop, err := populate(ctx, bin, dbPath, cfg)
	if err != nil {
		return err
	}
	res.Setup.Populated = pop.how

	var servers fleet
	defer func() { servers.stop() }()
	for i := range cfg.processes {
		logPath := filepath.Join(dir, "server.log")
		if i > 0 {
			logPath = filepath.Join(dir, fmt.Sprintf("server-%d.log", i+1))
		}
		s, err := startServerLogging(ctx, bin, dbPath, logPath)
		if err != nil {
			return err
		}
		servers = append(servers, s)
	}
	srv := servers[0]
	mem := srv.watchMemory()
	defer mem.stop()

	mem.setPhase("setup")
	co, err := prepare(ctx, srv, bin, dbPath, cfg, pop)
	if err != nil {
		return err
	}
	res.Setup.OpenBallots, res.Setup.ClosedBallot, res.Setup.ClosedCreated = co.ballots, co.closed.ID, co.closedCreated
	res.Setup.Voters = len(co.voters)
	res.Notes = append(res.Notes, co.notes...)

	// The ceilings first: the vote load offers multiples of the raw
	// insert rate.
	mem.setPhase("ceilings")
	backend, target := "sqlite", filepath.Join(dir, "raw.db")
	if cfg.backend == "postgres" {
		backend, target = "postgres", dbPath
	}
	progress("ceiling: raw %s single-row inserts for %s (%s)", backend, cfg.insertFor, measured)
	raw, err := measureInserts(ctx, backend, target, cfg.insertFor)
	if err != nil {
		return err
	}
	if cfg.backend == "postgres" {
		res.Ceilings.PostgresInserts = raw
	} else {
		res.Ceilings.SQLiteInserts = raw
	}
	progress("ceiling: %.0f inserts a second; minimal gin handler at %d connections for %s", raw, cfg.conns, cfg.duration)
	if res.Ceilings.Gin, err = ginCeiling(ctx, cfg.conns, cfg.duration); err != nil {
		return err
	}
	progress("ceiling: gin %.0f a second", res.Ceilings.Gin.PerSec)

	res.Votes, res.Notes = steadyVotes(ctx, servers, co, cfg, raw, mem, res.Notes)

	if co.closedCreated {
		if err := waitClosed(ctx, srv.base, co.closed); err != nil {
			return err
		}
	}
	reads, notes := steadyPages(ctx, servers, co.closed.ID, cfg, res.Ceilings.Gin.PerSec, mem)
	res.Reads, res.Notes = reads, append(res.Notes, notes...)

	res.Memory = mem.figures()
	res.Machine.LoadAfter = loadAverage()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run cut short: %w", err)
	}
	servers.stop()
	res.Server = srv.logSummary()
	res.judge()
	res.print(stdout)
	return nil
}

// waitClosed waits, bounded by the ballot's own closing time, until the
// one-minute ballot's result is published.
func waitClosed(ctx context.Context, base string, p proposalRef) error {
	deadline := p.ClosesAt.Add(30 * time.Second)
	if wait := time.Until(p.ClosesAt); wait > 0 {
		progress("waiting %s for ballot %d to close", wait.Round(time.Second), p.ID)
	}
	// It asks at least once: a run that did other work past the close
	// (sending a ballot's mail) finds it closed.
	for ctx.Err() == nil {
		if status, err := proposalStatus(ctx, base, p.ID); err == nil && status == "closed" {
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("ballot %d had not closed 30 s after its closing time", p.ID)
}

// workDir makes a temporary directory for a run and returns what to do at
// its end: remove it, or with keep say where it is and what it holds.
func workDir(prefix, holds string, keep bool) (string, func(), error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	if keep {
		return dir, func() { progress("kept %s (%s)", dir, holds) }, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
