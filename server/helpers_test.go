package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
	"plenary/internal/webtest"
	"plenary/library"
	"plenary/server"
)

// newClock is the time the server and the service share. Tests move it
// forward instead of sleeping.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) }

// errorLog keeps what the server logs at error level. Handlers log an error
// only on their way to a 500, so every test fails if anything lands here.
type errorLog struct {
	mu      sync.Mutex
	records []string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *errorLog) WithGroup(string) slog.Handler                { return h }

func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, b.String())
	return nil
}

func (h *errorLog) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.records
	h.records = nil
	return r
}

// logBuffer keeps everything the server logs, as text lines.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// app is a real Plenary on a fresh database file, served over loopback.
type app struct {
	URL   string
	Srv   *server.Server
	DB    *db.DB
	Gov   *governance.Service
	Lib   *library.Service
	Clock *fakeclock.Clock
	Log   *logBuffer // every line the server logged
}

// newApp starts a server on a fresh database. configure, if given, tunes
// the service before the server takes its first request.
func newApp(t *testing.T, configure ...func(*governance.Service)) *app {
	t.Helper()
	return newAppWith(t, nil, configure...)
}

// newAppWith is newApp with the server's config tuned by tune (when not
// nil) before the server is built.
func newAppWith(t *testing.T, tune func(*server.Config), configure ...func(*governance.Service)) *app {
	t.Helper()
	d := dbtest.Open(t)
	clk := newClock()
	gov := governance.New(d, clk.Now)
	for _, f := range configure {
		f(gov)
	}
	lib := library.New(d, clk.Now)
	errs := &errorLog{}

	// The address must be known before the server is built (it is the base
	// URL), and the handler set before the listener serves anything.
	var handler http.Handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	base := "http://" + ts.Listener.Addr().String()
	cfg := server.Config{
		Name:      "Test Co-op",
		BaseURL:   base,
		Templates: os.DirFS("../templates"),
		Static:    os.DirFS("../static"),
		Now:       clk.Now,
	}
	if tune != nil {
		tune(&cfg)
	}
	logged := &logBuffer{}
	logger := slog.New(slog.NewMultiHandler(errs, slog.NewTextHandler(logged, nil)))
	srv, err := server.New(context.Background(), cfg, logger, d, gov, lib)
	if err != nil {
		ts.Close()
		t.Fatalf("server.New: %v", err)
	}
	handler = srv
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if logged := errs.take(); len(logged) > 0 {
			t.Errorf("the server logged %d error(s):\n  %s", len(logged), strings.Join(logged, "\n  "))
		}
	})
	return &app{URL: base, Srv: srv, DB: d, Gov: gov, Lib: lib, Clock: clk, Log: logged}
}

// password is every test user's password: long, uncommon, and unrelated to
// their names and addresses.
const password = "tulip orbit canvas 42"

// user is a test account and how to log in as it.
type user struct {
	ID       int64
	Email    string
	Password string
	Member   governance.Member
}

func (a *app) user(m governance.Member) user {
	return user{ID: m.ID, Email: m.EmailAddress(), Password: password, Member: m}
}

// addAdmin creates an active admin, as `plenary member add -role admin` does.
func (a *app) addAdmin(t *testing.T, name, email string) user {
	t.Helper()
	m, err := a.Gov.AddMember(context.Background(), governance.Details{Name: name, Email: email, Password: password}, governance.RoleAdmin)
	if err != nil {
		t.Fatalf("add admin %s: %v", email, err)
	}
	return a.user(m)
}

// addApplicant applies to join, as /join does.
func (a *app) addApplicant(t *testing.T, name, email string) user {
	t.Helper()
	m, err := a.Gov.Apply(context.Background(), governance.Details{Name: name, Email: email, Password: password,
		Statement: "I want a say in the co-op's policy work."})
	if err != nil {
		t.Fatalf("apply %s: %v", email, err)
	}
	return a.user(m)
}

