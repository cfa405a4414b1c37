package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/library"
	"plenary/server"
)

// site is a real Plenary on a real database file, served over loopback.
type site struct {
	URL  string
	DB   *db.DB
	Gov  *governance.Service
	Lib  *library.Service
	Srv  *server.Server
	Path string
}

func startSite(t *testing.T) site {
	t.Helper()
	return startSiteWithClock(t, time.Now)
}

// startSiteWithClock serves a site whose services and pages all read the
// given clock, so a journey can move through a ballot's life.
func startSiteWithClock(t *testing.T, now func() time.Time) site {
	t.Helper()
	return startSiteWithConfig(t, now, nil)
}

// startSiteWithConfig is startSiteWithClock with the server's
// configuration changed by set first.
func startSiteWithConfig(t *testing.T, now func() time.Time, set func(*server.Config)) site {
	t.Helper()
	d := dbtest.Open(t)
	gov := governance.New(d, now)
	lib := library.New(d, now)
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	root := mustRepoRoot(t)
	cfg := server.Config{
		Name:      "Riverside Platform Co-op",
		BaseURL:   ts.URL,
		Templates: os.DirFS(filepath.Join(root, "templates")),
		Static:    os.DirFS(filepath.Join(root, "static")),
		Now:       now,
	}
	if set != nil {
		set(&cfg)
	}
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), d, gov, lib)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv
	return site{URL: ts.URL, DB: d, Gov: gov, Lib: lib, Srv: srv, Path: d.Path}
}

// visit checks a page the way a person meets it: it must be accessible, and
// a screenshot records what it looked like.
func visit(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	checkAxe(t, ctx, name)
	screenshot(t, ctx, name)
}

func mustContain(t *testing.T, ctx context.Context, selector, want string) {
	t.Helper()
	if got := text(t, ctx, selector); !strings.Contains(got, want) {
		t.Fatalf("%s reads %q; want it to contain %q", selector, got, want)
	}
}

