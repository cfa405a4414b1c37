package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/mail"
	"plenary/internal/notify"
	"plenary/library"
	"plenary/server"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var cfg Config
	fs := flags("serve [-addr ADDR] [-db FILE]", "Serve Plenary over HTTP.", stderr, &cfg)
	fs.StringVar(&cfg.Addr, "addr", env("PLENARY_ADDR", "127.0.0.1:8080"), "address to listen on (env PLENARY_ADDR)")
	fs.StringVar(&cfg.BaseURL, "base-url", env("PLENARY_BASE_URL", ""), "public URL people reach Plenary at; https makes cookies Secure (env PLENARY_BASE_URL; default http://ADDR)")
	noStarter := fs.Bool("no-starter", false, "don't load the starter library into an empty database")
	fs.StringVar(&cfg.Name, "name", env("PLENARY_NAME", "Plenary"), "the co-op's name, shown on every page (env PLENARY_NAME)")
	proxies := fs.String("trusted-proxies", env("PLENARY_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (env PLENARY_TRUSTED_PROXIES)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", env("PLENARY_SMTP_ADDR", ""), "SMTP server host:port for Plenary's emails (notifications, reset links); none means mail waits in the outbox and admins pass reset links on (env PLENARY_SMTP_ADDR)")
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
		Templates: sub("templates"), Static: sub("static"), Mail: mailer != nil,
	}, log, d, gov, lib)
	if err != nil {
		return err
	}
	// Message-IDs end with the co-op's host, so they are unique beyond it.
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Hostname() != "" {
		gov.MailDomain = u.Hostname()
	}
	key, err := gov.UnsubscribeKey(ctx)
	if err != nil {
		return err
	}
	sender, err := notify.New(notify.Config{Name: cfg.Name, BaseURL: cfg.BaseURL, Mailer: mailer}, log, d, key)
	if err != nil {
		return err
	}
	// The outbox's sender: one per database, however many processes
	// serve it (the others stand by). It finishes its batch in flight when
	// Plenary stops.
	sent := make(chan struct{})
	go func() { sender.Run(ctx); close(sent) }()

	if path := os.Getenv("PLENARY_CPUPROFILE"); path != "" {
		go profileOnSignal(ctx, path, log)
	}

	httpServer := srv.HTTPServer(cfg.Addr)
	log.Info("Plenary is serving", "addr", "http://"+ln.Addr().String(), "db", db.Redact(cfg.DB))
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
	<-sent // the sender's batch in flight
	log.Info("stopped")
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

// profileOnSignal lets a load test profile the server under its load and
// nothing else (issue 17, bench -cpuprofile): with PLENARY_CPUPROFILE set
// to a file, SIGUSR1 starts a CPU profile and the next SIGUSR1, or the
// server's stop, writes it there. Without the variable the signal keeps
// its default meaning.
func profileOnSignal(ctx context.Context, path string, log *slog.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	var f *os.File
	stop := func() {
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			log.Info("CPU profile written", "file", path)
			f = nil
		}
	}
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			if f != nil {
				stop()
				continue
			}
			var err error
			if f, err = os.Create(path); err != nil {
				log.Error("CPU profile", "err", err)
				continue
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				log.Error("CPU profile", "err", err)
				f.Close()
				f = nil
				continue
			}
			log.Info("CPU profile started", "file", path)
		}
	}
}
