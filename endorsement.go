package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"plenary/governance"
)

// verifyEndorsements checks endorsed content against the ledger: one
// resource or demand, or all of them.
func verifyEndorsements(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("endorsement verify [-db FILE] [resource ID|demand ID]", "Check that an endorsed resource or demand (or, with no\n"+
		"argument, every one) reads as the digest last recorded for it on the ledger: that\n"+
		"nothing changed it outside a ballot.", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	var what string
	var id int64
	switch fs.NArg() {
	case 0:
	case 2:
		what = fs.Arg(0)
		if what != "resource" && what != "demand" {
			return fmt.Errorf("%q: say resource or demand, then its number", what)
		}
		n, err := strconv.ParseInt(fs.Arg(1), 10, 64)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a %s number", fs.Arg(1), what)
		}
		id = n
	default:
		fs.Usage()
		return errUsage
	}
	d, err := openExisting(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	gov := governance.New(d, time.Now)
	var es []governance.Endorsement
	if what == "" {
		if es, err = gov.CheckEndorsements(ctx); err != nil {
			return fmt.Errorf("endorsement verify FAILED: %w", err)
		}
	} else {
		e, err := gov.CheckEndorsement(ctx, what, id)
		switch {
		case errors.Is(err, governance.ErrNotFound):
			return fmt.Errorf("there is no %s %d", what, id)
		case errors.Is(err, governance.ErrNotEndorsed):
			return fmt.Errorf("%s %d is not endorsed: there is nothing to verify", what, id)
		case err != nil:
			return err
		}
		es = append(es, e)
	}
	if err := endorsementFailures(es, stderr); err != nil {
		return fmt.Errorf("endorsement verify FAILED: %w", err)
	}
	for _, e := range es {
		fmt.Fprintf(stdout, "%s %d ok: digest %s (ledger entry %d)\n", e.What, e.ID, e.Current, e.LedgerSeq)
	}
	fmt.Fprintf(stdout, "endorsements ok: %d checked\n", len(es))
	return nil
}

// endorsementFailures writes each endorsement that does not match its
// digest to w, and returns an error if there was any.
func endorsementFailures(es []governance.Endorsement, w io.Writer) error {
	bad := 0
	for _, e := range es {
		if !e.OK() {
			bad++
			fmt.Fprintln(w, e.Problem())
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d endorsed items do not match the digest recorded on the ledger", bad, len(es))
	}
	return nil
}
