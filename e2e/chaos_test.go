package e2e

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/mailpit"
)

// make test runs TestChaos briefly; make chaos runs it longer and harder.
var (
	chaosKills   = flag.Int("chaos.kills", 10, "how many times TestChaos kills the server with SIGKILL")
	chaosSeed    = flag.Uint64("chaos.seed", 0, "TestChaos's random seed (0 picks one and logs it)")
	chaosMinutes = flag.Int("chaos.minutes", 1, "how long TestChaos's ballots last; the run takes about 20 s more")
	chaosVoters  = flag.Int("chaos.voters", 12, "how many members vote at once in TestChaos")
)

// TestChaos kills the real server with SIGKILL at random moments while
// members vote in open and secret ballots and submit resources, comments
// and proposals, restarting it on the same database each time. Afterwards
// every acknowledged request (a 303) must be in the database exactly once,
// nothing unacknowledged may be half-written, the ledger and every tally
// must verify, and every ballot must close exactly once, with its effect.
//
// On SQLite one process serves the file, and a ballot whose closing time
// passed while it was down must close after the restart. On PostgreSQL
// (PLENARY_TEST_BACKEND=postgres) two processes serve one database behind
// a balancer and are killed in turn, one always serving: each ballot must
// close once although both race to close it, and at least one closing time
// falls while both are up and one falls between them being killed.
func TestChaos(t *testing.T) {
	began := time.Now()
	seed := *chaosSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (repeat the run's choices with -chaos.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x0c0ffee))

	bin := buildPlenary(t)
	built := time.Since(began)
	dbPath := dbtest.Path(t)
	const adminEmail = "secretary@chaos.example"
	var emails []string
	for i := range *chaosVoters {
		emails = append(emails, fmt.Sprintf("voter%02d@chaos.example", i+1))
	}
	writerEmails := []string{"writer1@chaos.example", "writer2@chaos.example"}
	addMembers(t, bin, dbPath, adminEmail, append(slices.Clone(emails), writerEmails...))

	procs, front, tr := chaosServers(t, bin, dbPath)
	// Every server can send mail: one at a time does (the sender lock).
	mp := mailpit.Start(t, mailpit.Options{})
	for _, p := range procs {
		p.args = []string{"-smtp-addr", mp.SMTPAddr, "-smtp-from", "plenary@chaos.example"}
	}
	// Started together, both on a library not loaded yet: the starter
	// library must go in once (checkWhole looks for anything twice).
	startAll(procs)
	var loaded []string
	for _, p := range procs {
		if strings.Contains(p.logTail(1, 50), "loaded the starter library") {
			loaded = append(loaded, p.name)
		}
	}
	if len(loaded) != 1 {
		t.Errorf("servers %v say they loaded the starter library; want one", loaded)
	}
	admin := newChaosMember(tr, adminEmail)
	if err := admin.login(front); err != nil {
		t.Fatal(err)
	}
	// A vote held live in a general meeting: one-minute minimums, secret
	// ballots for demands and open ones for resources.
	if err := admin.setRule(front, governance.KindEndorseDemand, 1, true); err != nil {
		t.Fatal(err)
	}
	if err := admin.setRule(front, governance.KindEndorseResource, 1, false); err != nil {
		t.Fatal(err)
	}
	demands, err := listIDs(admin, front, "/api/v1/demands?status=proposed")
	if err != nil {
		t.Fatal(err)
	}
	resources, err := listIDs(admin, front, "/api/v1/resources")
	if err != nil {
		t.Fatal(err)
	}
	var ballots []ballot
	for _, kind := range []string{governance.KindEndorseDemand, governance.KindEndorseResource,
		governance.KindEndorseDemand, governance.KindEndorseResource} {
		var id int64
		if kind == governance.KindEndorseDemand {
			id, demands, err = admin.openBallot(front, kind, demands, 0, *chaosMinutes)
		} else {
			id, resources, err = admin.openBallot(front, kind, resources, 0, *chaosMinutes)
		}
		if err != nil {
			t.Fatal(err)
		}
		ballots = append(ballots, ballot{id: id, secret: kind == governance.KindEndorseDemand, closesAt: closesAt(t, dbPath, id)})
	}
	// Members log in while the ballots' minute runs.
	var voters []*voter
	for i, email := range emails {
		m := newChaosMember(tr, email)
		if err := m.login(front); err != nil {
			t.Fatal(err)
		}
		voters = append(voters, &voter{m: m, rng: rand.New(rand.NewPCG(seed, uint64(i))), states: map[int64]*voteState{}})
	}
	var writers []*writer
	for i, email := range writerEmails {
		m := newChaosMember(tr, email)
		if err := m.login(front); err != nil {
			t.Fatal(err)
		}
		writers = append(writers, &writer{m: m, tag: fmt.Sprintf("w%d", i+1), rng: rand.New(rand.NewPCG(seed, uint64(100+i)))})
	}

	var ids []int64
	for _, b := range ballots {
		ids = append(ids, b.id)
	}
	for _, w := range writers {
		w.targets = slices.Clone(ids)
	}

	first, last := ballots[0].closesAt, ballots[0].closesAt
	for _, b := range ballots {
		if b.closesAt.Before(first) {
			first = b.closesAt
		}
		if b.closesAt.After(last) {
			last = b.closesAt
		}
	}
	plan := chaosPlan(rng, len(procs), *chaosKills, first, last)
	t.Logf("setup took %s (building the binary %s); servers: %d; ballots %v close between %s and %s; %s",
		time.Since(began).Round(time.Millisecond), built.Round(time.Millisecond), len(procs), ids,
		first.Format("15:04:05.000"), last.Format("15:04:05.000"), plan)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stats voteStats
	for _, v := range voters {
		wg.Go(func() { v.run(ctx, front, ballots, 30*time.Millisecond, &stats) })
	}
	var wstats voteStats
	for _, w := range writers {
		wg.Go(func() { w.run(ctx, front, 80*time.Millisecond, &wstats) })
	}
	chaosStart := time.Now()
	for _, k := range plan.kills {
		time.Sleep(time.Until(k.at))
		procs[k.proc].kill()
		time.Sleep(time.Until(k.up))
		procs[k.proc].start()
	}
	// Traffic goes on after the last restart: requests close any ballot
	// not closed yet, and votes are refused from then on.
	time.Sleep(time.Until(last.Add(3 * time.Second)))
	cancel()
	wg.Wait()
	chaosTook := time.Since(chaosStart)
	for _, p := range append(stats.problems, wstats.problems...) {
		t.Error(p)
	}

	t.Run("every ballot is closed and every acknowledged receipt finds its ballot", func(t *testing.T) {
		reader := newChaosMember(tr, "")
		for _, b := range ballots {
			r, err := admin.do(front, http.MethodGet, fmt.Sprintf("/proposals/%d", b.id), nil)
			if err != nil || r.status != http.StatusOK {
				t.Fatalf("GET /proposals/%d: status %d, %v", b.id, r.status, err)
			}
			r, err = reader.do(front, http.MethodGet, fmt.Sprintf("/api/v1/proposals/%d", b.id), nil)
			if err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"status":"closed"`) {
				t.Fatalf("GET /api/v1/proposals/%d after its closing time: status %d, %v\n%.300s", b.id, r.status, err, r.body)
			}
		}
		counted := regexp.MustCompile(`counted as <strong>(\w+)</strong>`)
		for _, b := range ballots {
			if !b.secret {
				continue
			}
			for _, v := range voters {
				st := v.states[b.id]
				if st == nil || st.receipt == "" {
					continue
				}
				r, err := reader.do(front, http.MethodGet, fmt.Sprintf("/proposals/%d?receipt=%s", b.id, url.QueryEscape(st.receipt)), nil)
				if err != nil || r.status != http.StatusOK {
					t.Fatalf("checking a receipt: status %d, %v", r.status, err)
				}
				want, _ := st.allowed(time.Now(), time.Now())
				m := counted.FindStringSubmatch(r.body)
				switch {
				case m == nil:
					t.Errorf("ballot %d: %s's receipt %s finds no ballot in the published box", b.id, v.m.email, st.receipt)
				case !slices.Contains(want, m[1]):
					t.Errorf("ballot %d: %s's receipt finds %q; the voter was last told %v", b.id, v.m.email, m[1], want)
				}
			}
		}
	})
	// The senders deliver what the ballots queued (their opening and
	// their results) after the last restart.
	awaitOutbox(t, dbPath, 90*time.Second)
	if len(procs) > 1 {
		t.Run("a commit through one server is on the other's public pages a moment later", func(t *testing.T) {
			checkCachesAcross(t, admin, procs)
		})
	}
	for _, p := range procs {
		p.stop()
		if lines := p.errorLines(); len(lines) > 0 {
			t.Errorf("the server logged %d errors, the first:\n%s", len(lines), strings.Join(lines[:min(10, len(lines))], "\n"))
		}
	}

	var foundVotes int
	t.Run("every acknowledged vote is stored once, as last acknowledged", func(t *testing.T) {
		now := time.Now()
		foundVotes = checkVotes(t, dbPath, ballots, voters, now, now)
	})
	var subs subCounts
	t.Run("acknowledged submissions are stored, and nothing is half-written", func(t *testing.T) {
		subs = checkSubmissions(t, dbPath, writers)
		checkWhole(t, dbPath)
	})
	var mailed mailCounts
	t.Run("every notification due was emailed, and sent again only if a kill caught it in flight", func(t *testing.T) {
		var kills []time.Time
		for _, p := range procs {
			for _, s := range p.downSpans() {
				kills = append(kills, s.from)
			}
		}
		mailed = checkMail(t, dbPath, mp, kills)
	})
	var closing closings
	t.Run("the ledger and every tally verify, and each ballot closed exactly once", func(t *testing.T) {
		closing = checkClosing(t, dbPath, ballots, procs)
		out, err := plenaryCLI(bin, "ledger", "verify", "-db", dbPath)
		if err != nil || !strings.Contains(out, "ledger ok") {
			t.Errorf("plenary ledger verify: %v\n%s", err, out)
		}
		t.Logf("plenary ledger verify: %s", strings.TrimSpace(out))
		for _, b := range ballots {
			out, err := plenaryCLI(bin, "tally", "verify", "-db", dbPath, strconv.FormatInt(b.id, 10))
			if err != nil || !strings.Contains(out, "tally ok") {
				t.Errorf("plenary tally verify %d: %v\n%s", b.id, err, out)
			}
			t.Logf("plenary tally verify %d: %s", b.id, strings.TrimSpace(out))
		}
		// What the plan was for: see chaosPlan.
		switch {
		case len(procs) == 1 && len(closing.noServer) == 0:
			t.Error("no ballot's closing time fell while the server was down, so closing on restart went untested")
		case len(procs) > 1 && len(closing.allUp) == 0:
			t.Error("no ballot's closing time fell while every server was up, so their race to close it went untested")
		case len(procs) > 1 && len(closing.someDown) == 0:
			t.Error("no ballot's closing time fell while a server was down, so a close with a server killed went untested")
		case len(procs) > 1 && len(closing.noServer) > 0:
			t.Errorf("ballots %v closed while no server was up: the plan kills one at a time", closing.noServer)
		}
	})

	var downtime time.Duration
	runs := 0
	for _, p := range procs {
		for _, s := range p.downSpans() {
			downtime += s.to.Sub(s.from)
		}
		runs += p.runs
	}
	t.Logf("%d SIGKILLs and %d starts (servers: %d) in %s of chaos (%s of servers down in all); whole test %s",
		len(plan.kills), runs, len(procs), chaosTook.Round(time.Millisecond), downtime.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("votes: %d sent, %d acknowledged (%d of them changes), %d unanswered, %d refused after close, %d server errors; "+
		"%d secret receipts, %d first secret votes stored without their answer; %d acknowledged votes found in the database",
		stats.sent.Load(), stats.acked.Load(), stats.changes.Load(), stats.unanswered.Load(), stats.refusedOver.Load(),
		stats.serverErrors.Load(), stats.receipts.Load(), stats.lost.Load(), foundVotes)
	t.Logf("submissions: %d acknowledged, %d unanswered (%d of those stored anyway), %d refused; ballots closed with no server up %v (closed after a restart), "+
		"with every server up %v, with one down %v",
		subs.acked, subs.unanswered, subs.unansweredStored, subs.refused, closing.noServer, closing.allUp, closing.someDown)
	t.Logf("mail: %d notifications queued, all sent; %d messages in Mailpit, %d of them sent again after a kill", mailed.queued, mailed.received, mailed.again)
}

var ledgerHead = regexp.MustCompile(`"seq":(\d+)`)

// checkCachesAcross has the admin change a rule through each server in
// turn, after a reader has had the ledger from the next server (which
// keeps the page for anonymous readers), and expects that server to show
// the new entry within two seconds, long before its cached page would
// expire (10 s): its cache must have been dropped when the other server
// committed (the change notification).
func checkCachesAcross(t *testing.T, admin *chaosMember, procs []*plenaryProcess) {
	t.Helper()
	reader := newChaosMember(procs[0].tr, "")
	head := func(p *plenaryProcess) int64 {
		t.Helper()
		r, err := reader.do(p, http.MethodGet, "/api/v1/ledger", nil)
		m := ledgerHead.FindStringSubmatch(r.body)
		if err != nil || r.status != http.StatusOK || m == nil {
			t.Fatalf("GET /api/v1/ledger from %s: status %d, %v\n%.300s", p.name, r.status, err, r.body)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n
	}
	for i, x := range procs {
		y := procs[(i+1)%len(procs)]
		before := head(y)
		if again := head(y); again != before {
			t.Fatalf("%s's ledger moved from %d to %d with nothing happening", y.name, before, again)
		}
		if err := admin.setRule(x, governance.KindMotion, 2+i%2, true); err != nil {
			t.Fatal(err)
		}
		if head(x) <= before {
			t.Fatalf("the rule change through %s is not on its own ledger page", x.name)
		}
		deadline := time.Now().Add(2 * time.Second)
		for head(y) <= before {
			if time.Now().After(deadline) {
				t.Fatalf("two seconds after a rule change through %s, %s still shows the ledger up to entry %d", x.name, y.name, before)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// kill is one SIGKILL of a plan: server proc is killed at at and started
// again at up.
type kill struct {
	at, up time.Time
	proc   int
}

// plan is when TestChaos kills which server.
type plan struct {
	kills []kill
	what  string
}

func (p plan) String() string { return p.what }

// chaosPlan plans n kills of servers (procs of them) at random moments
// while the ballots run, each followed by a restart within 300 ms. The
// ballots close between first and last.
//
// One server: the last kill is an outage across every closing time, so
// that the ballots close only after a restart.
//
// Several: they are killed in turn, one at a time, so one is always up,
// and one of them is killed at a random moment from the first closing
// time to before the last, while the ballots close (perhaps in the
// middle of a close), so that some close with every server up, racing to
// close them, and some with one of them down.
func chaosPlan(rng *rand.Rand, procs, n int, first, last time.Time) plan {
	// Margins, so that a slow restart on a busy machine cannot push a
	// random kill's server past the first closing time.
	stop := first.Add(-5 * time.Second)
	from := time.Now().Add(500 * time.Millisecond)
	var ats []time.Time
	for range max(0, n-1) {
		ats = append(ats, from.Add(time.Duration(rng.Int64N(int64(stop.Sub(from))))))
	}
	slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
	var p plan
	for i, at := range ats {
		p.kills = append(p.kills, kill{at: at, up: at.Add(time.Duration(rng.Int64N(int64(300 * time.Millisecond)))), proc: i % procs})
	}
	if procs == 1 {
		k := kill{at: first.Add(-2 * time.Second), up: last.Add(1500 * time.Millisecond)}
		p.kills = append(p.kills, k)
		p.what = fmt.Sprintf("%d random kills, then an outage from %s to %s", len(ats), k.at.Format("15:04:05.000"), k.up.Format("15:04:05.000"))
		return p
	}
	at := first.Add(time.Duration(rng.Int64N(max(1, int64(last.Sub(first))))))
	k := kill{at: at, up: at.Add(300 * time.Millisecond), proc: len(ats) % procs}
	p.kills = append(p.kills, k)
	p.what = fmt.Sprintf("%d random kills of one server at a time, then server %c killed at %s while the ballots close, up at %s",
		len(ats), 'A'+k.proc, k.at.Format("15:04:05.000"), k.up.Format("15:04:05.000"))
	return p
}

// writer is a member submitting resources, comments and proposals.
type writer struct {
	m       *chaosMember
	tag     string
	rng     *rand.Rand
	targets []int64 // proposals to comment on
	subs    []submission
}

// submission is one request that reached a server (or may have).
type submission struct {
	kind       string // resource, comment or proposal
	key        string // a word no other row carries
	id         int64  // from the Location of an acknowledged resource or proposal
	acked      bool
	unanswered bool
}

var (
	resourceLocation = regexp.MustCompile(`^/library/(\d+)$`)
	kinds            = []string{"resource", "comment", "proposal"}
)

func (w *writer) run(ctx context.Context, p frontend, pause time.Duration, stats *voteStats) {
	for n := 1; ctx.Err() == nil; n++ {
		time.Sleep(pause/2 + time.Duration(w.rng.Int64N(int64(pause))))
		s := submission{kind: kinds[w.rng.IntN(len(kinds))], key: fmt.Sprintf("chaos%sn%dq", w.tag, n)}
		var path string
		var form url.Values
		switch s.kind {
		case "resource":
			path = "/library/new"
			form = url.Values{"title": {"Chaos resource " + s.key}, "url": {"https://example.org/chaos/" + s.key},
				"authors": {"Chaos Test"}, "year": {"2025"}, "format": {"report"}, "language": {"en"},
				"topics": {"resilience"}, "summary": {"Submitted while the server was being killed: " + s.key + "."}}
		case "comment":
			path = fmt.Sprintf("/proposals/%d/comments", w.targets[w.rng.IntN(len(w.targets))])
			form = url.Values{"body": {"Comment " + s.key}}
		case "proposal":
			path = "/proposals/new"
			form = url.Values{"kind": {governance.KindMotion}, "title": {"Chaos motion " + s.key}, "body": {"A motion for later."},
				"opens": {"later"}, "opens_at": {time.Now().UTC().Add(48 * time.Hour).Format("2006-01-02T15:04")},
				"days": {"7"}, "hours": {"0"}, "minutes": {"0"}}
		}
		r, err := w.m.post(p, path, form)
		if notSent(err) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		switch {
		case err != nil || r.status >= 500:
			if err == nil {
				stats.serverErrors.Add(1)
				stats.problem("%s %s: status %d", w.m.email, s.kind, r.status)
			}
			s.unanswered = true
		case r.status == http.StatusSeeOther:
			s.acked = true
			if m := resourceLocation.FindStringSubmatch(r.location); m != nil && s.kind == "resource" {
				s.id, _ = strconv.ParseInt(m[1], 10, 64)
			}
			if m := proposalLocation.FindStringSubmatch(r.location); m != nil && s.kind == "proposal" {
				s.id, _ = strconv.ParseInt(m[1], 10, 64)
				w.targets = append(w.targets, s.id)
			}
			if (s.kind == "resource" || s.kind == "proposal") && s.id == 0 {
				stats.problem("%s %s: acknowledged with Location %q", w.m.email, s.kind, r.location)
			}
		case r.status == http.StatusUnprocessableEntity && s.kind == "comment" && strings.Contains(r.body, "Discussion has ended"):
			// Refused: the ballot closed. It must not be stored.
		default:
			stats.problem("%s %s: unexpected status %d", w.m.email, s.kind, r.status)
		}
		w.subs = append(w.subs, s)
	}
}

type subCounts struct{ acked, unanswered, unansweredStored, refused int }

// checkSubmissions finds each acknowledged submission exactly once (a
// resource also in the search index, a proposal also on the ledger), each
// unanswered one at most once, and no refused one.
func checkSubmissions(t *testing.T, path string, writers []*writer) subCounts {
	t.Helper()
	d := openSQL(t, path, true)
	var c subCounts
	present := map[string]int{}
	for _, w := range writers {
		for _, s := range w.subs {
			var ids []int64
			var query string
			switch s.kind {
			case "resource":
				query = `SELECT id FROM resources WHERE title = 'Chaos resource ' || ?`
			case "comment":
				query = `SELECT id FROM comments WHERE body = 'Comment ' || ?`
			case "proposal":
				query = `SELECT id FROM proposals WHERE title = 'Chaos motion ' || ?`
			}
			rows, err := d.Query(query, s.key)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			present[s.kind] += len(ids)
			switch {
			case s.acked:
				c.acked++
				if len(ids) != 1 || (s.id != 0 && ids[0] != s.id) {
					t.Errorf("acknowledged %s %s (id %d) is stored as %v", s.kind, s.key, s.id, ids)
				}
			case s.unanswered:
				c.unanswered++
				if len(ids) > 1 {
					t.Errorf("unanswered %s %s is stored %d times", s.kind, s.key, len(ids))
				}
				c.unansweredStored += len(ids)
			default:
				c.refused++
				if len(ids) != 0 {
					t.Errorf("refused %s %s is stored", s.kind, s.key)
				}
			}
			// The search index: SQLite's FTS5 table, PostgreSQL's tsvector
			// column (internal/db/search.go).
			if s.kind == "resource" && len(ids) == 1 {
				query, arg := `SELECT rowid FROM resources_fts WHERE resources_fts MATCH ?`, `"`+s.key+`"`
				if db.IsPostgresURL(path) {
					query, arg = `SELECT id FROM resources WHERE search @@ plenary_search_query(?)`, s.key
				}
				var found []int64
				rows, err := d.Query(query, arg)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					found = append(found, id)
				}
				rows.Close()
				if !slices.Equal(found, ids) {
					t.Errorf("resource %d (%s) is found by search as %v", ids[0], s.key, found)
				}
			}
		}
	}
	// Nothing stored that no request asked for.
	for kind, query := range map[string]string{
		"resource": `SELECT count(*) FROM resources WHERE title LIKE 'Chaos resource %'`,
		"comment":  `SELECT count(*) FROM comments WHERE body LIKE 'Comment chaos%'`,
		"proposal": `SELECT count(*) FROM proposals WHERE title LIKE 'Chaos motion %'`,
	} {
		var n int
		if err := d.QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != present[kind] {
			t.Errorf("%d chaos %ss stored; the requests account for %d", n, kind, present[kind])
		}
	}
	return c
}

// checkWhole looks for anything half-written: SQLite's own checks, the
// search index against the library, and every proposal against the ledger
// entries its changes must have written in the same transaction. (On
// PostgreSQL, which checks its pages and enforces foreign keys itself and
// whose search index is a column of the resource row, the proposals and
// the references its triggers check.)
func checkWhole(t *testing.T, path string) {
	t.Helper()
	if !db.IsPostgresURL(path) {
		checkSQLiteFile(t, path)
	}
	d := openSQL(t, path, true)
	type row struct {
		id                                      int64
		kind, status                            string
		outcome                                 sql.NullString
		submitted, opened, closed, effects, box int
	}
	of := ledgerProposal(path)
	rows, err := d.Query(`SELECT p.id, p.kind, p.status, p.outcome,
		(SELECT count(*) FROM ledger WHERE kind = 'proposal.submitted' AND ` + of + ` = p.id),
		(SELECT count(*) FROM ledger WHERE kind = 'ballot.opened' AND ` + of + ` = p.id),
		(SELECT count(*) FROM ledger WHERE kind = 'ballot.closed' AND ` + of + ` = p.id),
		(SELECT count(*) FROM ledger WHERE kind IN ('effect.applied', 'effect.skipped') AND ` + of + ` = p.id),
		coalesce(p.yes + p.no + p.abstain, -1) - (SELECT count(*) FROM roll WHERE proposal_id = p.id AND voted = 1)
		FROM proposals p ORDER BY p.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.kind, &r.status, &r.outcome, &r.submitted, &r.opened, &r.closed, &r.effects, &r.box); err != nil {
			t.Fatal(err)
		}
		opened := r.status == governance.ProposalVoting || r.status == governance.ProposalClosed
		closed := r.status == governance.ProposalClosed
		switch {
		case r.submitted != 1:
			t.Errorf("proposal %d has %d submission entries on the ledger", r.id, r.submitted)
		case opened != (r.opened == 1) || r.opened > 1:
			t.Errorf("proposal %d (%s) has %d ballot.opened entries", r.id, r.status, r.opened)
		case closed != (r.closed == 1) || r.closed > 1:
			t.Errorf("proposal %d (%s) has %d ballot.closed entries", r.id, r.status, r.closed)
		case closed && r.box != 0:
			t.Errorf("proposal %d: its stored tally and its roll's voted count differ by %d", r.id, r.box)
		case closed && r.outcome.String == governance.OutcomeCarried && r.kind != governance.KindMotion && r.effects != 1:
			t.Errorf("proposal %d carried with %d effect entries on the ledger", r.id, r.effects)
		case !closed && r.effects != 0:
			t.Errorf("proposal %d (%s) has an effect on the ledger", r.id, r.status)
		}
	}
	// PostgreSQL checks the roll's, the box's and the votes' references by
	// trigger, per statement (internal/db/postgres_v5.go): none dangles.
	if db.IsPostgresURL(path) {
		var dangling sql.NullString
		if err := d.QueryRow(`SELECT plenary_dangling()`).Scan(&dangling); err != nil {
			t.Fatal(err)
		}
		if dangling.Valid {
			t.Errorf("a reference dangles: %s", dangling.String)
		}
	}
	// Nothing in the library twice: not the starter library, which each
	// process loads into an empty database when it starts.
	for _, q := range []string{`SELECT title_key FROM resources GROUP BY title_key HAVING count(*) > 1`,
		`SELECT title FROM demands GROUP BY title HAVING count(*) > 1`} {
		var twice []string
		rows, err := d.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			twice = append(twice, s)
		}
		rows.Close()
		if len(twice) > 0 {
			t.Errorf("%s: %q more than once", q, twice)
		}
	}
	// A carried endorsement is in the library, pointing at its ballot.
	var wrong int
	if err := d.QueryRow(`SELECT count(*) FROM proposals p WHERE p.status = 'closed' AND p.outcome = 'carried' AND (
		(p.kind = 'endorse_demand' AND NOT EXISTS (SELECT 1 FROM demands WHERE id = p.demand_id AND endorsed_by = p.id)) OR
		(p.kind = 'endorse_resource' AND NOT EXISTS (SELECT 1 FROM resources WHERE id = p.resource_id AND endorsed_by = p.id)))`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d carried ballots without their endorsement in the library", wrong)
	}
}

// checkSQLiteFile runs SQLite's own checks of the file and compares the
// full-text index with the library.
func checkSQLiteFile(t *testing.T, path string) {
	t.Helper()
	d := openSQL(t, path, false)
	var ok string
	if err := d.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("PRAGMA integrity_check: %q, %v", ok, err)
	}
	rows, err := d.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check finds rows whose references are missing")
	}
	rows.Close()
	// Compares the full-text index with the resources table, row by row.
	if _, err := d.Exec(`INSERT INTO resources_fts (resources_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Errorf("the search index does not match the library: %v", err)
	}
	var n int
	if err := d.QueryRow(`SELECT count(*) FROM resources`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var indexed int
	if err := d.QueryRow(`SELECT count(*) FROM resources_fts_docsize`).Scan(&indexed); err != nil {
		t.Fatal(err)
	}
	if indexed != n {
		t.Errorf("%d resources but %d in the search index", n, indexed)
	}
}

// closings sorts the ballots by who was up at their closing time.
type closings struct {
	// noServer: every server was down (it closed after a restart);
	// allUp: every server was up (they raced to close it); someDown: a
	// server was down, another up.
	noServer, allUp, someDown []int64
}

// checkClosing finds each ballot closed exactly once, and sorts them by
// which servers were up at its closing time.
func checkClosing(t *testing.T, path string, ballots []ballot, procs []*plenaryProcess) closings {
	t.Helper()
	d := openSQL(t, path, true)
	var c closings
	for _, b := range ballots {
		var status string
		var closedAt sql.NullTime
		var entries int
		err := d.QueryRow(`SELECT status, closed_at, (SELECT count(*) FROM ledger WHERE kind = 'ballot.closed'
			AND `+ledgerProposal(path)+` = ?) FROM proposals WHERE id = ?`, b.id, b.id).Scan(&status, &closedAt, &entries)
		if err != nil {
			t.Fatal(err)
		}
		if status != governance.ProposalClosed || entries != 1 || !closedAt.Valid {
			t.Errorf("ballot %d: status %s, %d ballot.closed entries on the ledger; want closed, 1", b.id, status, entries)
			continue
		}
		if closedAt.Time.Before(b.closesAt) {
			t.Errorf("ballot %d closed at %s, before its closing time %s", b.id, closedAt.Time, b.closesAt)
		}
		down := 0
		for _, p := range procs {
			for _, s := range p.downSpans() {
				if b.closesAt.After(s.from) && b.closesAt.Before(s.to) {
					down++
				}
			}
		}
		switch down {
		case 0:
			c.allUp = append(c.allUp, b.id)
		case len(procs):
			c.noServer = append(c.noServer, b.id)
		default:
			c.someDown = append(c.someDown, b.id)
		}
	}
	// Each closed secret ballot's box was rewritten after its close,
	// though a kill fell between the two (governance/scrub.go): the reads
	// of every ballot after its closing time advanced the servers.
	var waiting []int64
	rows, err := d.Query(`SELECT proposal_id FROM box_rewrites ORDER BY proposal_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		waiting = append(waiting, id)
	}
	if len(waiting) > 0 {
		t.Errorf("ballots %v closed, and their boxes were never rewritten in key order", waiting)
	}
	return c
}
