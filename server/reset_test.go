package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/mail"
	"plenary/internal/mailpit"
	"plenary/internal/notify"
	"plenary/server"
)

// issueReset has admin make a password-reset link for u and returns its
// token.
func (a *app) issueReset(t *testing.T, admin, u user) string {
	t.Helper()
	_, token, err := a.Gov.IssueReset(context.Background(), admin.Member, u.ID)
	if err != nil {
		t.Fatalf("issue reset for %s: %v", u.Email, err)
	}
	return token
}

// mailbox is the mail a member would get: a real SMTP server (Mailpit)
// that the app's outbox is sent to by a real sender, as plenary serve
// runs one.
type mailbox struct {
	mp *mailpit.Server
	a  *app
}

// take waits until the app's outbox has nothing left to send, and returns
// what Mailpit received whose subject starts with subject, oldest first;
// it clears Mailpit.
func (m *mailbox) take(t *testing.T, subject string) []mailpit.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var queued int
		if err := m.a.DB.R.Get(&queued, `SELECT count(*) FROM notifications WHERE status = 'queued'`); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d notifications still queued after 10 s", queued)
		}
		time.Sleep(20 * time.Millisecond)
	}
	list := m.mp.Messages()
	out := make([]mailpit.Message, 0, len(list))
	for i := len(list) - 1; i >= 0; i-- {
		if strings.HasPrefix(list[i].Subject, subject) {
			out = append(out, m.mp.Message(list[i].ID))
		}
	}
	m.mp.Clear()
	return out
}