func TestMembershipJourney(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	token, err := s.Gov.NewSetupToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	admin := newBrowser(t)
	applicant := newBrowser(t)

	t.Run("the founding admin sets up through the one-time link", func(t *testing.T) {
		navigate(t, admin, s.Srv.SetupLink(token))
		mustContain(t, admin, "h1", "Found your co-op")
		visit(t, admin, "setup")
		fill(t, admin, "#f-name", "Ada Secretary")
		fill(t, admin, "#f-email", "ada@riverside.coop")
		fill(t, admin, "#f-password", "correct horse battery staple")
		resp := submit(t, admin, "main button[type=submit]")
		if resp.Status != 200 || !strings.HasSuffix(currentURL(t, admin), "/admin/members") {
			t.Fatalf("after setup: status %d at %s", resp.Status, currentURL(t, admin))
		}
		mustContain(t, admin, "main", "you are its first admin")
		visit(t, admin, "admin-members-after-setup")
	})

	t.Run("the setup link no longer works once used", func(t *testing.T) {
		other := newIsolatedTab(t, applicant)
		navigate(t, other, s.Srv.SetupLink(token))
		mustContain(t, other, "h1", "Setup link not valid")
	})

	t.Run("a person applies and is told to wait for approval", func(t *testing.T) {
		navigate(t, applicant, s.URL+"/")
		visit(t, applicant, "home")
		navigate(t, applicant, s.URL+"/join")
		visit(t, applicant, "join")
		fill(t, applicant, "#f-name", "Bea Member")
		fill(t, applicant, "#f-email", "bea@example.org")
		fill(t, applicant, "#f-password", "short")
		submit(t, applicant, "main button[type=submit]")
		mustContain(t, applicant, "#f-password-error", "at least 10 characters")
		mustContain(t, applicant, "#f-statement-error", "why you want to join")
		visit(t, applicant, "join-with-errors")
		fill(t, applicant, "#f-password", "a lighthouse keeper's long walk")
		fill(t, applicant, "#f-statement", "I drive for a delivery co-op and want a say in its policy work.")
		submit(t, applicant, "main button[type=submit]")
		if !strings.HasSuffix(currentURL(t, applicant), "/account") {
			t.Fatalf("after applying the applicant is at %s", currentURL(t, applicant))
		}
		mustContain(t, applicant, "main", "waiting for an admin's approval")
		visit(t, applicant, "account-applicant")
	})

	t.Run("the admin approves the application", func(t *testing.T) {
		navigate(t, admin, s.URL+"/admin/members?status=applicant")
		mustContain(t, admin, "table", "Bea Member")
		visit(t, admin, "admin-applications")
		submit(t, admin, `table a[href^="/admin/members/"]`)
		mustContain(t, admin, "main", "I drive for a delivery co-op")
		visit(t, admin, "admin-applicant")
		submit(t, admin, `form[action$="/approve"] button`)
		mustContain(t, admin, ".flash.ok", "Application approved")
		mustContain(t, admin, "dl.facts", "active")
		visit(t, admin, "admin-approved")
	})

	t.Run("the new member logs in and sees their account", func(t *testing.T) {
		submit(t, applicant, `header form[action="/logout"] button`)
		mustContain(t, applicant, ".flash.ok", "logged out")
		navigate(t, applicant, s.URL+"/login?next=/account")
		visit(t, applicant, "login")
		fill(t, applicant, "#f-email", "bea@example.org")
		fill(t, applicant, "#f-password", "a lighthouse keeper's long walk")
		submit(t, applicant, "main button[type=submit]")
		if !strings.HasSuffix(currentURL(t, applicant), "/account") {
			t.Fatalf("after login the member is at %s", currentURL(t, applicant))
		}
		mustContain(t, applicant, "h1", "Your account")
		mustContain(t, applicant, "dl.facts", "active")
		visit(t, applicant, "account-member")
	})

	t.Run("the admin invites someone, who joins through the link", func(t *testing.T) {
		navigate(t, admin, s.URL+"/admin/invitations")
		visit(t, admin, "invitations")
		fill(t, admin, "#f-note", "For Cai, from the riders' meeting")
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, ".flash.ok", "shown only once")
		link := run(t, admin, "reading the invitation link", chromedp.Value(chromedp.CSS("#invitation-link")))
		if !strings.HasPrefix(link, s.URL+"/invite/") {
			t.Fatalf("invitation link %q", link)
		}
		mustContain(t, admin, "table", "open")
		visit(t, admin, "invitation-created")

		guest := newIsolatedTab(t, applicant)
		navigate(t, guest, link)
		mustContain(t, guest, "h1", "You are invited")
		visit(t, guest, "invitation")
		fill(t, guest, "#f-name", "Cai Rider")
		fill(t, guest, "#f-email", "cai@example.org")
		fill(t, guest, "#f-password", "seven quiet otters at dawn")
		submit(t, guest, "main button[type=submit]")
		mustContain(t, guest, ".flash.ok", "You are a member now")
		mustContain(t, guest, "dl.facts", "active")

		other := newIsolatedTab(t, applicant)
		navigate(t, other, link)
		mustContain(t, other, "h1", "Invitation not valid")
	})

	t.Run("the public ledger records both decisions by member number", func(t *testing.T) {
		reader := newIsolatedTab(t, admin)
		navigate(t, reader, s.URL+"/ledger")
		ledger := text(t, reader, "ol.ledger")
		for _, want := range []string{"member 1 is its first admin", "Member 2 admitted by member 1", "Member 3 admitted through invitation 1 from member 1"} {
			if !strings.Contains(ledger, want) {
				t.Errorf("ledger lacks %q:\n%s", want, ledger)
			}
		}
		if strings.Contains(ledger, "Bea") || strings.Contains(ledger, "bea@") {
			t.Errorf("the public ledger names a member:\n%s", ledger)
		}
		visit(t, reader, "ledger")
		if n, _, err := s.Gov.VerifyLedger(ctx); err != nil || n != 4 {
			t.Errorf("VerifyLedger = %d entries, %v; want 4 (founded, admitted, invitation, admitted), nil", n, err)
		}
	})

	t.Run("plenary ledger verify passes, and names the entry edited with the database's shell", func(t *testing.T) {
		bin := buildPlenary(t)
		out, err := exec.Command(bin, "ledger", "verify", "-db", s.Path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ledger ok: 4 entries") {
			t.Fatalf("ledger verify on the journey's database: %v\n%s", err, out)
		}
		editOutside(t, s.Path, []string{"ledger.ledger_no_update"}, `UPDATE ledger SET body = '{"by":1,"member":3}' WHERE seq = 2;`)
		out, err = exec.Command(bin, "ledger", "verify", "-db", s.Path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "ledger entry 2") {
			t.Fatalf("ledger verify after editing entry 2: %v\n%s", err, out)
		}
	})

	t.Run("pages fit a phone's screen", func(t *testing.T) {
		phone := newIsolatedTab(t, admin)
		do(t, phone, "emulating a phone", chromedp.EmulateViewport(390, 844))
		navigate(t, phone, s.URL+"/join")
		width := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if width > 390 {
			t.Errorf("the join page is %dpx wide on a 390px phone: it scrolls sideways", width)
		}
		visit(t, phone, "join-phone")
	})

	t.Run("the admin sets the co-op's zone and invites from a CSV; a member picks a zone and a calendar link", func(t *testing.T) {
		navigate(t, admin, s.URL+"/admin/settings")
		visit(t, admin, "settings")
		do(t, admin, "choosing Paris", chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-time_zone").value = "Europe/Paris"`))
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, ".flash.ok", "time zone is saved")
		mustContain(t, admin, "footer", "Times are shown in Europe/Paris")

		navigate(t, admin, s.URL+"/admin/invitations/bulk")
		visit(t, admin, "bulk-invite")
		fill(t, admin, "#f-csv", "name,email,role\nDee Rider,dee@example.org,\nBea Again,BEA@example.org,\n")
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, "table", "Already in the register")
		visit(t, admin, "bulk-invite-problems")
		fill(t, admin, "#f-csv", "name;email;role\nDee Rider;dee@example.org;\nEd Admin;ed@example.org;admin\n")
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, ".flash.ok", "All 2 rows are right")
		visit(t, admin, "bulk-invite-ready")
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, ".flash.ok", "2 invitations made")
		mustContain(t, admin, "table", "Ed Admin <ed@example.org>")

		navigate(t, applicant, s.URL+"/account")
		do(t, applicant, "choosing Tokyo", chromedp.Evaluate[chromedp.Void](`document.querySelector("#f-time_zone").value = "Asia/Tokyo"`))
		submit(t, applicant, `form[action="/account/zone"] button`)
		mustContain(t, applicant, ".flash.ok", "time zone is saved")
		mustContain(t, applicant, "footer", "Times are shown in Asia/Tokyo")
		submit(t, applicant, `form[action="/account/calendar"] button`)
		link := run(t, applicant, "reading the calendar link", chromedp.Value(chromedp.CSS("#calendar-link")))
		if !strings.HasPrefix(link, s.URL+"/calendar/") || !strings.HasSuffix(link, ".ics") {
			t.Fatalf("calendar link %q", link)
		}
		visit(t, applicant, "account-calendar")
		res, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Errorf("the calendar link answers %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
}

// editOutside changes the database behind the app's back, as someone with
// the database's shell would (sqlite3 on the file, psql on a PostgreSQL
// URL): it drops the named triggers, each "table.trigger", then runs
// query, whose SQL both databases take.
func editOutside(t *testing.T, path string, triggers []string, query string) {
	t.Helper()
	var drops string
	for _, tr := range triggers {
		table, name, _ := strings.Cut(tr, ".")
		if db.IsPostgresURL(path) {
			drops += "DROP TRIGGER " + name + " ON " + table + "; "
		} else {
			drops += "DROP TRIGGER " + name + "; "
		}
	}
	cmd := exec.Command("sqlite3", path, drops+query)
	if db.IsPostgresURL(path) {
		cmd = exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", path, "-c", drops+query)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s (installed by make test): %v\n%s", cmd.Args[0], err, out)
	}
}

// buildPlenary compiles the real binary, as an operator would run it.
func buildPlenary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "plenary")
	cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", bin, ".")
	cmd.Dir = mustRepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testLog sends the server's warnings and errors to the test's output.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
