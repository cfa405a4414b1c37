package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSuspendedMemberCannotChangeTheirDetails: a suspended member may log
// in to vote in the ballots whose roll they are on, and nothing else. Their
// name, email and password stay as they were, whether they try from a
// session started before the suspension or after logging in again.
func TestSuspendedMemberCannotChangeTheirDetails(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	changes := []struct {
		action string
		values url.Values
	}{
		{"/account/name", form("name", "Someone Else")},
		{"/account/email", form("email", "someone.else@example.org", "current_password", password)},
		{"/account/password", form("current_password", password, "password", "plural mutual ledger aspidistra")},
	}

	// Mo opens the account page while active and keeps it open.
	before := a.client()
	before.login(t, mo)
	token := before.csrf(t, "/account")
	a.suspend(t, ad, mo)

	t.Run("with a session from before the suspension", func(t *testing.T) {
		snap := a.snapshot(t)
		for _, ch := range changes {
			// The open page's token died with the session.
			v := clone(ch.values)
			v.Set("csrf_token", token)
			a.withCookies(before.cookies()).post(t, ch.action, v).wantStatus(t, http.StatusForbidden)
			// With a fresh token the old cookie is nobody's: log in first.
			replay := a.withCookies(before.cookies())
			v.Set("csrf_token", replay.csrf(t, "/login"))
			replay.post(t, ch.action, v).wantRedirect(t, "/login")
		}
		before.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
		a.wantUnchanged(t, snap)
	})

	t.Run("after a fresh login", func(t *testing.T) {
		c := a.client()
		c.login(t, mo)
		page := c.get(t, "/account")
		page.wantStatus(t, http.StatusOK)
		page.wantText(t, "Your membership is suspended (reason given: Test suspension).")
		page.wantText(t, "your name, email and password stay as they are until an admin reinstates you.")
		for _, ch := range changes {
			if strings.Contains(page.Body, `action="`+ch.action+`"`) {
				t.Errorf("the account page offers a suspended member the form for %s", ch.action)
			}
		}
		snap := a.snapshot(t)
		for _, ch := range changes {
			v := clone(ch.values)
			v.Set("csrf_token", c.csrf(t, "/account")) // the log-out form's
			res := c.post(t, ch.action, v)
			res.wantStatus(t, http.StatusForbidden)
			res.wantText(t, "Your membership is suspended")
		}
		a.wantUnchanged(t, snap)
	})

	t.Run("once reinstated, the member changes their details again", func(t *testing.T) {
		if err := a.Gov.Reinstate(context.Background(), ad.Member, mo.ID); err != nil {
			t.Fatal(err)
		}
		c := a.client()
		c.login(t, mo)
		c.submit(t, "/account", "/account/name", form("name", "Someone Else")).wantRedirect(t, "/account")
		c.get(t, "/account").wantText(t, "Your name is updated.")
	})
}
