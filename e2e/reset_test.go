package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"plenary/governance"
)

// TestPasswordResetJourney walks a forgotten password back: the member asks
// from the login page, the admin sees the request and issues a link, and the
// member sets a new password with it and logs in.
func TestPasswordResetJourney(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	const adminPassword = "correct horse battery staple"
	if _, err := s.Gov.AddMember(ctx, governance.Details{Name: "Ada Secretary", Email: "ada@riverside.coop", Password: adminPassword}, governance.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Gov.AddMember(ctx, governance.Details{Name: "Cai Rider", Email: "cai@example.org", Password: "an old password nobody recalls"}, governance.RoleMember); err != nil {
		t.Fatal(err)
	}
	admin := newBrowser(t)
	person := newBrowser(t)
	logIn := func(t *testing.T, b context.Context, email, password string) {
		t.Helper()
		navigate(t, b, s.URL+"/login")
		fill(t, b, "#f-email", email)
		fill(t, b, "#f-password", password)
		submit(t, b, "main button[type=submit]")
	}

	t.Run("the member asks from the login page", func(t *testing.T) {
		navigate(t, person, s.URL+"/login")
		submit(t, person, `main a[href="/forgot"]`)
		mustContain(t, person, "h1", "Forgot your password?")
		visit(t, person, "forgot")
		fill(t, person, "#f-email", "cai@example.org")
		submit(t, person, "main button[type=submit]")
		mustContain(t, person, ".flash.ok", "If an account uses that email address")
		visit(t, person, "forgot-sent")
	})

	var link string
	t.Run("the admin sees the request and issues a link", func(t *testing.T) {
		logIn(t, admin, "ada@riverside.coop", adminPassword)
		navigate(t, admin, s.URL+"/admin/members")
		mustContain(t, admin, "main", "Password-reset requests")
		visit(t, admin, "admin-members-with-request")
		submit(t, admin, `main section a[href^="/admin/members/"]`)
		mustContain(t, admin, "dl.facts", "Asked for a password reset at")
		submit(t, admin, `form[action$="/reset"] button`)
		mustContain(t, admin, ".flash.ok", "Password-reset link made")
		link = run(t, admin, "reading the reset link", chromedp.Value(chromedp.CSS("#reset-link")))
		if !strings.HasPrefix(link, s.URL+"/reset/") {
			t.Fatalf("reset link %q", link)
		}
		visit(t, admin, "admin-reset-link")
	})

	t.Run("the member sets a new password with it and logs in", func(t *testing.T) {
		navigate(t, person, link)
		mustContain(t, person, "main", "For the account cai@example.org")
		visit(t, person, "reset")
		fill(t, person, "#f-password", "a lantern over the river")
		fill(t, person, "#f-password_repeat", "a lantern over the river!")
		submit(t, person, "main button[type=submit]")
		mustContain(t, person, "#f-password_repeat-error", "not the same")
		visit(t, person, "reset-with-errors")
		fill(t, person, "#f-password", "a lantern over the river")
		fill(t, person, "#f-password_repeat", "a lantern over the river")
		submit(t, person, "main button[type=submit]")
		mustContain(t, person, ".flash.ok", "Your new password is set")
		logIn(t, person, "cai@example.org", "a lantern over the river")
		mustContain(t, person, ".flash.ok", "Welcome back, Cai Rider")
	})

	t.Run("the link does not work twice", func(t *testing.T) {
		navigate(t, person, link)
		mustContain(t, person, "h1", "Password-reset link not valid")
		visit(t, person, "reset-link-spent")
	})
}
