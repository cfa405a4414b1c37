package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"plenary/internal/demo"
)

func writeDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("demo [-db FILE] [-members N] [-resources N] [-proposals N] [-votes N] [-seed S]",
		"Fill a new database with a generated co-op, for trying Plenary and for measuring it at scale:\n"+
			"an admin ("+demo.AdminEmail+") and N active members who all share one password (PLENARY_PASSWORD,\n"+
			"or \""+demo.DefaultPassword+"\"), the starter library and N generated resources, and N proposals that\n"+
			"went through real ballots with N votes between them, all closed, with their effects and ledger.\n"+
			"The same seed gives the same co-op (the dates end at today's midnight, UTC). Progress goes to\n"+
			"standard error. The database must be new: a file that already has members is refused.\n\n"+
			"Time and size grow with members × proposals, as every ballot freezes its whole roll: at 100,000\n"+
			"members each ballot adds about 0.35 s and 1.3 MB. On two cores, 100,000 members, 10,000 resources\n"+
			"and 1,000,000 votes take about 2 minutes and 450 MB with 100 proposals, 7 minutes and 1.6 GB\n"+
			"with 1,000.", stderr, &cfg)
	var opts demo.Options
	fs.IntVar(&opts.Members, "members", 1000, "active members besides the admin")
	fs.IntVar(&opts.Resources, "resources", 500, "generated resources, besides the starter library")
	fs.IntVar(&opts.Proposals, "proposals", 50, "closed proposals")
	fs.IntVar(&opts.Votes, "votes", 20000, "votes cast, across all the proposals")
	fs.Uint64Var(&opts.Seed, "seed", 1, "seed for everything generated")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	opts.Password = env("PLENARY_PASSWORD", demo.DefaultPassword)
	// Interrupted, the demo removes the file it started rather than leave
	// half a co-op behind.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demo.Write(ctx, cfg.DB, schema(), opts, stdout, stderr)
}
