package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/outbox"
)

// A member chooses what they are emailed on their account page, and
// someone following an email's unsubscribe link, logged out, stops one
// kind with one click; an admin sees the outbox and sends a failed
// message again: every page accessible.
func TestEmailChoicesAndUnsubscribe(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	m, err := s.Gov.AddMember(ctx, governance.Details{Name: "Bea Member", Email: "bea@example.org", Password: "a lighthouse keeper's long walk"},
		governance.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Gov.UnsubscribeKey(ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the member chooses a digest for results", func(t *testing.T) {
		b := newBrowser(t)
		navigate(t, b, s.URL+"/login?next=/account")
		fill(t, b, "#f-email", "bea@example.org")
		fill(t, b, "#f-password", "a lighthouse keeper's long walk")
		submit(t, b, "main button[type=submit]")
		mustContain(t, b, "#notify-h", "Email notifications")
		do(t, b, "choose a digest for results", chromedp.Click(chromedp.CSS("#f-result-digest")))
		submit(t, b, `form[action="/account/notifications"] button`)
		mustContain(t, b, ".flash.ok", "Your email choices are saved.")
		visit(t, b, "account-email-choices")
		p, err := s.Gov.Preferences(ctx, m)
		if err != nil || p.Mode(outbox.Result) != outbox.InDigest {
			t.Errorf("result mode %q (%v), want digest", p.Mode(outbox.Result), err)
		}
	})

	t.Run("an email's link stops voting emails with one click, logged out", func(t *testing.T) {
		b := newBrowser(t)
		navigate(t, b, s.URL+"/unsubscribe/"+outbox.NewSigner(key).Token(m.ID, outbox.VotingOpened))
		mustContain(t, b, "h1", "Stop these emails?")
		visit(t, b, "unsubscribe-confirm")
		submit(t, b, "main button[type=submit]")
		mustContain(t, b, "h1", "Emails stopped")
		visit(t, b, "unsubscribe-done")
		p, err := s.Gov.Preferences(ctx, m)
		if err != nil || p.Mode(outbox.VotingOpened) != outbox.Never {
			t.Errorf("voting mode %q (%v), want never", p.Mode(outbox.VotingOpened), err)
		}
	})

	t.Run("an admin sees the outbox and sends a failed message again", func(t *testing.T) {
		if _, err := s.Gov.AddMember(ctx, governance.Details{Name: "Ada Secretary", Email: "ada@example.org", Password: "a lighthouse keeper's long walk"},
			governance.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		// Two applications: each tells the admin; the mail server refused
		// the first notice for good.
		for _, d := range []governance.Details{
			{Name: "Cy Applicant", Email: "cy@example.org", Password: "a lighthouse keeper's long walk", Statement: "I run a food co-op."},
			{Name: "<script>alert(1)</script>", Email: "dee@example.org", Password: "a lighthouse keeper's long walk", Statement: "<b>Let me in.</b>"},
		} {
			if _, err := s.Gov.Apply(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		var failed int64
		if err := s.DB.R.Get(&failed, `SELECT min(id) FROM notifications WHERE kind = 'application'`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.W.Exec(`UPDATE notifications SET status = 'failed', attempts = 1,
			last_error = 'mail: permanent: 550 5.1.1 <ada@example.org>: mailbox unavailable' WHERE id = ?`, failed); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		navigate(t, b, s.URL+"/login?next=/admin/mail")
		fill(t, b, "#f-email", "ada@example.org")
		fill(t, b, "#f-password", "a lighthouse keeper's long walk")
		submit(t, b, "main button[type=submit]")
		mustContain(t, b, "h1", "Mail")
		mustContain(t, b, "main", "mailbox unavailable")
		mustContain(t, b, "main", "No SMTP server is configured")
		visit(t, b, "admin-mail")
		submit(t, b, `form[action$="/resend"] button`)
		mustContain(t, b, ".flash.ok", "is queued again")
		visit(t, b, "admin-mail-resent")
		var status string
		if err := s.DB.R.Get(&status, `SELECT status FROM notifications WHERE id = ?`, failed); err != nil || status != "queued" {
			t.Errorf("the resent message is %q (%v), want queued", status, err)
		}
	})

	t.Run("a broken link says so", func(t *testing.T) {
		b := newBrowser(t)
		navigate(t, b, s.URL+"/unsubscribe/1.voting_opened.broken")
		mustContain(t, b, "h1", "Unsubscribe link not valid")
		visit(t, b, "unsubscribe-broken")
	})
}
