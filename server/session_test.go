package server_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

const sessionCookie = "plenary_session"

func memberPage(u user) string { return "/admin/members/" + strconv.FormatInt(u.ID, 10) }

func TestSuspensionEndsTheSessionAtOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	ad2 := a.addMember(t, ad, "Abe Admin", "abe@example.org")
	if err := a.Gov.SetRole(context.Background(), ad.Member, ad2.ID, governance.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	adminC, memC, ad2C := a.client(), a.client(), a.client()
	adminC.login(t, ad)
	memC.login(t, mem)
	ad2C.login(t, ad2)

	t.Run("a suspended member's next request finds them logged out", func(t *testing.T) {
		memC.get(t, "/account").wantStatus(t, http.StatusOK)
		adminC.submit(t, memberPage(mem), memberPage(mem)+"/suspend", form("reason", "Spam")).wantRedirect(t, memberPage(mem))
		memC.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
		home := memC.get(t, "/")
		if strings.Contains(home.Body, `action="/logout"`) || !strings.Contains(home.Body, `href="/login"`) {
			t.Errorf("after suspension the home page still treats the member as logged in")
		}
	})

	t.Run("rejection, leaving and erasure also end the session at once", func(t *testing.T) {
		rejected := a.addApplicant(t, "Rae Rejected", "rae@example.org")
		leaver := a.addMember(t, ad, "Lee Leaver", "lee@example.org")
		erased := a.addMember(t, ad, "Eri Erased", "eri@example.org")
		for _, x := range []struct {
			u      user
			action string
			values url.Values
		}{
			{rejected, "reject", form("reason", "Not a fit.")},
			{leaver, "leave", url.Values{}},
			{erased, "erase", form("confirm", "yes")},
		} {
			c := a.client()
			c.login(t, x.u)
			c.get(t, "/account").wantStatus(t, http.StatusOK)
			adminC.submit(t, memberPage(x.u), memberPage(x.u)+"/"+x.action, x.values).wantRedirect(t, memberPage(x.u))
			c.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
		}
	})

	t.Run("a suspended admin's open page can no longer act", func(t *testing.T) {
		token := ad2C.csrf(t, "/admin/invitations")
		old := ad2C.cookies()
		adminC.submit(t, memberPage(ad2), memberPage(ad2)+"/suspend", url.Values{}).wantRedirect(t, memberPage(ad2))

		before := a.snapshot(t)
		res := a.withCookies(old).post(t, "/admin/invitations", form("csrf_token", token, "note", "sneaky"))
		res.wantStatus(t, http.StatusForbidden)
		a.wantUnchanged(t, before)

		// Even with a fresh token the old cookie is nobody's.
		replay := a.withCookies(old)
		res = replay.post(t, "/admin/invitations", form("csrf_token", replay.csrf(t, "/login"), "note", "sneaky"))
		res.wantRedirect(t, "/login")
		a.wantUnchanged(t, before)
		a.withCookies(old).get(t, "/admin/members").wantRedirect(t, "/login?next=%2Fadmin%2Fmembers")
	})
}

// crossSite is what a browser sends with a form posted from another site.
var crossSite = http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}

func TestCrossSiteAndForgedPostsAreRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mem := a.addMember(t, ad, "Mo Member", "mo@example.org")
	adminC, anon, other := a.client(), a.client(), a.client()
	adminC.login(t, ad)
	suspend := memberPage(mem) + "/suspend"
	login := form("email", mem.Email, "password", password)

	stillActive := func(t *testing.T) {
		t.Helper()
		if got := a.reload(t, mem).Member.Status; got != governance.StatusActive {
			t.Errorf("the member is %s after a refused request, want active", got)
		}
	}
	notLoggedIn := func(t *testing.T, c *client) {
		t.Helper()
		if r := c.get(t, "/account"); r.Status != http.StatusSeeOther {
			t.Errorf("after a refused login GET /account answers %d: the visitor is logged in", r.Status)
		}
	}

	for _, h := range []struct {
		name   string
		header http.Header
	}{
		{"from another site", crossSite},
		{"with only an Origin header from another site, as older browsers send it", http.Header{"Origin": {"https://evil.example"}}},
		{"from a sibling site", http.Header{"Origin": {"https://sub.evil.example"}, "Sec-Fetch-Site": {"same-site"}}},
	} {
		t.Run("a login posted "+h.name+" is refused", func(t *testing.T) {
			values := with(login, "csrf_token", anon.csrf(t, "/login"))
			before := a.snapshot(t)
			res := anon.request(t, http.MethodPost, "/login", values.Encode(), h.header)
			res.wantStatus(t, http.StatusForbidden)
			a.wantUnchanged(t, before)
			notLoggedIn(t, anon)
		})
		t.Run("an admin action posted "+h.name+" is refused", func(t *testing.T) {
			values := form("csrf_token", adminC.csrf(t, memberPage(mem)), "reason", "forged")
			before := a.snapshot(t)
			res := adminC.request(t, http.MethodPost, suspend, values.Encode(), h.header)
			res.wantStatus(t, http.StatusForbidden)
			a.wantUnchanged(t, before)
			stillActive(t)
		})
	}

	t.Run("a POST from this site's own pages is let through", func(t *testing.T) {
		header := http.Header{"Origin": {a.URL}, "Sec-Fetch-Site": {"same-origin"}}
		res := anon.request(t, http.MethodPost, "/login", form("csrf_token", anon.csrf(t, "/login")).Encode(), header)
		res.wantStatus(t, http.StatusUnprocessableEntity)
	})

	for _, tok := range []struct {
		name  string
		token func(t *testing.T, c *client) string
	}{
		{"without a csrf_token", func(*testing.T, *client) string { return "" }},
		{"with a made-up csrf_token", func(*testing.T, *client) string { return "abc" }},
		{"with a csrf_token of 60,000 characters", func(*testing.T, *client) string { return long }},
		{"with another visitor's csrf_token", func(t *testing.T, _ *client) string { return other.csrf(t, "/login") }},
		{"with this visitor's csrf_token changed by one character", func(t *testing.T, c *client) string {
			tok := c.csrf(t, "/login")
			last := "A"
			if strings.HasSuffix(tok, "A") {
				last = "B"
			}
			return tok[:len(tok)-1] + last
		}},
	} {
		t.Run("a login posted "+tok.name+" is refused", func(t *testing.T) {
			values := clone(login)
			if v := tok.token(t, anon); v != "" {
				values.Set("csrf_token", v)
			}
			before := a.snapshot(t)
			res := anon.post(t, "/login", values)
			res.wantStatus(t, http.StatusForbidden)
			res.wantText(t, "This form was out of date or did not come from this site.")
			a.wantUnchanged(t, before)
			notLoggedIn(t, anon)
		})
		t.Run("an admin action posted "+tok.name+" is refused", func(t *testing.T) {
			values := form("reason", "forged")
			if v := tok.token(t, adminC); v != "" {
				values.Set("csrf_token", v)
			}
			before := a.snapshot(t)
			res := adminC.post(t, suspend, values)
			res.wantStatus(t, http.StatusForbidden)
			a.wantUnchanged(t, before)
			stillActive(t)
		})
	}

	t.Run("a csrf_token in the query string instead of the form is refused", func(t *testing.T) {
		before := a.snapshot(t)
		res := adminC.post(t, suspend+"?csrf_token="+url.QueryEscape(adminC.csrf(t, memberPage(mem))), form("reason", "forged"))
		res.wantStatus(t, http.StatusForbidden)
		a.wantUnchanged(t, before)
		stillActive(t)
	})
}

func TestRepeatedWrongPasswordsPauseLogins(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mem := a.addAdmin(t, "Ada Admin", "ada@example.org")
	c := a.client()
	token := c.csrf(t, "/login")
	const paused = "Too many failed attempts. For your account's safety, logging in is paused for 15 minutes."

	t.Run("the first five wrong passwords are told so, the next five are paused", func(t *testing.T) {
		for i := 1; i <= 10; i++ {
			res := c.post(t, "/login", form("csrf_token", token, "email", mem.Email, "password", "wrong password "+strconv.Itoa(i)))
			if i <= 5 {
				res.wantStatus(t, http.StatusUnauthorized)
				res.wantFieldError(t, "", "That email and password do not match an account that can log in.")
			} else {
				res.wantStatus(t, http.StatusTooManyRequests)
				res.wantFieldError(t, "", paused)
			}
		}
	})

	t.Run("while paused even the right password is refused", func(t *testing.T) {
		res := c.post(t, "/login", form("csrf_token", token, "email", mem.Email, "password", password))
		res.wantStatus(t, http.StatusTooManyRequests)
		res.wantFieldError(t, "", paused)
		a.Clock.Advance(14 * time.Minute)
		res = c.post(t, "/login", form("csrf_token", token, "email", strings.ToUpper(mem.Email), "password", password))
		res.wantStatus(t, http.StatusTooManyRequests)
		c.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
	})

	t.Run("once the window has passed the right password logs in", func(t *testing.T) {
		a.Clock.Advance(2 * time.Minute) // 16 minutes after the failures
		res := c.post(t, "/login", form("csrf_token", token, "email", mem.Email, "password", password))
		res.wantRedirect(t, "/")
		c.get(t, "/account").wantStatus(t, http.StatusOK)
	})
}

func TestLoginStartsAFreshSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mem := a.addAdmin(t, "Ada Admin", "ada@example.org")

	t.Run("logging in changes the session cookie and the csrf token", func(t *testing.T) {
		c := a.client()
		before := c.csrf(t, "/login")
		cookieBefore := c.cookie(sessionCookie)
		if cookieBefore == "" {
			t.Fatal("a visitor has no session cookie before logging in")
		}
		c.login(t, mem)
		after := c.csrf(t, "/account")
		if after == before {
			t.Error("the csrf token is the same before and after login: the session id was not rotated")
		}
		if c.cookie(sessionCookie) == cookieBefore {
			t.Error("the session cookie is the same before and after login")
		}

		res := c.post(t, "/account/name", form("csrf_token", before, "name", "Changed With An Old Token"))
		res.wantStatus(t, http.StatusForbidden)
		if got := a.reload(t, mem).Member.Name; got != "Ada Admin" {
			t.Errorf("a token from before login changed the name to %q", got)
		}
	})

	t.Run("a session planted before login is worth nothing after it", func(t *testing.T) {
		attacker := a.client()
		attacker.get(t, "/login")
		victim := a.withCookies(attacker.cookies())
		victim.login(t, mem)
		victim.get(t, "/account").wantStatus(t, http.StatusOK)
		attacker.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
	})
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mem := a.addAdmin(t, "Ada Admin", "ada@example.org")
	c := a.client()
	c.login(t, mem)
	c.get(t, "/account").wantStatus(t, http.StatusOK)
	old := c.cookies()

	c.submit(t, "/account", "/logout", url.Values{}).wantRedirect(t, "/")

	t.Run("the browser that logged out is logged out", func(t *testing.T) {
		c.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
	})
	t.Run("a copy of the cookie from before logout no longer reaches the account", func(t *testing.T) {
		a.withCookies(old).get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
	})
	t.Run("logging in again works", func(t *testing.T) {
		c.login(t, mem)
		c.get(t, "/account").wantStatus(t, http.StatusOK)
	})
}

func TestPasswordChangeLogsOutOtherSessions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mem := a.addAdmin(t, "Ada Admin", "ada@example.org")
	here, elsewhere := a.client(), a.client()
	here.login(t, mem)
	elsewhere.login(t, mem)
	const newPassword = "a brand new secret 77"

	res := here.submit(t, "/account", "/account/password", form("current_password", password, "password", newPassword))
	res.wantRedirect(t, "/account")

	t.Run("the session that changed it stays logged in", func(t *testing.T) {
		here.get(t, "/account").wantStatus(t, http.StatusOK)
		here.submit(t, "/account", "/account/name", form("name", "Ada Renamed")).wantRedirect(t, "/account")
	})
	t.Run("the other session is logged out", func(t *testing.T) {
		elsewhere.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")
	})
	t.Run("the old password no longer logs in and the new one does", func(t *testing.T) {
		c := a.client()
		res := c.submit(t, "/login", "/login", form("email", mem.Email, "password", password))
		res.wantStatus(t, http.StatusUnauthorized)
		c.login(t, user{Email: mem.Email, Password: newPassword})
	})
}

var nextField = regexp.MustCompile(`<input type="hidden" name="next" value="([^"]*)">`)

func TestLoginRedirectsOnlyToLocalPaths(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	mem := a.addAdmin(t, "Ada Admin", "ada@example.org")

	t.Run("a member sent to log in is brought back to the page they asked for", func(t *testing.T) {
		c := a.client()
		res := c.get(t, "/admin/members?status=applicant")
		res.wantRedirect(t, "/login?next="+url.QueryEscape("/admin/members?status=applicant"))
		page := c.get(t, res.Location())
		m := nextField.FindStringSubmatch(page.Body)
		if m == nil || m[1] != escaped("/admin/members?status=applicant") {
			t.Fatalf("the login form does not carry next: %v", m)
		}
		res = c.post(t, "/login", form("csrf_token", c.csrf(t, "/login"), "email", mem.Email, "password", password,
			"next", "/admin/members?status=applicant"))
		res.wantRedirect(t, "/admin/members?status=applicant")
	})

	for _, next := range []string{
		"//evil.example",
		"https://evil.example",
		"http://evil.example/account",
		"/\\evil.example",
		"\\\\evil.example",
		"/\t/evil.example",
		"/\n/evil.example",
		" //evil.example",
		"//evil.example/%2F..",
		"javascript:alert(1)",
		"evil.example",
		"https:evil.example",
	} {
		t.Run("next="+strconv.Quote(next)+" stays on this site", func(t *testing.T) {
			c := a.client()
			page := c.get(t, "/login?next="+url.QueryEscape(next))
			page.wantStatus(t, http.StatusOK)
			if m := nextField.FindStringSubmatch(page.Body); m == nil || m[1] != "" {
				t.Errorf("the login form carries next=%q from the link, want it dropped", m)
			}
			res := c.post(t, "/login", form("csrf_token", c.csrf(t, "/login"), "email", mem.Email, "password", password, "next", next))
			res.wantRedirect(t, "/")
		})
	}
}

