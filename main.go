// Command plenary runs a member-governed co-operative: a resource library,
// policy demands, and one-member-one-vote ballots, on one SQLite file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"plenary/internal/db"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `Plenary runs a member-governed co-operative.

Usage:
  plenary [serve] [-addr ADDR] [-db FILE]   serve the web app (the default);
                                            FILE may be a postgres:// URL
  plenary member add -email E -name N [-role admin]
                                            add an active member (password from
                                            PLENARY_PASSWORD or a prompt)
  plenary backup [-db FILE] OUT             write a consistent copy, even while serving
  plenary ledger verify [-db FILE]          check the ledger's hash chain and
                                            every endorsed item against it
  plenary endorsement verify [-db FILE] [resource ID|demand ID]
                                            check endorsed content against the ledger
  plenary tally verify [-db FILE] ID        recount a closed ballot from its box
  plenary import [-db FILE] FILE            import Plenary JSON, Zotero CSV or CSL-JSON
  plenary export [-db FILE] -format json|csv|csl [-o FILE]  export the library
  plenary copy -from FILE -to URL          move a co-op from its SQLite file into an
                                            empty PostgreSQL database, then verify it
  plenary demo [-db FILE] [-members N] [-resources N] [-proposals N] [-votes N] [-seed S]
                                            fill a new database with a generated co-op

Environment: PLENARY_ADDR, PLENARY_DB, PLENARY_BASE_URL, PLENARY_NAME,
PLENARY_TRUSTED_PROXIES, PLENARY_PASSWORD. Run "plenary COMMAND -h" for more.
`

// run is main without the exits, so tests can drive the command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	// A leading flag belongs to the default serve command, except -h and
	// --help, which ask for the whole usage rather than serve's flags.
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr)
	case "member":
		if len(args) == 0 || args[0] != "add" {
			fmt.Fprint(stderr, "usage: plenary member add -email E -name N [-role admin]\n")
			return 2
		}
		err = addMember(ctx, args[1:], stdin, stdout, stderr)
	case "backup":
		err = backup(ctx, args, stdout, stderr)
	case "tally":
		if len(args) == 0 || args[0] != "verify" {
			fmt.Fprint(stderr, "usage: plenary tally verify [-db FILE] ID\n")
			return 2
		}
		err = verifyTally(ctx, args[1:], stdout, stderr)
	case "ledger":
		if len(args) == 0 || args[0] != "verify" {
			fmt.Fprint(stderr, "usage: plenary ledger verify [-db FILE]\n")
			return 2
		}
		err = verifyLedger(ctx, args[1:], stdout, stderr)
	case "endorsement":
		if len(args) == 0 || args[0] != "verify" {
			fmt.Fprint(stderr, "usage: plenary endorsement verify [-db FILE] [resource ID|demand ID]\n")
			return 2
		}
		err = verifyEndorsements(ctx, args[1:], stdout, stderr)
	case "import":
		err = importLibrary(ctx, args, stdout, stderr)
	case "export":
		err = exportLibrary(ctx, args, stdout, stderr)
	case "demo":
		err = writeDemo(ctx, args, stdout, stderr)
	case "copy":
		err = copyDatabase(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "plenary: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "plenary: %v\n", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

// Config is everything Plenary reads from flags and the environment.
type Config struct {
	Addr           string
	DB             string
	BaseURL        string
	Name           string
	TrustedProxies []string
	// SMTP, for Plenary's emails (notifications and reset links); with
	// SMTPAddr empty, mail waits in the outbox. The password comes from PLENARY_SMTP_PASSWORD only, never a
	// flag, so it does not show in the process list.
	SMTPAddr, SMTPFrom, SMTPUser string
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// flags returns a flag set for cmd with the -db every command takes; each
// command adds its own flags to it.
func flags(cmd, summary string, stderr io.Writer, cfg *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("plenary "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", env("PLENARY_DB", "plenary.db"), "SQLite database file, or a postgres:// URL (env PLENARY_DB)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nUsage: plenary %s\n", summary, cmd)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func openDB(ctx context.Context, path string) (*db.DB, error) {
	return db.Open(ctx, path, schema(), db.Options{})
}

// openExisting opens a database that must already exist: commands that
// check or read one should not quietly create an empty one.
func openExisting(ctx context.Context, path string) (*db.DB, error) {
	switch ok, err := db.Exists(ctx, path); {
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("no database at %s", db.Redact(path))
	}
	return openDB(ctx, path)
}