// newMailApp is newApp with mail configured: its outbox is sent to a real
// SMTP server, whose mail the tests read.
func newMailApp(t *testing.T, configure ...func(*governance.Service)) (*app, *mailbox) {
	t.Helper()
	a := newAppWith(t, func(c *server.Config) { c.Mail = true }, configure...)
	mp := mailpit.Start(t, mailpit.Options{})
	key, err := a.Gov.UnsubscribeKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sender, err := notify.New(notify.Config{Name: "Test Co-op", BaseURL: a.URL, Now: a.Clock.Now, Idle: 20 * time.Millisecond,
		Mailer: mail.SMTP{Addr: mp.SMTPAddr, From: "plenary@example.coop", Name: "Test Co-op"}},
		slog.New(slog.NewTextHandler(io.Discard, nil)), a.DB, key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return a, &mailbox{mp: mp, a: a}
}

var (
	csrfValue = regexp.MustCompile(`name="csrf_token" value="[^"]+"`)
	resetLink = regexp.MustCompile(`/reset/[A-Za-z0-9_-]{43}`)
)

// seen is what a person sees after asking for a reset: the status, where
// they are sent, and the page there with its flash (minus the per-session
// CSRF token).
func seen(t *testing.T, c *client, email string) string {
	t.Helper()
	r := c.submit(t, "/forgot", "/forgot", form("email", email))
	next := c.get(t, r.Location())
	return fmt.Sprintf("%d %s\n%s", r.Status, r.Location(), csrfValue.ReplaceAllString(excerpt(next.Body), ""))
}

func TestForgotPasswordAnswersTheSameWhetherOrNotTheAccountExists(t *testing.T) {
	t.Parallel()
	for _, withMail := range []bool{false, true} {
		t.Run(fmt.Sprintf("mail configured: %v", withMail), func(t *testing.T) {
			t.Parallel()
			a, o := newMailApp(t)
			if !withMail {
				a = newApp(t)
			}
			ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
			mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
			gone := a.addMember(t, ad, "Gil Gone", "gil@example.org")
			if err := a.Gov.MarkLeft(context.Background(), ad.Member, gone.ID); err != nil {
				t.Fatal(err)
			}

			known := seen(t, a.client(), strings.ToUpper(mem.Email))
			if !strings.HasPrefix(known, "303 /login\n") || !strings.Contains(known, "If an account uses that email address") {
				t.Fatalf("after asking for a reset, the person sees:\n%s", known)
			}
			for _, email := range []string{"nobody@example.org", gone.Email} {
				if other := seen(t, a.client(), email); other != known {
					t.Errorf("asking for %s shows something else than asking for a member's address:\n%s\n---- versus ----\n%s", email, other, known)
				}
			}

			var requests int
			if err := a.DB.R.Get(&requests, `SELECT count(*) FROM reset_requests`); err != nil {
				t.Fatal(err)
			}
			if requests != 1 {
				t.Errorf("%d requests recorded, want 1 (the member's)", requests)
			}
			admin := a.client()
			admin.login(t, ad)
			list := admin.get(t, "/admin/members")
			list.wantText(t, "Password-reset requests")
			list.wantText(t, fmt.Sprintf("Mo Member, member %d", mem.ID))
			page := admin.get(t, "/admin/members/"+strconv.FormatInt(mem.ID, 10))
			page.wantText(t, "Asked for a password reset at 2 Mar 2026 10:00 UTC")

			if !withMail {
				var queued int
				if err := a.DB.R.Get(&queued, `SELECT count(*) FROM notifications WHERE kind = 'password_reset'`); err != nil || queued != 0 {
					t.Errorf("with no mail configured %d reset emails were queued (%v)", queued, err)
				}
				return
			}
			sent := o.take(t, "Choose a new password")
			if len(sent) != 1 || sent[0].To[0].Address != mem.Email {
				t.Fatalf("sent %+v, want one email to %s", sent, mem.Email)
			}
			link := resetLink.FindString(sent[0].Text)
			if link == "" || !strings.Contains(sent[0].Text, a.URL+link) || !strings.Contains(sent[0].Subject, "Test Co-op") {
				t.Fatalf("the email holds no reset link on %s:\n%s", a.URL, sent[0].Text)
			}
			page = admin.get(t, "/admin/members/"+strconv.FormatInt(mem.ID, 10))
			page.wantText(t, "and emailed to them; works until 3 Mar 2026 10:00 UTC")
			anon := a.client()
			r := anon.submit(t, link, link, form("password", "lantern meadow copper 77", "password_repeat", "lantern meadow copper 77"))
			r.wantRedirect(t, "/login")
			if list := admin.get(t, "/admin/members"); strings.Contains(list.Body, "Password-reset requests") {
				t.Error("the admins still see the request after the password was reset")
			}
		})
	}
}

func TestResetLinkWorksOnceAndEndsEverySession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	admin := a.client()
	admin.login(t, ad)
	phone, laptop := a.client(), a.client()
	phone.login(t, mem)
	laptop.login(t, mem)
	memberPage := "/admin/members/" + strconv.FormatInt(mem.ID, 10)

	// The admin issues the link from the member's page and copies it.
	r := admin.submit(t, memberPage, memberPage+"/reset", nil)
	r.wantRedirect(t, memberPage)
	page := admin.get(t, memberPage)
	page.wantText(t, "Password-reset link made.")
	link := regexp.MustCompile(`id="reset-link" type="text" readonly value="` + regexp.QuoteMeta(a.URL) + `(/reset/[^"]+)"`).FindStringSubmatch(page.Body)
	if link == nil {
		t.Fatalf("the member page shows no link to copy:\n%s", excerpt(page.Body))
	}
	path := link[1]
	if again := admin.get(t, memberPage); strings.Contains(again.Body, path) {
		t.Error("the link is shown again on reload; it must be shown once")
	}
	admin.get(t, memberPage).wantText(t, fmt.Sprintf("by member %d; works until 3 Mar 2026 10:00 UTC", ad.ID))

	// The member, on a third device, opens it and sets a new password.
	const fresh = "lantern meadow copper 77"
	anon := a.client()
	form := anon.get(t, path)
	form.wantStatus(t, http.StatusOK)
	form.wantText(t, "For the account "+mem.Email)
	r = anon.submit(t, path, path, url.Values{"password": {fresh}, "password_repeat": {fresh}})
	r.wantRedirect(t, "/login")
	anon.get(t, "/login").wantText(t, "Your new password is set")

	t.Run("the sessions from before the reset are logged out", func(t *testing.T) {
		for name, c := range map[string]*client{"phone": phone, "laptop": laptop} {
			if r := c.get(t, "/account"); r.Status != http.StatusSeeOther {
				t.Errorf("the %s still reaches /account (status %d)", name, r.Status)
			}
		}
	})

	t.Run("the new password logs in, the old one does not", func(t *testing.T) {
		c := a.client()
		r := c.submit(t, "/login", "/login", url.Values{"email": {mem.Email}, "password": {password}})
		r.wantStatus(t, http.StatusUnauthorized)
		c.login(t, user{ID: mem.ID, Email: mem.Email, Password: fresh})
	})

	t.Run("the link works once", func(t *testing.T) {
		before := a.snapshot(t)
		r := anon.get(t, path)
		r.wantStatus(t, http.StatusGone)
		r.wantText(t, "This password-reset link has expired, has been replaced by a newer one or has already been used.")
		r = anon.post(t, path, url.Values{"password": {"another fine password"}, "password_repeat": {"another fine password"},
			"csrf_token": {anon.csrf(t, "/forgot")}})
		r.wantStatus(t, http.StatusGone)
		a.wantUnchanged(t, before)
	})

	t.Run("the ledger says who issued it and that the member reset their password, by number", func(t *testing.T) {
		ledger := a.client().get(t, "/ledger")
		ledger.wantText(t, fmt.Sprintf("A password-reset link for member %d was issued by member %d", mem.ID, ad.ID))
		ledger.wantText(t, fmt.Sprintf("Member %d reset their password", mem.ID))
		if strings.Contains(ledger.Body, "Mo Member") || strings.Contains(ledger.Body, mem.Email) {
			t.Error("the ledger names the member")
		}
	})

	t.Run("an expired link gets the same answer", func(t *testing.T) {
		token := a.issueReset(t, ad, mem)
		a.Clock.Advance(24 * time.Hour)
		r := anon.get(t, "/reset/"+token)
		r.wantStatus(t, http.StatusGone)
		r.wantText(t, "This password-reset link has expired, has been replaced by a newer one or has already been used.")
		r = anon.get(t, "/reset/no-such-link")
		r.wantStatus(t, http.StatusNotFound)
		r.wantText(t, "This password-reset link has expired, has been replaced by a newer one or has already been used.")
	})
}

