package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"plenary/governance"
	"plenary/internal/webtest"
	"plenary/library"
	"plenary/server"
)

// What TestSecurityHeadersAreOnEveryResponse (session_test.go) already
// covers: the headers on every case of the authorization table as an
// anonymous visitor and as an admin, and on one route each for 404, 405,
// 403, 413, 422 and 303. TestLoginStartsAFreshSession covers rotation at the
// login form and TestLoginRedirectsOnlyToLocalPaths twelve hostile next=
// values. The tests here extend that to every route and every status, to
// what the pages contain, to the cookies' flags under http and https, to
// every way of logging in, and to encoded next= and back= values.

// wantStrictHeaders is wantSecurityHeaders, and a policy that starts from
// nothing allowed and sends no referrer to other sites.
func wantStrictHeaders(t *testing.T, r *response) {
	t.Helper()
	wantSecurityHeaders(t, r)
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s (%d): the Content-Security-Policy does not start from default-src 'none': %q", r, r.Status, csp)
	}
	switch got := r.Header.Get("Referrer-Policy"); got {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s (%d): Referrer-Policy %q may send the address to other sites", r, r.Status, got)
	}
}

// dataScripts are script types a browser never runs: data blocks, such as
// a resource page's schema.org JSON-LD.
var dataScripts = []string{"application/ld+json", "application/json"}

// wantNoInlineCode fails if an HTML page holds anything the strict policy
// would have to allow inline: a script element without src (other than a
// data block), an event handler attribute, a style attribute or a style
// element; or a script or stylesheet from elsewhere, or a javascript: link.
func wantNoInlineCode(t *testing.T, r *response) {
	t.Helper()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		return
	}
	z := html.NewTokenizer(strings.NewReader(r.Body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				t.Errorf("%s (%d): the page does not tokenize: %v", r, r.Status, z.Err())
			}
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attrs := map[string]string{}
		for _, a := range tok.Attr {
			attrs[a.Key] = a.Val
			switch {
			case strings.HasPrefix(a.Key, "on"):
				t.Errorf("%s (%d): <%s> has an event handler attribute %s=%q", r, r.Status, tok.Data, a.Key, a.Val)
			case a.Key == "style":
				t.Errorf("%s (%d): <%s> has a style attribute %q", r, r.Status, tok.Data, a.Val)
			case a.Key == "href" || a.Key == "src" || a.Key == "action" || a.Key == "formaction":
				if v := strings.ToLower(strings.Join(strings.Fields(a.Val), "")); strings.HasPrefix(v, "javascript:") {
					t.Errorf("%s (%d): <%s %s=%q> runs script", r, r.Status, tok.Data, a.Key, a.Val)
				}
			}
		}
		switch tok.Data {
		case "style":
			t.Errorf("%s (%d): the page has a <style> element", r, r.Status)
		case "script":
			src, ok := attrs["src"]
			switch {
			case !ok && !slices.Contains(dataScripts, attrs["type"]):
				t.Errorf("%s (%d): the page has an inline <script> (type %q)", r, r.Status, attrs["type"])
			case ok && !isLocal(src):
				t.Errorf("%s (%d): the page loads a script from elsewhere: %q", r, r.Status, src)
			}
		case "link":
			if href := attrs["href"]; strings.Contains(attrs["rel"], "stylesheet") && !isLocal(href) {
				t.Errorf("%s (%d): the page loads a stylesheet from elsewhere: %q", r, r.Status, href)
			}
		}
	}
}

// wantCookieFlags checks every cookie a response sets: out of reach of
// script, not sent with other sites' requests, and Secure under https.
func wantCookieFlags(t *testing.T, r *response, secure bool) {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Errorf("%s (%d): Set-Cookie %q does not parse: %v", r, r.Status, line, err)
			continue
		}
		if !c.HttpOnly {
			t.Errorf("%s (%d): cookie %s is not HttpOnly: %q", r, r.Status, c.Name, line)
		}
		if c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode {
			t.Errorf("%s (%d): cookie %s is not SameSite=Lax or Strict: %q", r, r.Status, c.Name, line)
		}
		if c.Secure != secure {
			t.Errorf("%s (%d): cookie %s has Secure=%v, want %v: %q", r, r.Status, c.Name, c.Secure, secure, line)
		}
	}
}

// fillPattern puts values into a route pattern's :name and *name parts.
func fillPattern(pattern string, values map[string]string) string {
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			segs[i] = url.PathEscape(values[seg[1:]])
		}
	}
	return strings.Join(segs, "/")
}

