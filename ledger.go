package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"plenary/governance"
)

func verifyLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("ledger verify [-db FILE]", "Check that no ledger entry was altered, removed or reordered, and that every\n"+
		"endorsed resource and demand reads as the digest last recorded for it on the ledger.", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	d, err := openExisting(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	gov := governance.New(d, time.Now)
	n, head, err := gov.VerifyLedger(ctx)
	if err != nil {
		return fmt.Errorf("ledger verify FAILED: %w", err)
	}
	es, err := gov.CheckEndorsements(ctx)
	if err != nil {
		return fmt.Errorf("ledger verify FAILED: %w", err)
	}
	if err := endorsementFailures(es, stderr); err != nil {
		return fmt.Errorf("ledger verify FAILED: %w", err)
	}
	fmt.Fprintf(stdout, "ledger ok: %d entries, head %s; %d endorsed items match their digests\n", n, head, len(es))
	return nil
}

func verifyTally(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("tally verify [-db FILE] ID", "Recount closed ballot ID from its stored ballot box (or roll-call) and\n"+
		"compare the count, outcome, roll digest and box digest with the result stored when it closed.", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id < 1 {
		return fmt.Errorf("%q is not a proposal number", fs.Arg(0))
	}
	d, err := openExisting(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := governance.New(d, time.Now).VerifyTally(ctx, id)
	if err != nil {
		return fmt.Errorf("tally verify FAILED: %w", err)
	}
	if c := t.Choice; c != nil {
		// Options as the ballot numbers them, from 1.
		chosen := make([]string, len(c.Chosen))
		for i, o := range c.Chosen {
			chosen[i] = strconv.Itoa(o + 1)
		}
		fmt.Fprintf(stdout, "tally ok: proposal %d %s by %s: chose options [%s] of %d; %d ballots (%d blank) of %d (quorum %d%% %s)\n",
			id, t.Outcome, c.Method, strings.Join(chosen, ", "), c.Options, c.Ballots, c.Blank, c.RollSize, c.QuorumPct,
			map[bool]string{true: "met", false: "not met"}[c.QuorumMet])
		return nil
	}
	fmt.Fprintf(stdout, "tally ok: proposal %d %s: %d yes, %d no, %d abstain; turnout %d of %d (quorum %d%% %s)\n",
		id, t.Outcome, t.Yes, t.No, t.Abstain, t.Turnout(), t.RollSize, t.QuorumPct, map[bool]string{true: "met", false: "not met"}[t.QuorumMet])
	return nil
}
