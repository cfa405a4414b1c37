// The mail journey of issue 13.

package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/fakeclock"
	"plenary/internal/mail"
	"plenary/internal/mailpit"
	"plenary/internal/notify"
	"plenary/server"
)

// mailSite is a site whose outbox is sent to a real SMTP server (Mailpit)
// by the sender plenary serve runs, worked step by step on the site's clock.
type mailSite struct {
	site
	Mailpit *mailpit.Server
	Sender  *notify.Sender
}

func startMailSite(t *testing.T, clk *fakeclock.Clock) mailSite {
	t.Helper()
	mp := mailpit.Start(t, mailpit.Options{})
	s := startSiteWithConfig(t, clk.Now, func(c *server.Config) { c.Mail = true })
	key, err := s.Gov.UnsubscribeKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sender, err := notify.New(notify.Config{
		Name: "Riverside Platform Co-op", BaseURL: s.URL, Now: clk.Now,
		Mailer: mail.SMTP{Addr: mp.SMTPAddr, From: "plenary@riverside.coop", Name: "Riverside Platform Co-op"},
	}, slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), s.DB, key)
	if err != nil {
		t.Fatal(err)
	}
	return mailSite{site: s, Mailpit: mp, Sender: sender}
}

// step runs a part of a journey as a subtest, and ends the journey when
// it fails: the parts after it build on it.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// send does what the running sender does between two idle waits: it works
// the outbox until nothing is due.
func (s mailSite) send(t *testing.T) {
	t.Helper()
	for {
		n, err := s.Sender.Work(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// inbox returns the messages to address whose subject starts with prefix.
func (s mailSite) inbox(t *testing.T, address, prefix string) []mailpit.Message {
	t.Helper()
	var out []mailpit.Message
	for _, m := range s.Mailpit.To(address) {
		if strings.HasPrefix(m.Subject, prefix) {
			out = append(out, s.Mailpit.Message(m.ID))
		}
	}
	return out
}

// one returns the single message to address whose subject starts with
// prefix, failing unless there is exactly one.
func (s mailSite) one(t *testing.T, address, prefix string) mailpit.Message {
	t.Helper()
	got := s.inbox(t, address, prefix)
	if len(got) != 1 {
		t.Fatalf("%s has %d messages starting %q; want 1 (all: %v)", address, len(got), prefix, subjects(s.Mailpit.To(address)))
	}
	return got[0]
}

func subjects(ms []mailpit.Summary) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Subject)
	}
	return out
}

// linkIn finds the first link to the site under path in a message's text.
func linkIn(t *testing.T, m mailpit.Message, base, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(base+path) + `[^\s<>"]+`)
	link := re.FindString(m.Text)
	if link == "" {
		t.Fatalf("no link to %s in %q:\n%s", path, m.Subject, m.Text)
	}
	if !strings.Contains(m.HTML, link) {
		t.Errorf("the HTML part of %q lacks the text part's link %s", m.Subject, link)
	}
	return link
}