// markup is what a member might write into any text that is shown again:
// each part would need the policy to allow something inline if it
// reached a page as written.
const markup = `Fund co-ops <span style="color:red" onclick="alert(1)">now</span><style>body{display:none}</style>` +
	`<script>alert(1)</script> [a link](javascript:alert(1)) <img src=x onerror=alert(1)>` +
	` <a href="https://example.org" style="x" onmouseover="alert(1)">ok</a> </script><script>alert(2)</script>`

// plantMarkup writes markup into every kind of text the pages show: a
// listed resource's title and summary, a demand's body, a proposal's body,
// a comment, a member's name and an invitation's note.
func plantMarkup(t *testing.T, f *routeFixture) {
	t.Helper()
	ctx := context.Background()
	a := f.app
	ad := f.users[admin]
	asAdmin := library.Viewer{ID: ad.ID, Active: true, Admin: true}
	asMember := library.Viewer{ID: f.users[activeMember].ID, Active: true}
	if _, err := a.Lib.UpdateResource(ctx, asAdmin, f.listedResource, library.ResourceInput{
		Title: `A listed report </script><script>alert(1)</script>`, URL: "https://example.org/listed", Format: "report",
		Language: "en", Summary: markup}); err != nil {
		t.Fatalf("plant markup in a resource: %v", err)
	}
	if _, err := a.Lib.UpdateDemand(ctx, asMember, f.memberDemand, library.DemandInput{Title: "A member's demand <b onclick=x>",
		Body: markup, Audience: library.Audiences[0]}); err != nil {
		t.Fatalf("plant markup in a demand: %v", err)
	}
	if _, err := a.Gov.Propose(ctx, f.users[activeMember].Member, governance.ProposalInput{Kind: governance.KindMotion,
		Title: `A motion <i style="x">styled</i>`, Body: markup, Opens: "later",
		OpensAt: a.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04"), Days: "7"}); err != nil {
		t.Fatalf("plant markup in a proposal: %v", err)
	}
	if err := a.Gov.AddComment(ctx, f.users[activeMember].Member, f.openProposal, markup); err != nil {
		t.Fatalf("plant markup in a comment: %v", err)
	}
	if err := a.Gov.UpdateName(ctx, f.users[activeMember].ID, `Mo <b style="x" onclick="alert(1)">Member</b>`); err != nil {
		t.Fatalf("plant markup in a name: %v", err)
	}
	a.invite(t, ad, `For <i onclick="alert(1)">Pat</i>`)
}

func TestEveryRouteAndStatusCarriesTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	plantMarkup(t, f)
	table := f.table()
	routes := f.app.Srv.Routes()
	slices.Sort(routes)
	seen := map[string]map[int]bool{}
	look := func(t *testing.T, route string, r *response) {
		t.Helper()
		wantStrictHeaders(t, r)
		wantNoInlineCode(t, r)
		wantCookieFlags(t, r, false)
		seen[route][r.Status] = true
	}
	successes := map[string]struct {
		path   string
		values url.Values
	}{
		"POST /login": {"/login", form("email", f.users[activeMember].Email, "password", password)},
		"POST /join":  {"/join", form("name", "Jo Joiner", "email", "jo@example.org", "password", password, "statement", "I want to help.")},
		"POST /invite/:token": {"/invite/" + f.openToken,
			form("name", "Ivy Invitee", "email", "ivy@example.org", "password", password)},
		"POST /reset/:token": {"/reset/" + f.resetToken,
			form("password", "a whole new password", "password_repeat", "a whole new password")},
	}
	// notFound are path values that name nothing.
	notFound := map[string]string{"id": "999999", "pid": "999999", "principal": "999999", "token": "bogus", "filepath": "no-such-file.css"}

	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		seen[route] = map[int]bool{}
		cases := table[route]
		if len(cases) == 0 {
			t.Errorf("%s has no case in the authorization table to reach it with", route)
			continue
		}
		t.Run(route, func(t *testing.T) {
			// The roles TestSecurityHeadersAreOnEveryResponse leaves out.
			for _, rc := range cases {
				for _, r := range []role{applicant, activeMember, suspendedMember} {
					look(t, route, f.send(t, r, method, rc))
					if rc.path == "/logout" && r != suspendedMember {
						f.clients[r].login(t, f.users[r])
					}
				}
			}
			p := cases[0].path
			for _, r := range []role{anonymous, activeMember, admin} {
				c := f.client(r)
				// Methods the route does not take: 405.
				for _, m := range []string{http.MethodDelete, http.MethodPut} {
					look(t, route, c.request(t, m, p, "", nil))
				}
				switch method {
				case http.MethodGet:
					look(t, route, c.request(t, http.MethodHead, p, "", nil))
					// A second anonymous request may come from the page cache.
					look(t, route, c.get(t, p))
				case http.MethodPost:
					look(t, route, c.post(t, p, url.Values{"x": {"1"}})) // no csrf_token: 403
					tok := c.csrf(t, "/login")
					look(t, route, c.request(t, http.MethodPost, p, form("csrf_token", tok).Encode(), crossSite))
					limit := server.MaxBodyBytes
					if strings.HasSuffix(pattern, "/import") || strings.HasSuffix(pattern, "/bulk") {
						limit = server.MaxRosterBody // the roster forms take a CSV of 2 MB
					}
					look(t, route, c.request(t, http.MethodPost, p, "csrf_token="+tok+"&x="+strings.Repeat("a", limit), nil))
				}
				if params := pathParams(pattern); len(params) > 0 {
					missing := fillPattern(pattern, notFound)
					if method == http.MethodPost {
						body := clone(cases[0].body)
						body.Set("csrf_token", c.csrf(t, "/login"))
						look(t, route, c.post(t, missing, body))
					} else {
						look(t, route, c.request(t, method, missing, "", nil))
					}
				}
			}
			// The forms that log someone in, filled in right: the table
			// has only their refusals.
			if success, ok := successes[route]; ok {
				c := f.app.client()
				look(t, route, c.post(t, success.path, with(success.values, "csrf_token", c.csrf(t, "/login"))))
			}
		})
	}

	t.Run("a login refused and then paused (401, 429)", func(t *testing.T) {
		c := f.app.client()
		tok := c.csrf(t, "/login")
		for range f.app.Gov.MaxFailures + 1 {
			look(t, "POST /login", c.post(t, "/login", form("csrf_token", tok, "email", "nobody@example.org", "password", "wrong password")))
		}
		f.app.Clock.Advance(16 * time.Minute) // let the pause pass for anyone else
	})

	t.Run("a page that does not exist and a method no route takes", func(t *testing.T) {
		for _, r := range []role{anonymous, admin} {
			c := f.client(r)
			for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions, "PROPFIND"} {
				res := c.request(t, m, "/no/such/page", "", nil)
				wantStrictHeaders(t, res)
				wantNoInlineCode(t, res)
			}
		}
	})

	t.Run("every route answered each kind of request, each with the headers", func(t *testing.T) {
		for _, route := range routes {
			method, pattern, _ := strings.Cut(route, " ")
			got := seen[route]
			want := []int{http.StatusMethodNotAllowed}
			if method == http.MethodPost {
				want = append(want, http.StatusRequestEntityTooLarge)
				// The one-click unsubscribe takes POSTs without a
				// session's token and from other sites, by design (RFC
				// 8058): its refusal is the 404 of a link not ours.
				if route != "POST /unsubscribe/:token" {
					want = append(want, http.StatusForbidden)
				}
			}
			if len(pathParams(pattern)) > 0 {
				want = append(want, http.StatusNotFound)
			}
			for _, status := range want {
				if !got[status] {
					t.Errorf("%s never answered %d; it answered %v", route, status, slices.Sorted(maps.Keys(got)))
				}
			}
			// The co-op has its admin, so setting up is refused to all;
			// TestEveryWayOfLoggingInStartsAFreshSession sets one up.
			if !strings.HasSuffix(route, " /setup") && !slices.ContainsFunc(slices.Collect(maps.Keys(got)), func(s int) bool { return s < 400 }) {
				t.Errorf("%s never answered with success or a redirect; it answered %v", route, slices.Sorted(maps.Keys(got)))
			}
		}
		var all []int
		for _, got := range seen {
			for s := range got {
				if !slices.Contains(all, s) {
					all = append(all, s)
				}
			}
		}
		slices.Sort(all)
		for _, s := range []int{200, 303, 401, 403, 404, 405, 413, 422, 429} {
			if !slices.Contains(all, s) {
				t.Errorf("no route answered %d: the statuses seen are %v", s, all)
			}
		}
		t.Logf("%d routes; statuses seen: %v", len(routes), all)
	})
}