// addMember applies and is approved by admin.
func (a *app) addMember(t *testing.T, admin user, name, email string) user {
	t.Helper()
	u := a.addApplicant(t, name, email)
	if err := a.Gov.Approve(context.Background(), admin.Member, u.ID); err != nil {
		t.Fatalf("approve %s: %v", email, err)
	}
	return a.reload(t, u)
}

// suspend has admin suspend u.
func (a *app) suspend(t *testing.T, admin, u user) user {
	t.Helper()
	if err := a.Gov.Suspend(context.Background(), admin.Member, u.ID, "Test suspension"); err != nil {
		t.Fatalf("suspend %s: %v", u.Email, err)
	}
	return a.reload(t, u)
}

// reload reads u's membership again.
func (a *app) reload(t *testing.T, u user) user {
	t.Helper()
	m, err := a.Gov.Member(context.Background(), u.ID)
	if err != nil {
		t.Fatalf("member %d: %v", u.ID, err)
	}
	u.Member = m
	return u
}

// invite has admin create an invitation and returns its id and token.
func (a *app) invite(t *testing.T, admin user, note string) (int64, string) {
	t.Helper()
	inv, token, err := a.Gov.Invite(context.Background(), admin.Member, note, 0)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	return inv.ID, token
}

// snapshot is a fingerprint of every table a refused request must leave
// alone: its row count and a hash of every row. Tables added to the schema
// later are covered without anyone remembering to list them.
type snapshot map[string]string

func (a *app) snapshot(t *testing.T, except ...string) snapshot {
	t.Helper()
	s := snapshot{}
	for _, table := range dbtest.Tables(t, a.DB) {
		if slices.Contains(except, table) || strings.Contains(table, "_fts") {
			continue
		}
		rows, err := a.DB.R.Queryx(`SELECT * FROM "` + table + `" ORDER BY 1`)
		if err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		h := sha256.New()
		n := 0
		for rows.Next() {
			cols, err := rows.SliceScan()
			if err != nil {
				rows.Close()
				t.Fatalf("snapshot %s: %v", table, err)
			}
			fmt.Fprintf(h, "%#v\n", cols)
			n++
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		s[table] = fmt.Sprintf("%d rows, %s", n, hex.EncodeToString(h.Sum(nil))[:16])
	}
	if len(s) < 5 {
		t.Fatalf("snapshot covers only %d tables", len(s))
	}
	return s
}

// wantUnchanged fails the test if a table in before differs now.
func (a *app) wantUnchanged(t *testing.T, before snapshot) {
	t.Helper()
	after := a.snapshot(t)
	for table, b := range before {
		if b != after[table] {
			t.Errorf("table %s changed: before %s, after %s", table, b, after[table])
		}
	}
}

// client is one browser: its own cookie jar, and redirects are never
// followed so each response can be looked at.
type client struct {
	app *app
	web *webtest.Client
}

func (a *app) client() *client { return &client{app: a, web: webtest.New(a.URL, nil)} }

// response is what came back, read in full.
type response struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         string
}

func (r *response) Location() string { return r.Header.Get("Location") }

func (r *response) String() string { return r.Method + " " + r.Path }

// do sends req and reads the answer. Every request in these tests goes
// through here, so a 5xx anywhere fails the test.
func (c *client) do(t *testing.T, req *http.Request) *response {
	t.Helper()
	res, err := c.web.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	r := &response{Method: req.Method, Path: req.URL.RequestURI(), Status: res.Status, Header: res.Header, Body: res.Body}
	if r.Status >= 500 {
		t.Errorf("%s answered %d; nothing may ever answer 5xx. Body:\n%s", r, r.Status, excerpt(r.Body))
	}
	return r
}

