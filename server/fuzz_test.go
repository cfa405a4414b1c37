package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/webtest"
	"plenary/library"
	"plenary/server"
)

// fuzzRoute is a request the fuzzer fills: a POST's body after a valid
// csrf_token, or a GET's query string.
type fuzzRoute struct {
	method, path string
	seed         url.Values // a valid form or query, the fuzzer's start
}

// fuzzRoutes are the forms and searches an admin can send, which between
// them decode every kind of field: text, numbers, dates, choices, lists.
// Routes that would end the session (logout, password, email, erasure,
// a change of one's own role) are left out so every input is tried by a
// logged-in admin.
var fuzzRoutes = []fuzzRoute{
	{"POST", "/account/name", url.Values{"name": {"Ada Lovelace"}}},
	{"POST", "/library/new", url.Values{"title": {"Own This!"}, "url": {"https://example.org/own-this"}, "authors": {"Trebor Scholz"},
		"year": {"2023"}, "format": {"book"}, "language": {"en"}, "region": {"UK"}, "topics": {"labour, platform co-ops"},
		"summary": {"A *book*."}, "doi": {"10.1000/x"}, "isbn": {"9781839764554"}}},
	{"POST", "/library/1/edit", url.Values{"title": {"A listed report, edited"}, "url": {"https://example.org/listed"},
		"format": {"report"}, "language": {"pt-BR"}}},
	{"POST", "/demands/new", url.Values{"title": {"Fund co-ops"}, "body": {"Councils should."}, "audience": {library.Audiences[0]},
		"resources": {"1"}}},
	{"POST", "/demands/1/edit", url.Values{"title": {"Fund co-ops now"}, "body": {"Councils should."}, "audience": {library.Audiences[1]}}},
	{"POST", "/proposals/new", url.Values{"kind": {governance.KindMotion}, "title": {"A motion"}, "body": {"Let us."},
		"opens": {"later"}, "opens_at": {"2026-03-05T10:00"}, "days": {"7"}, "hours": {"0"}, "minutes": {"0"}}},
	{"POST", "/proposals/1/comments", url.Values{"body": {"I agree."}}},
	{"POST", "/proposals/1/vote", url.Values{"choice": {governance.ChoiceYes}}},
	{"POST", "/admin/invitations", url.Values{"note": {"for Bo"}, "days": {"14"}}},
	{"POST", "/admin/rules", url.Values{"kind": {governance.KindMotion}, "quorum_pct": {"30"}, "threshold": {governance.ThresholdMajority},
		"min_minutes": {"10080"}, "secret": {"true"}}},
	{"POST", "/admin/library/1/status", url.Values{"status": {library.StatusListed}, "back": {"/admin/library"}}},
	{"GET", "/library", url.Values{"q": {"co-op"}, "topic": {"labour", "policy"}, "format": {"book"}, "from": {"1990"}, "to": {"2030"},
		"sort": {"year"}, "page": {"2"}, "per_page": {"5"}}},
	{"GET", "/api/v1/resources", url.Values{"q": {"co-op"}, "language": {"en"}, "page": {"1"}}},
	{"GET", "/proposals", url.Values{"page": {"2"}}},
	{"GET", "/demands", url.Values{"audience": {library.Audiences[0]}, "page": {"1"}}},
}

// FuzzForms sends arbitrary bodies and query strings through the real
// engine, session and CSRF check included, to routes that decode forms and
// searches. Nothing may answer 5xx or log an error, and whatever a form
// stored must be valid UTF-8 within the caps the rules set.
func FuzzForms(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), r.seed.Encode())
		f.Add(uint8(i), "")
	}
	f.Add(uint8(1), "title=%ff%fe&url=https://example.org/%00&format=book")
	f.Add(uint8(1), "title=a;b&url=x")
	f.Add(uint8(3), "title="+strings.Repeat("x", 201)+"&body=b&audience=unions")
	f.Add(uint8(11), "q=%22gig%22+AND+NEAR(x)&topic=%ff&from=99999999999999999999&per_page=-1")

	a := newFuzzApp(f)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		var w *httptest.ResponseRecorder
		if r.method == http.MethodPost {
			w = a.send(r.method, r.path, "", "csrf_token="+url.QueryEscape(a.csrf)+"&"+body)
		} else {
			w = a.send(r.method, r.path, body, "")
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q answered %d:\n%s", r.method, r.path, body, w.Code, excerpt(w.Body.String()))
		}
		if logged := a.errs.take(); len(logged) > 0 {
			t.Fatalf("%s %s with %q logged:\n  %s", r.method, r.path, body, strings.Join(logged, "\n  "))
		}
		if r.method == http.MethodPost && w.Code == http.StatusSeeOther && strings.HasPrefix(w.Header().Get("Location"), "/login") {
			t.Fatalf("%s %s with %q logged the admin out", r.method, r.path, body)
		}
		a.checkStored(t)
	})
}

// fuzzApp is a Plenary with an admin logged in, a listed resource, a demand
// and a proposal open for voting, driven in-process: the fuzzer sends
// thousands of requests a second, so there is no socket between them.
type fuzzApp struct {
	h    http.Handler
	db   *db.DB
	errs *errorLog
	jar  http.CookieJar
	base *url.URL
	csrf string
}