// rawClient is a browser that keeps its cookies by hand, because the
// test speaks plain HTTP to a server whose base URL is https and a cookie
// jar keeps Secure cookies off plain HTTP.
type rawClient struct {
	app     *app
	cookies map[string]string
}

func (c *rawClient) do(t *testing.T, method, path string, form url.Values) *response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.app.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	res := (&client{app: c.app, web: &webtest.Client{Base: c.app.URL, HTTP: &http.Client{CheckRedirect: webtest.DontFollow}}}).do(t, req)
	for _, line := range res.Header.Values("Set-Cookie") {
		k, err := http.ParseSetCookie(line)
		if err != nil {
			continue
		}
		if k.MaxAge < 0 {
			delete(c.cookies, k.Name)
		} else {
			c.cookies[k.Name] = k.Value
		}
	}
	return res
}

func TestCookiesAreHttpOnlySameSiteAndSecureUnderHTTPS(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"http", "https"} {
		t.Run("with a base URL on "+scheme, func(t *testing.T) {
			a := newAppWith(t, func(cfg *server.Config) {
				cfg.BaseURL = scheme + strings.TrimPrefix(cfg.BaseURL, "http")
			})
			secure := scheme == "https"
			mem := a.addAdmin(t, "Ada Admin", "ada@example.org")
			c := &rawClient{app: a, cookies: map[string]string{}}
			check := func(t *testing.T, r *response) {
				t.Helper()
				wantStrictHeaders(t, r)
				wantCookieFlags(t, r, secure)
				if got := r.Header.Get("Strict-Transport-Security"); (got != "") != secure {
					t.Errorf("%s: Strict-Transport-Security is %q under %s", r, got, scheme)
				}
			}

			page := c.do(t, http.MethodGet, "/login", nil)
			check(t, page)
			before := c.cookies[sessionCookie]
			token, ok := webtest.CSRFToken(page.Body)
			if before == "" || !ok {
				t.Fatalf("the login page set no session cookie (%q) or has no csrf_token", before)
			}
			res := c.do(t, http.MethodPost, "/login", form("csrf_token", token, "email", mem.Email, "password", password))
			check(t, res)
			res.wantRedirect(t, "/")
			if got := c.cookies[sessionCookie]; got == "" || got == before {
				t.Errorf("logging in did not give a new session cookie")
			}
			if c.cookies["plenary_flash"] == "" {
				t.Errorf("logging in set no flash cookie to check")
			}
			home := c.do(t, http.MethodGet, "/", nil) // shows and clears the flash
			check(t, home)
			home.wantText(t, "Welcome back, Ada Admin.")
			account := c.do(t, http.MethodGet, "/account", nil)
			check(t, account)
			account.wantStatus(t, http.StatusOK)
			token, ok = webtest.CSRFToken(account.Body)
			if !ok {
				t.Fatal("the account page has no csrf_token")
			}
			res = c.do(t, http.MethodPost, "/logout", form("csrf_token", token))
			check(t, res)
			res.wantRedirect(t, "/")
		})
	}
}