func (c *client) request(t *testing.T, method, path, body string, header http.Header) *response {
	t.Helper()
	req, err := http.NewRequest(method, c.web.Base+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return c.do(t, req)
}

func (c *client) get(t *testing.T, path string) *response {
	t.Helper()
	return c.request(t, http.MethodGet, path, "", nil)
}

// post sends form exactly as given: the caller adds csrf_token.
func (c *client) post(t *testing.T, path string, form url.Values) *response {
	t.Helper()
	return c.request(t, http.MethodPost, path, form.Encode(), nil)
}

// csrf loads page and returns the csrf_token of its first form.
func (c *client) csrf(t *testing.T, page string) string {
	t.Helper()
	r := c.get(t, page)
	token, ok := webtest.CSRFToken(r.Body)
	if r.Status != http.StatusOK || !ok {
		t.Fatalf("GET %s: status %d, no csrf_token in the page", page, r.Status)
	}
	return token
}

// submit posts form to action with the csrf_token from page, as a person
// filling in the form on that page would.
func (c *client) submit(t *testing.T, page, action string, form url.Values) *response {
	t.Helper()
	form = clone(form)
	form.Set("csrf_token", c.csrf(t, page))
	return c.post(t, action, form)
}

// login logs u in through the login form.
func (c *client) login(t *testing.T, u user) {
	t.Helper()
	r := c.submit(t, "/login", "/login", url.Values{"email": {u.Email}, "password": {u.Password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("log in as %s: status %d, want 303. Body:\n%s", u.Email, r.Status, excerpt(r.Body))
	}
}

// cookies returns the cookies the browser holds for the site.
func (c *client) cookies() []*http.Cookie { return c.web.Cookies() }

// withCookies is a new browser holding copies of cookies: someone replaying
// a copied cookie.
func (a *app) withCookies(cookies []*http.Cookie) *client {
	c := a.client()
	c.web.SetCookies(cookies)
	return c
}

func (c *client) cookie(name string) string {
	for _, k := range c.cookies() {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// form builds url.Values from name, value pairs.
func form(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// escaped is how html/template writes s into a page.
func escaped(s string) string { return template.HTMLEscapeString(s) }

func (r *response) wantStatus(t *testing.T, want int) bool {
	t.Helper()
	if r.Status != want {
		t.Errorf("%s: status %d, want %d. Body:\n%s", r, r.Status, want, excerpt(r.Body))
		return false
	}
	return true
}

func (r *response) wantRedirect(t *testing.T, location string) {
	t.Helper()
	if r.wantStatus(t, http.StatusSeeOther) && r.Location() != location {
		t.Errorf("%s: redirects to %q, want %q", r, r.Location(), location)
	}
}

// wantText fails unless the page shows text (as html/template escapes it).
func (r *response) wantText(t *testing.T, text string) {
	t.Helper()
	if !strings.Contains(r.Body, escaped(text)) {
		t.Errorf("%s: the page does not say %q. Body:\n%s", r, text, excerpt(r.Body))
	}
}

// wantFieldError fails unless message is shown next to the input with the
// given element id ("" for the message about the form as a whole).
func (r *response) wantFieldError(t *testing.T, id, message string) {
	t.Helper()
	var want string
	if id == "" {
		want = `<p class="flash error" role="alert">` + escaped(message) + `</p>`
	} else {
		want = `id="` + id + `-error">` + escaped(message) + `</small>`
	}
	if !strings.Contains(r.Body, want) {
		t.Errorf("%s: want %q next to field %q; the page has:\n%s", r, message, id, errorsIn(r.Body))
	}
}

var errorMarkup = regexp.MustCompile(`<small class="error"[^>]*>[^<]*</small>|<p class="flash error"[^>]*>[^<]*</p>`)

// errorsIn lists the error messages on a page, for failure messages.
func errorsIn(body string) string {
	found := errorMarkup.FindAllString(body, -1)
	if len(found) == 0 {
		return "  (no error messages)\n" + excerpt(body)
	}
	return "  " + strings.Join(found, "\n  ")
}

// excerpt shortens a body for a failure message: the main element if there
// is one.
func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
		if j := strings.Index(body, "</main>"); j >= 0 {
			body = body[:j+len("</main>")]
		}
	}
	if len(body) > 2000 {
		body = body[:2000] + "…"
	}
	return body
}

// loginRedirect is where an anonymous request for path is sent.
func loginRedirect(method, path string) string {
	if method == http.MethodGet {
		return "/login?next=" + url.QueryEscape(path)
	}
	return "/login"
}
