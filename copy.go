package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"plenary/governance"
	"plenary/internal/db"
)

// copyDatabase moves a co-op from its SQLite file to PostgreSQL whole, then
// checks the copy as `ledger verify` and `tally verify` would.
func copyDatabase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plenary copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite database file to copy")
	to := fs.String("to", "", "the PostgreSQL database to copy into (a postgres:// URL)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Copy a co-op from its SQLite database file into an empty PostgreSQL\n"+
			"database, in one transaction, then verify the copy's ledger, endorsements and\n"+
			"every closed ballot's tally. Stop Plenary first: what it writes after the copy\n"+
			"begins stays behind in the file.\n\nUsage: plenary copy -from FILE -to URL\n")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if db.IsPostgresURL(*from) {
		return errors.New("copy reads a SQLite database file: -from names a PostgreSQL URL")
	}
	if !db.IsPostgresURL(*to) {
		return fmt.Errorf("copy writes to PostgreSQL: -to must be a postgres:// URL, not %q", *to)
	}
	src, err := openExisting(ctx, *from)
	if err != nil {
		return err
	}
	defer src.Close()
	start := time.Now()
	copied, err := db.CopyToPostgres(ctx, src, *to)
	if err != nil {
		return fmt.Errorf("copy FAILED, nothing was written: %w", err)
	}
	fmt.Fprintf(stdout, "copied %d rows in %d tables from %s to %s in %s\n",
		copied.Rows(), len(copied.Tables), *from, db.Redact(*to), time.Since(start).Round(time.Millisecond))

	dst, err := openExisting(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	gov := governance.New(dst, time.Now)
	n, head, err := gov.VerifyLedger(ctx)
	if err != nil {
		return fmt.Errorf("the copy's ledger FAILED to verify: %w", err)
	}
	es, err := gov.CheckEndorsements(ctx)
	if err == nil {
		err = endorsementFailures(es, stderr)
	}
	if err != nil {
		return fmt.Errorf("the copy's endorsements FAILED to verify: %w", err)
	}
	ids, err := gov.ClosedBallots(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := gov.VerifyTally(ctx, id); err != nil {
			return fmt.Errorf("the copy's tally FAILED to verify: %w", err)
		}
	}
	fmt.Fprintf(stdout, "copy ok: ledger of %d entries, head %s; %d endorsed items match their digests; %d closed ballots recount as stored\n",
		n, head, len(es), len(ids))
	return nil
}