func TestEveryWayOfLoggingInStartsAFreshSession(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	setupToken, err := a.Gov.NewSetupToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// fresh says whether what logs c in leaves the session from before it
	// worth nothing: a new cookie, a new csrf token, the old token refused.
	fresh := func(t *testing.T, c *client, page string, logIn func(token string) *response, landing string) {
		t.Helper()
		token := c.csrf(t, page)
		cookie := c.cookie(sessionCookie)
		res := logIn(token)
		res.wantRedirect(t, landing)
		wantStrictHeaders(t, res)
		wantCookieFlags(t, res, false)
		if c.cookie(sessionCookie) == cookie {
			t.Error("the session cookie is the same before and after")
		}
		after := c.csrf(t, "/account")
		if after == token {
			t.Error("the csrf token is the same before and after: the session id was not replaced")
		}
		res = c.post(t, "/account/name", form("csrf_token", token, "name", "Changed With An Old Token"))
		res.wantStatus(t, http.StatusForbidden)
	}

	t.Run("setting up the co-op", func(t *testing.T) {
		c := a.client()
		page := "/setup?token=" + url.QueryEscape(setupToken)
		fresh(t, c, page, func(token string) *response {
			return c.post(t, "/setup", form("csrf_token", token, "token", setupToken, "name", "Fay Founder",
				"email", "fay@example.org", "password", password))
		}, "/admin/members")
	})
	founder := user{Email: "fay@example.org", Password: password}
	admC := a.client()
	admC.login(t, founder)
	ad := a.reload(t, user{ID: 1}) // the founder is the first member
	if ad.Member.EmailAddress() != founder.Email {
		t.Fatalf("member 1 is %q, not the founder", ad.Member.EmailAddress())
	}

	t.Run("applying to join", func(t *testing.T) {
		c := a.client()
		fresh(t, c, "/join", func(token string) *response {
			return c.post(t, "/join", form("csrf_token", token, "name", "Jo Joiner", "email", "jo@example.org",
				"password", password, "statement", "I want to help."))
		}, "/account")
	})

	t.Run("accepting an invitation", func(t *testing.T) {
		_, invitation := a.invite(t, ad, "for Ivy")
		c := a.client()
		link := "/invite/" + invitation
		fresh(t, c, link, func(token string) *response {
			return c.post(t, link, form("csrf_token", token, "name", "Ivy Invitee", "email", "ivy@example.org", "password", password))
		}, "/account")
	})

	t.Run("changing the password", func(t *testing.T) {
		fresh(t, admC, "/account", func(token string) *response {
			return admC.post(t, "/account/password", form("csrf_token", token, "current_password", password,
				"password", "a brand new secret 77"))
		}, "/account")
	})
}

