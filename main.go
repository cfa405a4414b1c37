// Command plenary runs a member-governed co-operative: a resource library,
// policy demands, and one-member-one-vote ballots, on one SQLite file.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/mail"
	"plenary/library"
	"plenary/server"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `Plenary runs a member-governed co-operative.

Usage:
  plenary [serve] [-addr ADDR] [-db FILE]   serve the web app (the default)
  plenary member add -email E -name N [-role admin]
                                            add an active member (password from
                                            PLENARY_PASSWORD or a prompt)
  plenary backup [-db FILE] OUT             write a consistent copy, even while serving
  plenary ledger verify [-db FILE]          check the ledger's hash chain
  plenary tally verify [-db FILE] ID        recount a closed ballot from its box
  plenary import [-db FILE] FILE            import Plenary JSON, Zotero CSV or CSL-JSON
  plenary export [-db FILE] -format json|csv|csl [-o FILE]  export the library
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
	case "import":
		err = importLibrary(ctx, args, stdout, stderr)
	case "export":
		err = exportLibrary(ctx, args, stdout, stderr)
	case "demo":
		err = demo(ctx, args, stdout, stderr)
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
	// SMTP, for mailing password-reset links; no mail when SMTPAddr is
	// empty. The password comes from PLENARY_SMTP_PASSWORD only, never a
	// flag, so it does not show in the process list.
	SMTPAddr, SMTPFrom, SMTPUser string
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// flags returns a flag set for cmd with -db, and -addr when serving.
func flags(cmd, summary string, stderr io.Writer, cfg *Config) *flag.FlagSet {
	fs := flag.NewFlagSet("plenary "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", env("PLENARY_DB", "plenary.db"), "SQLite database file (env PLENARY_DB)")
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
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s", path)
	}
	return openDB(ctx, path)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg Config
	fs := flags("serve [-addr ADDR] [-db FILE]", "Serve Plenary over HTTP.", stderr, &cfg)
	fs.StringVar(&cfg.Addr, "addr", env("PLENARY_ADDR", "127.0.0.1:8080"), "address to listen on (env PLENARY_ADDR)")
	fs.StringVar(&cfg.BaseURL, "base-url", env("PLENARY_BASE_URL", ""), "public URL people reach Plenary at; https makes cookies Secure (env PLENARY_BASE_URL; default http://ADDR)")
	noStarter := fs.Bool("no-starter", false, "don't load the starter library into an empty database")
	fs.StringVar(&cfg.Name, "name", env("PLENARY_NAME", "Plenary"), "the co-op's name, shown on every page (env PLENARY_NAME)")
	proxies := fs.String("trusted-proxies", env("PLENARY_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (env PLENARY_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", env("PLENARY_SMTP_ADDR", ""), "SMTP server host:port for mailing password-reset links; none means admins pass links on (env PLENARY_SMTP_ADDR)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", env("PLENARY_SMTP_FROM", ""), "sender address of Plenary's emails (env PLENARY_SMTP_FROM)")
	fs.StringVar(&cfg.SMTPUser, "smtp-user", env("PLENARY_SMTP_USER", ""), "SMTP login, if the server wants one (env PLENARY_SMTP_USER; default the sender address; password from PLENARY_SMTP_PASSWORD)")
	if err := parse(fs, args); err != nil {
		return err
	}
	mailer, err := smtpMailer(cfg, os.Getenv("PLENARY_SMTP_PASSWORD"))
	if err != nil {
		return err
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.TrustedProxies = append(cfg.TrustedProxies, p)
		}
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	d, err := openDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	gov := governance.New(d, time.Now)
	lib := library.New(d, time.Now)
	if !*noStarter {
		if loaded, err := lib.LoadStarter(ctx); err != nil {
			return err
		} else if loaded {
			log.Info("loaded the starter library into the empty database")
		}
	}
	// Listen before building the server, so that with -addr :0 the links it
	// prints (the setup link) name the port actually chosen.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	srv, err := server.New(ctx, server.Config{
		Name: cfg.Name, BaseURL: cfg.BaseURL, TrustedProxies: cfg.TrustedProxies,
		Templates: sub("templates"), Static: sub("static"), Mailer: mailer,
	}, log, d, gov, lib)
	if err != nil {
		return err
	}

	httpServer := srv.HTTPServer(cfg.Addr)
	log.Info("Plenary is serving", "addr", "http://"+ln.Addr().String(), "db", cfg.DB)
	if token, err := gov.NewSetupToken(ctx); err == nil {
		// Printed plainly as well as logged, so it stands out on a terminal.
		link := srv.SetupLink(token)
		log.Info("no admin yet: open the setup link to create the founding admin", "link", link)
		fmt.Fprintf(stderr, "\n    Create the founding admin: %s\n\n", link)
	} else if !errors.Is(err, governance.ErrSetupDone) {
		return err
	}

	// Ballots open and close on time even when nobody is looking; every read
	// also brings them up to date, so the ticker only saves a wait. The
	// scrub keeps secret votes in the write-ahead log for at most its
	// interval (governance/scrub.go).
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		scrub := time.NewTicker(governance.ScrubInterval)
		defer scrub.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := gov.Advance(ctx); err != nil && ctx.Err() == nil {
					log.Error("advance ballots", "err", err)
				}
			case <-scrub.C:
				if err := gov.Scrub(ctx); err != nil && ctx.Err() == nil {
					log.Error("scrub the write-ahead log", "err", err)
				}
			}
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	srv.Wait() // emails already on their way
	log.Info("stopped")
	return nil
}

func addMember(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("member add -email E -name N [-role admin] [-db FILE]",
		"Add an active member directly. The password comes from PLENARY_PASSWORD or is asked for.", stderr, &cfg)
	email := fs.String("email", "", "the member's email (required)")
	name := fs.String("name", "", "the member's name (required)")
	role := fs.String("role", "member", "member or admin")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		fs.Usage()
		return errUsage
	}
	password := os.Getenv("PLENARY_PASSWORD")
	if password == "" {
		var err error
		if password, err = readPassword(stdin, stderr); err != nil {
			return err
		}
	}
	d, err := openDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	m, err := governance.New(d, time.Now).AddMember(ctx, governance.Details{Name: *name, Email: *email, Password: password}, *role)
	var v governance.ValidationError
	if errors.As(err, &v) {
		for field, msg := range v {
			fmt.Fprintf(stderr, "%s: %s\n", field, msg)
		}
		return errors.New("member not added")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Added member %d (%s, %s).\n", m.ID, m.Role, m.EmailAddress())
	return nil
}

// readPassword asks on the terminal without echo, or reads a line when the
// input is not a terminal.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	fmt.Fprint(stderr, "Password: ")
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

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

func verifyLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := flags("ledger verify [-db FILE]", "Check that no ledger entry was altered, removed or reordered.", stderr, &cfg)
	if err := parse(fs, args); err != nil {
		return err
	}
	d, err := openExisting(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer d.Close()
	n, head, err := governance.New(d, time.Now).VerifyLedger(ctx)
	if err != nil {
		return fmt.Errorf("ledger verify FAILED: %w", err)
	}
	fmt.Fprintf(stdout, "ledger ok: %d entries, head %s\n", n, head)
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
	fmt.Fprintf(stdout, "tally ok: proposal %d %s: %d yes, %d no, %d abstain; turnout %d of %d (quorum %d%% %s)\n",
		id, t.Outcome, t.Yes, t.No, t.Abstain, t.Turnout(), t.RollSize, t.QuorumPct, map[bool]string{true: "met", false: "not met"}[t.QuorumMet])
	return nil
}

// smtpMailer builds the mailer cfg asks for, or nil for none.
func smtpMailer(cfg Config, password string) (mail.Mailer, error) {
	if cfg.SMTPAddr == "" {
		if cfg.SMTPFrom != "" || cfg.SMTPUser != "" || password != "" {
			return nil, errors.New("-smtp-from, -smtp-user and PLENARY_SMTP_PASSWORD need -smtp-addr (PLENARY_SMTP_ADDR) as well")
		}
		return nil, nil
	}
	if _, port, err := net.SplitHostPort(cfg.SMTPAddr); err != nil || port == "" {
		return nil, fmt.Errorf("-smtp-addr %q: want host:port, such as smtp.example.coop:587", cfg.SMTPAddr)
	}
	if a, err := netmail.ParseAddress(cfg.SMTPFrom); err != nil || a.Address != cfg.SMTPFrom {
		return nil, fmt.Errorf("-smtp-from %q: want the bare address Plenary's emails come from, such as plenary@example.coop", cfg.SMTPFrom)
	}
	return mail.SMTP{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Name: cfg.Name, Username: cfg.SMTPUser, Password: password}, nil
}
