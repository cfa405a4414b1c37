package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
	"plenary/internal/webtest"
	"plenary/library"
	"plenary/server"
)

// benchSite is a served co-op for benchmarks: the starter library plus a
// thousand generated resources, a closed ballot with a published box, an
// open ballot, and logged-in voters. The database is a real file with
// synchronous=FULL, as in production.
type benchSite struct {
	url      string
	srv      *server.Server
	closed   int64
	open     int64
	ranked   int64 // an open poll among 20 options, counted by Schulze
	voters   []*benchClient
	tokens   []string
	resource int64
}

// benchClient is a voter's browser that stops the benchmark on any error.
type benchClient struct{ web *webtest.Client }

func newBenchClient(tr http.RoundTripper) *benchClient { return &benchClient{web: webtest.New("", tr)} }

func (c *benchClient) do(b testing.TB, method, u string, form url.Values) (int, string) {
	r, err := c.web.Send(context.Background(), method, u, form)
	if err != nil {
		b.Fatal(err)
	}
	return r.Status, r.Body
}

func (c *benchClient) token(b testing.TB, u string) string {
	token, err := c.web.CSRF(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	return token
}

func newBenchSite(b *testing.B, voters int) *benchSite {
	b.Helper()
	ctx := context.Background()
	d := dbtest.Open(b)
	clock := fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	gov := governance.New(d, clock.Now)
	lib := library.New(d, clock.Now)

	var handler http.Handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	base := "http://" + ts.Listener.Addr().String()
	srv, err := server.New(ctx, server.Config{Name: "Bench Co-op", BaseURL: base,
		Templates: os.DirFS("../templates"), Static: os.DirFS("../static"), Now: clock.Now},
		slog.New(slog.DiscardHandler), d, gov, lib)
	if err != nil {
		b.Fatal(err)
	}
	handler = srv
	ts.Start()
	b.Cleanup(ts.Close)

	admin, err := gov.AddMember(ctx, governance.Details{Name: "Ada Admin", Email: "ada@example.org", Password: password}, governance.RoleAdmin)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := lib.LoadStarter(ctx); err != nil {
		b.Fatal(err)
	}
	subs := make([]library.Submission, 1000)
	topics := []string{"platform co-ops", "data co-ops", "finance", "policy", "labour"}
	for i := range subs {
		subs[i] = library.Submission{By: admin.ID, Input: library.ResourceInput{
			Title:  fmt.Sprintf("Generated report %d on platform co-operatives", i),
			URL:    fmt.Sprintf("https://example.org/reports/%d", i),
			Format: "report", Language: "en", Year: fmt.Sprint(1990 + i%35),
			Topics:  topics[i%len(topics)] + ", " + topics[(i+2)%len(topics)],
			Summary: "How platform co-operatives share ownership and governance with their workers and users.",
		}}
	}
	ids, err := lib.ListMany(ctx, library.Viewer{ID: admin.ID, Active: true, Admin: true}, subs)
	if err != nil {
		b.Fatal(err)
	}

	people := make([]governance.Newcomer, voters)
	for i := range people {
		people[i] = governance.Newcomer{Name: fmt.Sprintf("Voter %d", i), Email: fmt.Sprintf("voter%d@example.org", i)}
	}
	memberIDs, err := gov.AdmitMany(ctx, admin, password, people, nil)
	if err != nil {
		b.Fatal(err)
	}

	// A closed secret ballot with every voter's vote in its box, and an
	// open ballot (so the same voters can vote again and again: a changed
	// vote is a write like any other).
	closed, err := gov.Propose(ctx, admin, governance.ProposalInput{Kind: governance.KindMotion, Title: "Adopt the annual plan", Opens: "now", Days: "7"})
	if err != nil {
		b.Fatal(err)
	}
	votes := make([]governance.CastVote, len(memberIDs))
	for i, id := range memberIDs {
		votes[i] = governance.CastVote{Member: id, Choice: governance.Choices[i%3]}
	}
	if err := gov.VoteMany(ctx, closed.ID, votes); err != nil {
		b.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	if err := gov.Advance(ctx); err != nil {
		b.Fatal(err)
	}
	rules, err := gov.Rules(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rules {
		if r.Kind == governance.KindMotion {
			if err := gov.SetRule(ctx, admin, governance.RuleInput{Kind: r.Kind, QuorumPct: fmt.Sprint(r.QuorumPct),
				Threshold: r.Threshold, MinMinutes: fmt.Sprint(r.MinMinutes), Secret: false}); err != nil {
				b.Fatal(err)
			}
		}
	}
	open, err := gov.Propose(ctx, admin, governance.ProposalInput{Kind: governance.KindMotion, Title: "Join the regional federation", Opens: "now", Days: "7"})
	if err != nil {
		b.Fatal(err)
	}

	options := make([]governance.OptionInput, 20)
	for i := range options {
		options[i] = governance.OptionInput{Label: fmt.Sprintf("Option %d", i+1)}
	}
	ranked, err := gov.Propose(ctx, admin, governance.ProposalInput{Kind: governance.KindPoll, Title: "Where we meet next year",
		Opens: "now", Days: "7", Options: options, Method: governance.MethodSchulze})
	if err != nil {
		b.Fatal(err)
	}
	if *ranked.Secret {
		b.Fatal("polls are open ballots by default; the benchmark compares open ballots")
	}

	site := &benchSite{url: base, srv: srv, closed: closed.ID, open: open.ID, ranked: ranked.ID, resource: ids[0]}
	tr := &http.Transport{MaxIdleConns: voters + 8, MaxIdleConnsPerHost: voters + 8}
	b.Cleanup(tr.CloseIdleConnections)
	for i := range voters {
		c := newBenchClient(tr)
		token := c.token(b, base+"/login")
		status, _ := c.do(b, http.MethodPost, base+"/login", url.Values{"csrf_token": {token}, "email": {people[i].Email}, "password": {password}})
		if status != http.StatusSeeOther {
			b.Fatalf("log in voter %d: %d", i, status)
		}
		site.voters = append(site.voters, c)
		site.tokens = append(site.tokens, c.token(b, fmt.Sprintf("%s/proposals/%d", base, open.ID)))
	}
	return site
}

// BenchmarkVoteHTTP is a vote as a member's browser casts it: session
// cookie, CSRF token, the vote writer's commit with synchronous=FULL, and
// the redirect.
//
// A ranked ballot (issue 14: no more than 1.5 times a yes/no vote) ranks
// five of the poll's twenty options, different ones each round, so every
// vote changes the stored ballot as every yes/no vote changes its choice.
func BenchmarkVoteHTTP(b *testing.B) {
	site := newBenchSite(b, 256)
	n := len(site.voters)
	yesNo := func(i int) (int64, url.Values) {
		return site.open, url.Values{"csrf_token": {site.tokens[i%n]}, "choice": {governance.Choices[i%3]}}
	}
	ranked := func(i int) (int64, url.Values) {
		form := url.Values{"csrf_token": {site.tokens[i%n]}, "choice_ballot": {"1"}}
		for k := range 5 {
			form.Set(governance.RankKey((i+i/n+7*k)%20), fmt.Sprint(k+1))
		}
		return site.ranked, form
	}
	for _, ballot := range []struct {
		name string
		form func(int) (int64, url.Values)
	}{{"yes-no", yesNo}, {"ranked", ranked}} {
		vote := func(b *testing.B, i int) {
			id, form := ballot.form(i)
			status, body := site.voters[i%n].do(b, http.MethodPost, fmt.Sprintf("%s/proposals/%d/vote", site.url, id), form)
			if status != http.StatusSeeOther {
				b.Fatalf("vote: %d\n%s", status, body)
			}
		}
		b.Run(ballot.name+"/one voter at a time", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				vote(b, i)
				i++
			}
		})
		b.Run(ballot.name+"/256 voters at once", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(128) // × GOMAXPROCS(2)
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					vote(b, int(next.Add(1)))
				}
			})
		})
	}
}

// BenchmarkPages renders the public pages the load run reads, as an
// anonymous reader: from the page cache, and rendered afresh with the
// cache off.
func BenchmarkPages(b *testing.B) {
	site := newBenchSite(b, 16)
	pages := []struct{ name, path string }{
		{"home", "/"},
		{"library search", "/library?q=platform&topic=platform+co-ops"},
		{"library", "/library"},
		{"resource", fmt.Sprintf("/library/%d", site.resource)},
		{"demands", "/demands"},
		{"closed result", fmt.Sprintf("/proposals/%d", site.closed)},
		{"proposals", "/proposals"},
		{"ledger", "/ledger"},
		{"api resources", "/api/v1/resources"},
	}
	for _, cached := range []bool{false, true} {
		server.UsePageCache(site.srv, cached)
		mode := "rendered"
		if cached {
			mode = "cached"
		}
		for _, p := range pages {
			b.Run(mode+"/"+p.name, func(b *testing.B) {
				c := newBenchClient(http.DefaultTransport)
				b.ReportAllocs()
				for b.Loop() {
					if status, _ := c.do(b, http.MethodGet, site.url+p.path, nil); status != http.StatusOK {
						b.Fatalf("GET %s: %d", p.path, status)
					}
				}
			})
		}
	}
}