// offSite are next= and back= values that try to leave the site, beyond
// those in TestLoginRedirectsOnlyToLocalPaths: encoded, doubled, with
// other schemes and with characters browsers skip.
var offSite = []string{
	"%2F%2Fevil.example",
	"/%2F%2Fevil.example",
	"%2F%5Cevil.example",
	"/%5Cevil.example",
	"/%2e%2e//evil.example",
	"///evil.example",
	"\\/evil.example",
	"/\\/evil.example",
	"//evil.example@example.org",
	"//%65vil.example",
	"http:/evil.example",
	"https:%2F%2Fevil.example",
	"HTTPS://evil.example",
	"jAvAsCrIpT:alert(1)",
	" javascript:alert(1)",
	"java\tscript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"\x00//evil.example",
	"/\x00/evil.example",
	"\t//evil.example",
	"/%09/evil.example",
	"/\u3000/evil.example",
	"/％２Ｆevil.example",
	"・/evil.example",
}

// wantOnSite fails unless a redirect, followed from this site, stays on it.
func wantOnSite(t *testing.T, a *app, r *response) {
	t.Helper()
	loc := r.Location()
	base, _ := url.Parse(a.URL + "/login")
	to, err := base.Parse(loc)
	if r.Status != http.StatusSeeOther || !isLocal(loc) || err != nil || to.Host != base.Host || to.Scheme != base.Scheme {
		t.Errorf("%s: answered %d, to %q: want a 303 to a path on this site", r, r.Status, loc)
	}
}

func TestRedirectsAfterLoginAndCurationStayOnThisSite(t *testing.T) {
	t.Parallel()
	a := newApp(t, func(g *governance.Service) { g.MaxFailures = 1000 })
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	r, err := a.Lib.SubmitResource(context.Background(), library.Viewer{ID: ad.ID, Active: true, Admin: true},
		library.ResourceInput{Title: "A report", URL: "https://example.org/report", Format: "report", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	admC := a.client()
	admC.login(t, ad)
	status := "/admin/library/" + strconv.FormatInt(r.ID, 10) + "/status"

	for i, next := range offSite {
		t.Run(fmt.Sprintf("next=%q", next), func(t *testing.T) {
			c := a.client()
			page := c.get(t, "/login?next="+url.QueryEscape(next))
			page.wantStatus(t, http.StatusOK)
			if m := nextField.FindStringSubmatch(page.Body); m == nil || (m[1] != "" && !isLocal(html.UnescapeString(m[1]))) {
				t.Errorf("the login form carries next=%q from the link", m)
			}
			// A third of them after a refused login first, which draws the
			// form again with next in it.
			if i%3 == 0 {
				res := c.post(t, "/login", form("csrf_token", c.csrf(t, "/login"), "email", ad.Email, "password", "", "next", next))
				res.wantStatus(t, http.StatusUnprocessableEntity)
				wantNoInlineCode(t, res)
			}
			wantOnSite(t, a, c.post(t, "/login", form("csrf_token", c.csrf(t, "/login"), "email", ad.Email, "password", password, "next", next)))
		})
		t.Run(fmt.Sprintf("back=%q after listing a resource", next), func(t *testing.T) {
			wantOnSite(t, a, admC.post(t, status, form("csrf_token", admC.csrf(t, "/admin/library"), "status", library.StatusListed, "back", next)))
		})
	}
}