// wantThrottled checks a 429 that says when to try again, on the form.
func wantThrottled(t *testing.T, r *response, message string, retryAt time.Time) {
	t.Helper()
	if !r.wantStatus(t, http.StatusTooManyRequests) {
		return
	}
	r.wantText(t, message)
	r.wantText(t, "Please try again after "+retryAt.UTC().Format("15:04")+" UTC")
	if !strings.Contains(r.Body, `<form method="post"`) {
		t.Errorf("%s: the 429 page has no form to try again with", r)
	}
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("%s: Retry-After %q, want seconds", r, r.Header.Get("Retry-After"))
	}
}

func TestPublicFormsAreRateLimitedPerAddress(t *testing.T) {
	t.Parallel()

	t.Run("applications to join", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(g *governance.Service) { g.JoinLimit = governance.Limit{Max: 2, Window: time.Hour} })
		start := a.Clock.Now()
		apply := func(i int) *response {
			c := a.client()
			return c.submit(t, "/join", "/join", form("name", fmt.Sprintf("Jo Joiner %d", i), "email", fmt.Sprintf("jo%d@example.org", i),
				"password", password, "statement", "I want to help."))
		}
		// Forms sent back for correction are not applications.
		for range 3 {
			a.client().submit(t, "/join", "/join", url.Values{}).wantStatus(t, http.StatusUnprocessableEntity)
		}
		apply(1).wantRedirect(t, "/account")
		a.Clock.Advance(10 * time.Minute)
		apply(2).wantRedirect(t, "/account")
		before := a.snapshot(t)
		wantThrottled(t, apply(3), "Too many applications to join have come from your network address in the last hour.", start.Add(time.Hour))
		a.wantUnchanged(t, before)
		a.Clock.Advance(50 * time.Minute)
		apply(3).wantRedirect(t, "/account")
	})

	t.Run("invitation links", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(g *governance.Service) { g.InvitationLimit = governance.Limit{Max: 3, Window: 15 * time.Minute} })
		ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
		_, token := a.invite(t, ad, "for Ivy")
		c := a.client()
		valid := form("name", "Ivy Invitee", "email", "ivy@example.org", "password", password)
		for i := range 3 {
			c.submit(t, "/invite/"+token, fmt.Sprintf("/invite/guess-%d", i), valid).wantStatus(t, http.StatusNotFound)
		}
		wantThrottled(t, c.submit(t, "/invite/"+token, "/invite/"+token, valid),
			"Too many invitation links that do not work have been tried from your network address.", a.Clock.Now().Add(15*time.Minute))
		a.Clock.Advance(15 * time.Minute)
		c.submit(t, "/invite/"+token, "/invite/"+token, valid).wantRedirect(t, "/account")
	})

	t.Run("password-reset requests, per address and per email", func(t *testing.T) {
		t.Parallel()
		a := newApp(t, func(g *governance.Service) {
			g.ResetAddressLimit = governance.Limit{Max: 3, Window: time.Hour}
			g.ResetEmailLimit = governance.Limit{Max: 2, Window: time.Hour}
		})
		const perEmail = "Too many password-reset requests have come from your network address or for this email address."
		c := a.client()
		for range 2 {
			c.submit(t, "/forgot", "/forgot", form("email", "jo@example.org")).wantRedirect(t, "/login")
		}
		wantThrottled(t, c.submit(t, "/forgot", "/forgot", form("email", "jo@example.org")), perEmail, a.Clock.Now().Add(time.Hour))
		c.submit(t, "/forgot", "/forgot", form("email", "kim@example.org")).wantRedirect(t, "/login")
		wantThrottled(t, c.submit(t, "/forgot", "/forgot", form("email", "lee@example.org")), perEmail, a.Clock.Now().Add(time.Hour))
		a.Clock.Advance(time.Hour)
		c.submit(t, "/forgot", "/forgot", form("email", "lee@example.org")).wantRedirect(t, "/login")
	})
}