func newFuzzApp(f testing.TB) *fuzzApp {
	d := dbtest.Open(f)
	clk := newClock()
	gov := governance.New(d, clk.Now)
	lib := library.New(d, clk.Now)
	errs := &errorLog{}
	const base = "http://plenary.example"
	srv, err := server.New(context.Background(), server.Config{Name: "Fuzz Co-op", BaseURL: base,
		Templates: os.DirFS("../templates"), Static: os.DirFS("../static"), Now: clk.Now}, slog.New(errs), d, gov, lib)
	if err != nil {
		f.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	a := &fuzzApp{h: srv, db: d, errs: errs, jar: jar, base: u}

	ctx := context.Background()
	ad, err := gov.AddMember(ctx, governance.Details{Name: "Ada Admin", Email: "ada@example.org", Password: password}, governance.RoleAdmin)
	if err != nil {
		f.Fatal(err)
	}
	v := library.Viewer{ID: ad.ID, Active: true, Admin: true}
	r, err := lib.SubmitResource(ctx, v, library.ResourceInput{Title: "A listed report", URL: "https://example.org/listed", Format: "report"})
	if err != nil {
		f.Fatal(err)
	}
	if err := lib.SetResourceStatus(ctx, v, r.ID, library.StatusListed); err != nil {
		f.Fatal(err)
	}
	if _, err := lib.DraftDemand(ctx, v, library.DemandInput{Title: "Fund co-ops", Body: "Councils should.", Audience: library.Audiences[0]}); err != nil {
		f.Fatal(err)
	}
	if _, err := gov.Propose(ctx, ad, governance.ProposalInput{Kind: governance.KindMotion, Title: "Open motion", Opens: "now", Days: "7"}); err != nil {
		f.Fatal(err)
	}

	a.csrf = a.token(f, "/login")
	login := url.Values{"csrf_token": {a.csrf}, "email": {ad.EmailAddress()}, "password": {password}}
	if w := a.send("POST", "/login", "", login.Encode()); w.Code != http.StatusSeeOther {
		f.Fatalf("log in: %d\n%s", w.Code, excerpt(w.Body.String()))
	}
	a.csrf = a.token(f, "/account") // the session, and so the token, is new after logging in
	return a
}

// send serves one request, carrying cookies as a browser would. The query
// is set on the URL as it comes, however malformed: a real request line
// would be refused for less, so this asks more of the handlers.
func (a *fuzzApp) send(method, path, query, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.URL.RawQuery = query
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range a.jar.Cookies(a.base) {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, req)
	a.jar.SetCookies(a.base, w.Result().Cookies())
	return w
}

func (a *fuzzApp) token(f testing.TB, page string) string {
	w := a.send("GET", page, "", "")
	token, ok := webtest.CSRFToken(w.Body.String())
	if w.Code != http.StatusOK || !ok {
		f.Fatalf("GET %s: %d, no csrf_token", page, w.Code)
	}
	return token
}

// storedText lists, for each table a fuzzed form writes, its text columns
// and the most characters each may hold.
var storedText = []struct {
	table string
	caps  map[string]int
}{
	{"members", map[string]int{"name": governance.MaxNameLen, "statement": governance.MaxStatementLen}},
	{"resources", map[string]int{"title": library.MaxTitleLen, "url": library.MaxURLLen, "authors": 1 << 20,
		"publisher": library.MaxPublisherLen, "language": 35, "region": library.MaxRegionLen, "topics": 1 << 20,
		"licence": library.MaxLicenceLen, "summary": library.MaxSummaryLen, "doi": 200, "isbn": 20}},
	{"demands", map[string]int{"title": library.MaxDemandTitleLen, "body": library.MaxDemandBodyLen}},
	{"proposals", map[string]int{"title": governance.MaxProposalTitleLen, "body": governance.MaxProposalBodyLen}},
	{"comments", map[string]int{"body": governance.MaxCommentLen}},
	{"invitations", map[string]int{"note": governance.MaxNoteLen}},
}

// checkStored reads the first and the newest row of each table (the rows a
// fuzzed form edits or adds) and checks their text.
func (a *fuzzApp) checkStored(t *testing.T) {
	t.Helper()
	for _, st := range storedText {
		for col, max := range st.caps {
			var vals []string
			q := fmt.Sprintf(`SELECT coalesce(%s, '') FROM %s WHERE id IN (1, (SELECT max(id) FROM %[2]s))`, col, st.table)
			if err := a.db.R.Select(&vals, q); err != nil {
				t.Fatalf("read %s.%s: %v", st.table, col, err)
			}
			for _, v := range vals {
				if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
					t.Fatalf("%s.%s holds %q: not UTF-8, or over %d characters", st.table, col, v, max)
				}
			}
		}
	}
}

// The fuzzer starts from each route's seed; if the seeds did not get past
// the session and CSRF checks to the handler, it would fuzz only those.
func TestFuzzFormsSeedsReachTheHandlers(t *testing.T) {
	a := newFuzzApp(t)
	for _, r := range fuzzRoutes {
		var w *httptest.ResponseRecorder
		want := http.StatusOK
		if r.method == http.MethodPost {
			w = a.send(r.method, r.path, "", "csrf_token="+url.QueryEscape(a.csrf)+"&"+r.seed.Encode())
			want = http.StatusSeeOther
		} else {
			w = a.send(r.method, r.path, r.seed.Encode(), "")
		}
		if w.Code != want || strings.HasPrefix(w.Header().Get("Location"), "/login") {
			t.Errorf("%s %s with its seed answered %d (location %q), want %d:\n%s", r.method, r.path, w.Code,
				w.Header().Get("Location"), want, excerpt(w.Body.String()))
		}
	}
	if logged := a.errs.take(); len(logged) > 0 {
		t.Errorf("logged: %s", logged)
	}
}