// TestMailJourney is issue 13's journey: an admin invites three people in
// bulk; each joins from the link in the email Mailpit received; a ballot
// opens and all three are told; one votes; the reminder goes to the other
// two only; the result reaches all three; one stops result emails with the
// email's one-click link and gets no further result.
func TestMailJourney(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC))
	s := startMailSite(t, clk)
	ctx := context.Background()
	if _, err := s.Lib.LoadStarter(ctx); err != nil {
		t.Fatal(err)
	}
	const adminEmail, adminPassword = "ada@riverside.coop", "correct horse battery staple"
	if _, err := s.Gov.AddMember(ctx, governance.Details{Name: "Ada Secretary", Email: adminEmail, Password: adminPassword}, governance.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	people := []struct{ name, email, password string }{
		{"Bea Driver", "bea@example.org", "a lighthouse keeper's long walk"},
		{"Cai Rider", "cai@example.org", "seven quiet otters at dawn"},
		{"Dee Coder", "dee@example.org", "the kettle sings in march"},
	}
	admin := newBrowser(t)
	logIn(t, admin, s.URL, adminEmail, adminPassword)
	// Each person's own browser, isolated from the admin's cookies; made
	// here, so that each lives for the whole journey, not one step.
	browsers := make([]context.Context, len(people))
	for i := range people {
		browsers[i] = newIsolatedTab(t, admin)
	}
	var proposalURL string

	step(t, "an admin invites three people from a pasted CSV", func(t *testing.T) {
		navigate(t, admin, s.URL+"/admin/invitations/bulk")
		var csv strings.Builder
		csv.WriteString("name,email\n")
		for _, p := range people {
			csv.WriteString(p.name + "," + p.email + "\n")
		}
		fill(t, admin, "#f-csv", csv.String())
		submit(t, admin, "main form button[type=submit]")
		mustContain(t, admin, ".flash.ok", "All 3 rows are right")
		visit(t, admin, "mail-bulk-invite-preview")
		if n := s.Mailpit.Count(); n != 0 {
			t.Fatalf("%d emails before the admin confirmed", n)
		}
		submit(t, admin, "main form button[type=submit]")
		mustContain(t, admin, "main", "3")
		s.send(t)
	})

	step(t, "each opens the link in their email and sets a password", func(t *testing.T) {
		for i, p := range people {
			m := s.one(t, p.email, "You are invited")
			if got := m.Header("Message-Id"); got == "" {
				t.Errorf("the invitation to %s has no Message-ID", p.email)
			}
			link := linkIn(t, m, s.URL, "/invite/")
			navigate(t, browsers[i], link)
			mustContain(t, browsers[i], "main", p.email)
			if i == 0 {
				visit(t, browsers[i], "mail-invitation-from-email")
			}
			fill(t, browsers[i], "#f-name", p.name)
			fill(t, browsers[i], "#f-password", p.password)
			submit(t, browsers[i], "main button[type=submit]")
			mustContain(t, browsers[i], ".flash.ok", "You are a member now")
		}
	})

	step(t, "a ballot opens and all three are emailed the question and its close in their zone", func(t *testing.T) {
		navigate(t, admin, s.URL+"/demands/1")
		submit(t, admin, `a[href^="/proposals/new?kind=endorse_demand"]`)
		fill(t, admin, "#f-title", "Endorse: open routes for investment into digital co-ops")
		fill(t, admin, "#f-body", "Our members raise this ask most.")
		fill(t, admin, "#f-days", "8") // a day more than the rule's least
		fill(t, admin, "#f-minutes", "0")
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, ".flash.ok", "open for voting")
		proposalURL = currentURL(t, admin)
		s.send(t)
		for _, p := range people {
			m := s.one(t, p.email, "Voting is open: Endorse: open routes")
			if !strings.Contains(m.Text, proposalURL) {
				t.Errorf("the email to %s lacks the ballot's link %s:\n%s", p.email, proposalURL, m.Text)
			}
			// The co-op's zone is UTC and none of them chose another:
			// the close, eight days on, is written in UTC and says so.
			if !strings.Contains(m.Text, "28 March 2026, 09:00 UTC") {
				t.Errorf("the email to %s does not give the close (28 March 2026, 09:00 UTC):\n%s", p.email, m.Text)
			}
		}
	})

	step(t, "one votes; a day before the close the reminder goes to the other two only", func(t *testing.T) {
		bea := browsers[0]
		navigate(t, bea, proposalURL)
		do(t, bea, "choosing yes", chromedp.Click(chromedp.CSS(`input[name=choice][value=yes]`)))
		submit(t, bea, "form.ballot button[type=submit]")
		mustContain(t, bea, ".flash.ok", "in the ballot box")

		clk.Advance(7*24*time.Hour - time.Hour)
		if err := s.Gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		s.send(t)
		for _, p := range people {
			if got := s.inbox(t, p.email, "Voting closes soon"); len(got) != 0 {
				t.Fatalf("a reminder reached %s 25 hours before the close", p.email)
			}
		}
		clk.Advance(2 * time.Hour)
		if err := s.Gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		s.send(t)
		if got := s.inbox(t, people[0].email, "Voting closes soon"); len(got) != 0 {
			t.Errorf("%s, who voted, was reminded", people[0].email)
		}
		for _, p := range people[1:] {
			m := s.one(t, p.email, "Voting closes soon")
			if !strings.Contains(m.Text, proposalURL) {
				t.Errorf("the reminder to %s lacks the ballot's link", p.email)
			}
		}
	})

	var unsubscribe string
	step(t, "the ballot closes and the result reaches all three", func(t *testing.T) {
		clk.Advance(24 * time.Hour)
		if err := s.Gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		s.send(t)
		for _, p := range people {
			m := s.one(t, p.email, "Result: Endorse: open routes")
			if !strings.Contains(m.Text, "1 yes, 0 no, 0 abstain") {
				t.Errorf("the result to %s lacks the tally:\n%s", p.email, m.Text)
			}
			if m.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(m.Header("List-Unsubscribe"), s.URL+"/unsubscribe/") {
				t.Errorf("the result to %s has no one-click unsubscribe: %q, %q", p.email, m.Header("List-Unsubscribe"), m.Header("List-Unsubscribe-Post"))
			}
		}
		unsubscribe = strings.Trim(s.one(t, people[1].email, "Result:").Header("List-Unsubscribe"), "<>")
	})

	step(t, "one stops result emails with one click, as a mail client does", func(t *testing.T) {
		// RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the
		// header's link, with no cookie and from no page of the site.
		resp, err := http.PostForm(unsubscribe, url.Values{"List-Unsubscribe": {"One-Click"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Emails stopped") {
			t.Fatalf("one-click unsubscribe: %d\n%s", resp.StatusCode, body)
		}
		// The same link in a browser says so, logged out.
		reader := newIsolatedTab(t, admin)
		navigate(t, reader, unsubscribe)
		visit(t, reader, "mail-unsubscribe")
		navigate(t, browsers[1], s.URL+"/account")
		visit(t, browsers[1], "mail-account-after-unsubscribe")
	})

	step(t, "a second ballot: everyone is told it opened, and the result reaches all but the one who stopped it", func(t *testing.T) {
		navigate(t, admin, s.URL+"/demands/2")
		submit(t, admin, `a[href^="/proposals/new?kind=endorse_demand"]`)
		fill(t, admin, "#f-title", "Endorse: a public fund for co-op conversions")
		fill(t, admin, "#f-body", "The second ask of the briefing.")
		fill(t, admin, "#f-days", "8") // a day more than the rule's least
		fill(t, admin, "#f-minutes", "0")
		submit(t, admin, "main button[type=submit]")
		mustContain(t, admin, ".flash.ok", "open for voting")
		clk.Advance(8*24*time.Hour + time.Hour)
		if err := s.Gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		s.send(t)
		for i, p := range people {
			s.one(t, p.email, "Voting is open: Endorse: a public fund")
			want := 1
			if i == 1 {
				want = 0
			}
			if got := s.inbox(t, p.email, "Result: Endorse: a public fund"); len(got) != want {
				t.Errorf("%s got %d results of the second ballot; want %d", p.email, len(got), want)
			}
			// And the first ballot's emails were never sent twice.
			s.one(t, p.email, "Voting is open: Endorse: open routes")
			s.one(t, p.email, "Result: Endorse: open routes")
		}
	})
}
