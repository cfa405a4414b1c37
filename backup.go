package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"plenary/internal/db"
)

func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("backup [-db FILE] OUT", "Write a consistent copy of the database to OUT, safe while Plenary serves.\n"+
		"To restore: stop Plenary, replace the database file with the copy (and delete any -wal and -shm files beside it), start Plenary.", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	out := fs.Arg(0)
	if db.IsPostgresURL(cfg.DB) {
		// Said before anything is opened: there is nothing to copy here.
		return db.ErrBackupPostgres
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; choose a new file name", out)
	}
	// A mistyped -db (or a cron job run from another directory) must fail,
	// not back up a new empty database and report success.
	d, err := openExisting(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Backup(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s.\n", cfg.DB, out)
	return nil
}