// wantSecurityHeaders checks the headers every response must carry.
func wantSecurityHeaders(t *testing.T, r *response) {
	t.Helper()
	csp := r.Header.Get("Content-Security-Policy")
	switch {
	case csp == "":
		t.Errorf("%s (%d): no Content-Security-Policy", r, r.Status)
	case strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'"):
		t.Errorf("%s (%d): the Content-Security-Policy allows unsafe code: %s", r, r.Status, csp)
	case !strings.Contains(csp, "frame-ancestors 'none'"):
		t.Errorf("%s (%d): the Content-Security-Policy lets other sites frame the page: %s", r, r.Status, csp)
	}
	if got := r.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s (%d): X-Frame-Options is %q, want DENY", r, r.Status, got)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s (%d): X-Content-Type-Options is %q, want nosniff", r, r.Status, got)
	}
	if got := r.Header.Get("Referrer-Policy"); got == "" || got == "unsafe-url" {
		t.Errorf("%s (%d): Referrer-Policy is %q", r, r.Status, got)
	}
}

func TestSecurityHeadersAreOnEveryResponse(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	table := f.table()
	for _, route := range slices.Sorted(maps.Keys(table)) {
		method, _, _ := strings.Cut(route, " ")
		for _, rc := range table[route] {
			for _, r := range []role{anonymous, admin} {
				t.Run(roleNames[r]+" "+method+" "+rc.path, func(t *testing.T) {
					wantSecurityHeaders(t, f.send(t, r, method, rc))
					if rc.path == "/logout" && r == admin {
						f.clients[r].login(t, f.users[r])
					}
				})
			}
		}
	}

	c := f.clients[admin]
	for _, x := range []struct {
		name string
		do   func(t *testing.T) *response
	}{
		{"a page that does not exist (404)", func(t *testing.T) *response { return c.get(t, "/no/such/page") }},
		{"a POST to a page that does not exist", func(t *testing.T) *response {
			return c.post(t, "/no/such/page", form("csrf_token", c.csrf(t, "/login")))
		}},
		{"a method a route does not take (405)", func(t *testing.T) *response { return c.get(t, "/logout") }},
		{"a POST without a csrf_token (403)", func(t *testing.T) *response { return c.post(t, "/account/name", form("name", "x")) }},
		{"a cross-site POST (403)", func(t *testing.T) *response {
			return c.request(t, http.MethodPost, "/account/name", form("csrf_token", c.csrf(t, "/account"), "name", "x").Encode(), crossSite)
		}},
		{"a body over 64 KiB (413)", func(t *testing.T) *response {
			return c.request(t, http.MethodPost, "/account/name", "name="+strings.Repeat("a", 70_000), nil)
		}},
		{"a form with errors (422)", func(t *testing.T) *response {
			return c.post(t, "/account/name", form("csrf_token", c.csrf(t, "/account"), "name", ""))
		}},
		{"a successful POST (303)", func(t *testing.T) *response {
			return c.post(t, "/account/name", form("csrf_token", c.csrf(t, "/account"), "name", "Ada Admin"))
		}},
		{"a missing static file", func(t *testing.T) *response { return c.get(t, "/static/nope.js") }},
		{"a static directory", func(t *testing.T) *response { return c.get(t, "/static/vendor/") }},
	} {
		t.Run(x.name, func(t *testing.T) {
			r := x.do(t)
			wantSecurityHeaders(t, r)
		})
	}
}

var invitationLink = regexp.MustCompile(`id="invitation-link" type="text" readonly value="([^"]+)"`)

func TestOneTimeLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()

	t.Run("the setup link works once", func(t *testing.T) {
		old, err := a.Gov.NewSetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		token, err := a.Gov.NewSetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c := a.client()
		setup := "/setup?token=" + url.QueryEscape(token)
		c.get(t, "/setup?token="+url.QueryEscape(old)).wantStatus(t, http.StatusNotFound)
		c.get(t, setup).wantStatus(t, http.StatusOK)
		founder := form("token", token, "name", "Fay Founder", "email", "fay@example.org", "password", password)
		c.submit(t, setup, "/setup", founder).wantRedirect(t, "/admin/members")
		c.get(t, "/admin/members").wantStatus(t, http.StatusOK)

		other := a.client()
		res := other.get(t, setup)
		res.wantStatus(t, http.StatusNotFound)
		res.wantText(t, "Setup link not valid")
		before := a.snapshot(t)
		res = other.submit(t, "/login", "/setup", with(founder, "email", "mallory@example.org", "name", "Mallory"))
		res.wantStatus(t, http.StatusNotFound)
		a.wantUnchanged(t, before)
		if _, err := a.Gov.NewSetupToken(ctx); !errors.Is(err, governance.ErrSetupDone) {
			t.Errorf("a new setup token after setup: %v, want ErrSetupDone", err)
		}
	})

	ad := user{Email: "fay@example.org", Password: password} // the founder, from the setup above
	adminC := a.client()
	adminC.login(t, ad)

	// newInvitation creates an invitation through the admin page and reads
	// the link it shows once.
	newInvitation := func(t *testing.T, note string) (id int64, path string) {
		t.Helper()
		adminC.submit(t, "/admin/invitations", "/admin/invitations", form("note", note, "days", "")).wantRedirect(t, "/admin/invitations")
		m := invitationLink.FindStringSubmatch(adminC.get(t, "/admin/invitations").Body)
		if m == nil {
			t.Fatal("the invitations page does not show the new link")
		}
		link, err := url.Parse(m[1])
		if err != nil || !strings.HasPrefix(m[1], a.URL+"/invite/") {
			t.Fatalf("the invitation link %q is not on this site", m[1])
		}
		invs, err := a.Gov.Invitations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return invs[0].ID, link.Path
	}
	details := func(name, email string) url.Values { return form("name", name, "email", email, "password", password) }

	t.Run("an invitation link works once", func(t *testing.T) {
		_, link := newInvitation(t, "for Ivy")
		ivy := a.client()
		ivy.get(t, link).wantStatus(t, http.StatusOK)
		ivy.submit(t, link, link, details("Ivy Invitee", "ivy@example.org")).wantRedirect(t, "/account")
		if !strings.Contains(ivy.get(t, "/account").Body, `<span class="badge active">active</span>`) {
			t.Error("the invitee is not an active member")
		}

		again := a.client()
		again.get(t, link).wantStatus(t, http.StatusNotFound)
		before := a.snapshot(t)
		res := again.submit(t, "/login", link, details("Ivo Second", "ivo@example.org"))
		res.wantStatus(t, http.StatusNotFound)
		res.wantText(t, "Invitation not valid")
		a.wantUnchanged(t, before)
	})

	t.Run("a revoked invitation link does not work", func(t *testing.T) {
		id, link := newInvitation(t, "for Rex")
		rex := a.client()
		rex.get(t, link).wantStatus(t, http.StatusOK)
		token := rex.csrf(t, link)
		revoke := "/admin/invitations/" + strconv.FormatInt(id, 10) + "/revoke"
		adminC.submit(t, "/admin/invitations", revoke, url.Values{}).wantRedirect(t, "/admin/invitations")

		rex.get(t, link).wantStatus(t, http.StatusNotFound)
		before := a.snapshot(t)
		rex.post(t, link, with(details("Rex Revoked", "rex@example.org"), "csrf_token", token)).wantStatus(t, http.StatusNotFound)
		a.wantUnchanged(t, before)
	})

	t.Run("an invitation link stops working when it expires", func(t *testing.T) {
		_, link := newInvitation(t, "for Eve")
		eve := a.client()
		a.Clock.Advance(13 * 24 * time.Hour)
		eve.get(t, link).wantStatus(t, http.StatusOK)
		token := eve.csrf(t, link)
		a.Clock.Advance(2 * 24 * time.Hour) // 15 days after it was made
		eve.get(t, link).wantStatus(t, http.StatusNotFound)
		before := a.snapshot(t)
		eve.post(t, link, with(details("Eve Expired", "eve@example.org"), "csrf_token", token)).wantStatus(t, http.StatusNotFound)
		a.wantUnchanged(t, before)
	})
}
