package e2e

// The real plenary binary as a child process that can be killed and
// restarted on the same database, several of them behind a balancer on
// PostgreSQL, and members driving them over HTTP the way a browser would:
// a cookie jar each, CSRF tokens from the forms, redirects not followed so
// that a 303 is seen as the acknowledgement it is. Shared by TestChaos and
// TestBackupUnderLoad.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/webtest"
)

// chaosPassword is every test member's password.
const chaosPassword = "a sturdy umbrella in the autumn storm"

// plenaryProcess runs `plenary serve` on one database (a SQLite file or a
// PostgreSQL URL), again and again.
type plenaryProcess struct {
	t    *testing.T
	bin  string
	db   string
	name string   // in messages, when several processes serve one database
	args []string // more flags for plenary serve
	dir  string   // where each run's log goes

	cmd    *exec.Cmd
	exited chan struct{}
	base   atomic.Pointer[string] // nil while no server is up
	runs   int
	tr     *http.Transport

	mu        sync.Mutex
	down      []span // from the signal to the next "serving" line
	downSince time.Time
}

// span is a stretch of time with no server.
type span struct{ from, to time.Time }

// chaosServers are a crash test's servers, not started yet, and the
// front the members send their requests to: on SQLite one process; on
// PostgreSQL two on one database behind a balancer.
func chaosServers(t *testing.T, bin, db string) ([]*plenaryProcess, frontend, *http.Transport) {
	if dbtest.Postgres() {
		lb := newBalancer(t, bin, db, 2)
		return lb.procs, lb, lb.tr
	}
	srv := newPlenaryProcess(t, bin, db)
	return []*plenaryProcess{srv}, srv, srv.tr
}

func newPlenaryProcess(t *testing.T, bin, db string) *plenaryProcess {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &plenaryProcess{t: t, bin: bin, db: db, name: "plenary serve", dir: dir, tr: &http.Transport{
		MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
		p.tr.CloseIdleConnections()
	})
	return p
}

// url is the running server's address, or "" while there is none.
func (p *plenaryProcess) url() string {
	if b := p.base.Load(); b != nil {
		return *b
	}
	return ""
}

// frontend is where members send their requests: one server process, or
// several behind a balancer.
type frontend interface {
	// addrs lists the addresses of the servers up at this moment, in the
	// order a request tries them; none while nothing serves.
	addrs() []string
}

func (p *plenaryProcess) addrs() []string {
	if u := p.url(); u != "" {
		return []string{u}
	}
	return nil
}

// balancer spreads requests over several server processes on one
// database in turn (round robin), as a load balancer in front of them
// would. A request that a process refuses unsent (it is down, or its port
// is closed) goes to the next one; a request sent and left unanswered is
// not sent again, as a balancer would not for a POST.
type balancer struct {
	procs []*plenaryProcess
	next  atomic.Uint64
	tr    *http.Transport // shared by the processes: one client for all of them
}

// newBalancer makes n processes serving db, not yet started.
func newBalancer(t *testing.T, bin, db string, n int) *balancer {
	b := &balancer{}
	for i := range n {
		p := newPlenaryProcess(t, bin, db)
		p.name = fmt.Sprintf("plenary serve %c", 'A'+i)
		if b.tr == nil {
			b.tr = p.tr
		}
		p.tr = b.tr
		b.procs = append(b.procs, p)
	}
	return b
}

func (b *balancer) addrs() []string {
	first := int(b.next.Add(1) % uint64(len(b.procs)))
	var out []string
	for i := range b.procs {
		if u := b.procs[(first+i)%len(b.procs)].url(); u != "" {
			out = append(out, u)
		}
	}
	return out
}

var servingLine = regexp.MustCompile(`Plenary is serving" addr=(http://127\.0\.0\.1:\d+)`)

// start runs the server on a fresh loopback port and waits until it serves.
func (p *plenaryProcess) start() {
	p.t.Helper()
	p.awaitServing(p.launch())
}

// startAll starts the processes together, as an operator starting several
// at once would (a deployment's replicas), and waits until each serves.
func startAll(procs []*plenaryProcess) {
	logs := make([]string, len(procs))
	for i, p := range procs {
		logs[i] = p.launch()
	}
	for i, p := range procs {
		p.awaitServing(logs[i])
	}
}

// launch starts the next run of the server and returns its log's path.
func (p *plenaryProcess) launch() string {
	p.t.Helper()
	p.runs++
	logPath := filepath.Join(p.dir, fmt.Sprintf("serve-%03d.log", p.runs))
	f, err := os.Create(logPath)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, append([]string{"serve", "-addr", "127.0.0.1:0", "-db", p.db}, p.args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		p.t.Fatalf("start plenary serve: %v", err)
	}
	f.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	return logPath
}

// awaitServing waits until the run launched with logPath says it serves.
func (p *plenaryProcess) awaitServing(logPath string) {
	p.t.Helper()
	cmd, exited := p.cmd, p.exited
	for deadline := time.Now().Add(60 * time.Second); ; {
		b, _ := os.ReadFile(logPath)
		if m := servingLine.FindSubmatch(b); m != nil {
			up, base := time.Now(), string(m[1])
			p.mu.Lock()
			if !p.downSince.IsZero() {
				p.down = append(p.down, span{p.downSince, up})
				p.downSince = time.Time{}
			}
			p.mu.Unlock()
			p.base.Store(&base)
			break
		}
		select {
		case <-exited:
			p.t.Fatalf("%s (run %d) exited before serving: %v\n%s", p.name, p.runs, cmd.ProcessState, b)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s (run %d) did not start within a minute:\n%s", p.name, p.runs, b)
		}
	}
}

// kill ends the server with SIGKILL: no shutdown, no last commit, no
// checkpoint, as when the machine loses power or the OOM killer strikes.
func (p *plenaryProcess) kill() {
	p.t.Helper()
	p.base.Store(nil)
	p.mu.Lock()
	p.downSince = time.Now()
	p.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("SIGKILL: %v", err)
	}
	<-p.exited
	p.tr.CloseIdleConnections()
}

// stop asks the server to finish (SIGTERM) and expects a clean exit.
func (p *plenaryProcess) stop() {
	p.t.Helper()
	p.base.Store(nil)
	p.mu.Lock()
	p.downSince = time.Now()
	p.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("%s did not stop within 30 s of SIGTERM", p.name)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		p.t.Errorf("%s exited %d after SIGTERM; log:\n%s", p.name, code, p.logTail(p.runs, 20))
	}
	p.tr.CloseIdleConnections()
}

// downSpans returns the stretches with no server so far.
func (p *plenaryProcess) downSpans() []span {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.down)
}

// logTail returns the last n lines of run's log.
func (p *plenaryProcess) logTail(run, n int) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, fmt.Sprintf("serve-%03d.log", run)))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// errorLines returns every line any run logged at level ERROR.
func (p *plenaryProcess) errorLines() []string {
	var out []string
	for run := 1; run <= p.runs; run++ {
		b, _ := os.ReadFile(filepath.Join(p.dir, fmt.Sprintf("serve-%03d.log", run)))
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "level=ERROR") {
				out = append(out, fmt.Sprintf("%s, run %d: %s", p.name, run, l))
			}
		}
	}
	return out
}

// plenaryCLI runs a plenary command to completion and returns its output.
func plenaryCLI(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PLENARY_PASSWORD="+chaosPassword)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// addMembers adds the admin and the members with `plenary member add`, as
// an operator would before opening the doors.
func addMembers(t *testing.T, bin, db string, admin string, members []string) {
	t.Helper()
	if out, err := plenaryCLI(bin, "member", "add", "-db", db, "-email", admin, "-name", "Chaos Secretary", "-role", "admin"); err != nil {
		t.Fatalf("plenary member add (admin): %v\n%s", err, out)
	}
	for i, email := range members {
		if out, err := plenaryCLI(bin, "member", "add", "-db", db, "-email", email, "-name", fmt.Sprintf("Member %d", i+1)); err != nil {
			t.Fatalf("plenary member add %s: %v\n%s", email, err, out)
		}
	}
}

// chaosMember is one person with a browser: a cookie jar, no redirects followed.
type chaosMember struct {
	email string
	// web has no base: each request names the address of the server
	// running at that moment. Cookies ignore the port, so the session
	// outlives a restart.
	web  *webtest.Client
	csrf string
}

func newChaosMember(tr http.RoundTripper, email string) *chaosMember {
	return &chaosMember{email: email, web: webtest.New("", tr)}
}

// reply is what came back.
type reply struct {
	status   int
	location string
	body     string
}

// errNoServer: nothing is serving at this moment; the request was not sent.
var errNoServer = errors.New("no server is running")

// do sends a request to the first server up that takes it.
func (m *chaosMember) do(f frontend, method, path string, form url.Values) (reply, error) {
	err := errNoServer
	for _, base := range f.addrs() {
		var r *webtest.Response
		r, err = m.web.Send(context.Background(), method, base+path, form)
		if notSent(err) {
			continue
		}
		if err != nil {
			return reply{}, err
		}
		return reply{status: r.Status, location: r.Location(), body: r.Body}, nil
	}
	return reply{}, err
}

// post sends a form with the member's CSRF token.
func (m *chaosMember) post(p frontend, path string, form url.Values) (reply, error) {
	form.Set("csrf_token", m.csrf)
	return m.do(p, http.MethodPost, path, form)
}

// notSent says the request never reached a server: nothing can have been stored.
func notSent(err error) bool {
	return errors.Is(err, errNoServer) || errors.Is(err, syscall.ECONNREFUSED)
}

// login logs in and keeps the session's CSRF token (bound to the session,
// so it serves every form, across restarts too: the keys live in the database).
func (m *chaosMember) login(p frontend) error {
	r, err := m.do(p, http.MethodGet, "/login", nil)
	if err != nil {
		return err
	}
	tok, ok := webtest.CSRFToken(r.body)
	if !ok {
		return fmt.Errorf("GET /login: status %d, no csrf_token", r.status)
	}
	r, err = m.do(p, http.MethodPost, "/login", url.Values{"csrf_token": {tok}, "email": {m.email}, "password": {chaosPassword}})
	if err != nil || r.status != http.StatusSeeOther {
		return fmt.Errorf("log in as %s: status %d, %v", m.email, r.status, err)
	}
	r, err = m.do(p, http.MethodGet, "/account", nil)
	if err != nil {
		return err
	}
	if tok, ok = webtest.CSRFToken(r.body); !ok || r.status != http.StatusOK {
		return fmt.Errorf("GET /account after login: status %d, no csrf_token", r.status)
	}
	m.csrf = tok
	return nil
}

var rulesForm = regexp.MustCompile(`(?s)<form method="post" action="/admin/rules".*?</form>`)

// setRule sets a kind's minimum period and ballot secrecy through
// /admin/rules, keeping the quorum and threshold the page shows.
func (m *chaosMember) setRule(p frontend, kind string, minutes int, secret bool) error {
	r, err := m.do(p, http.MethodGet, "/admin/rules", nil)
	if err != nil || r.status != http.StatusOK {
		return fmt.Errorf("GET /admin/rules: status %d, %v", r.status, err)
	}
	var form string
	for _, f := range rulesForm.FindAllString(r.body, -1) {
		if strings.Contains(f, `name="kind" value="`+kind+`"`) {
			form = f
		}
	}
	quorum := regexp.MustCompile(`name="quorum_pct" type="number" value="(\d+)"`).FindStringSubmatch(form)
	threshold := regexp.MustCompile(`<option value="(\w+)" selected>`).FindStringSubmatch(form)
	if quorum == nil || threshold == nil {
		return fmt.Errorf("no rules form for %s on /admin/rules", kind)
	}
	r, err = m.post(p, "/admin/rules", url.Values{"kind": {kind}, "quorum_pct": {quorum[1]}, "threshold": {threshold[1]},
		"min_minutes": {strconv.Itoa(minutes)}, "secret": {strconv.FormatBool(secret)}})
	if err != nil || r.status != http.StatusSeeOther {
		return fmt.Errorf("POST /admin/rules %s: status %d, %v", kind, r.status, err)
	}
	return nil
}

var proposalLocation = regexp.MustCompile(`^/proposals/(\d+)$`)

// openBallot proposes to endorse the first of subjects (demand or resource
// ids, by kind) that will take a ballot, opening now for the given period.
func (m *chaosMember) openBallot(p frontend, kind string, subjects []int64, days, minutes int) (int64, []int64, error) {
	field := map[string]string{governance.KindEndorseDemand: "demand_id", governance.KindEndorseResource: "resource_id"}[kind]
	for i, id := range subjects {
		r, err := m.post(p, "/proposals/new", url.Values{"kind": {kind}, "title": {fmt.Sprintf("Test ballot on %s %d", field, id)},
			"body": {"Opened by the test."}, field: {strconv.FormatInt(id, 10)}, "opens": {"now"},
			"days": {strconv.Itoa(days)}, "hours": {"0"}, "minutes": {strconv.Itoa(minutes)}})
		if err != nil {
			return 0, nil, err
		}
		if r.status == http.StatusUnprocessableEntity {
			continue
		}
		loc := proposalLocation.FindStringSubmatch(r.location)
		if r.status != http.StatusSeeOther || loc == nil {
			return 0, nil, fmt.Errorf("POST /proposals/new: status %d, Location %q", r.status, r.location)
		}
		n, _ := strconv.ParseInt(loc[1], 10, 64)
		return n, subjects[i+1:], nil
	}
	return 0, nil, fmt.Errorf("no %s would take a ballot", field)
}

var apiID = regexp.MustCompile(`"id":(\d+)`)

// listIDs reads the ids of a public API list (its first page).
func listIDs(m *chaosMember, p frontend, path string) ([]int64, error) {
	r, err := m.do(p, http.MethodGet, path, nil)
	if err != nil || r.status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d, %v", path, r.status, err)
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, mm := range apiID.FindAllStringSubmatch(r.body, -1) {
		n, _ := strconv.ParseInt(mm[1], 10, 64)
		if !seen[n] {
			seen[n] = true
			ids = append(ids, n)
		}
	}
	return ids, nil
}

// ballot is one ballot under test.
type ballot struct {
	id       int64
	secret   bool
	closesAt time.Time
}

// attempt is one vote that reached a server (or may have).
type attempt struct {
	choice     string
	sent, done time.Time
	acked      bool // answered 303: the server said it is stored
}

// voteState is what one member did in one ballot.
type voteState struct {
	attempts []attempt
	receipt  string // secret ballots: from the first acknowledged vote
	// lost: a first secret vote went unanswered and was stored after all
	// (the next try was refused as a second vote); its receipt never
	// reached the voter. That is the honest outcome of a dropped answer.
	lost bool
	over bool // the ballot refused because voting is over
}

// allowed lists the choices a copy of the database taken between cutoff
// and until may hold for this member: the last vote acknowledged before
// cutoff, or any sent after it and before until whose acknowledgement had
// not come by cutoff (those may or may not be in the copy). hadAck says
// whether a vote was acknowledged before cutoff, in which case one must be
// there. For the database itself after everything, both are "now".
func (s *voteState) allowed(cutoff, until time.Time) (choices []string, hadAck bool) {
	last := -1
	for i, a := range s.attempts {
		if a.acked && a.done.Before(cutoff) {
			last = i
		}
	}
	if last >= 0 {
		choices = append(choices, s.attempts[last].choice)
	}
	for _, a := range s.attempts[last+1:] {
		if a.sent.Before(until) {
			choices = append(choices, a.choice)
		}
	}
	return choices, last >= 0
}

// voteStats counts what all voters saw.
type voteStats struct {
	sent, acked, changes, unanswered, refusedOver, receipts, lost, serverErrors atomic.Int64
	mu                                                                          sync.Mutex
	problems                                                                    []string
}

func (s *voteStats) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) < 50 {
		s.problems = append(s.problems, fmt.Sprintf(format, args...))
	}
}

// voter is one member voting again and again on the ballots, changing
// their mind at random, as fast as the pause allows.
type voter struct {
	m      *chaosMember
	rng    *rand.Rand
	states map[int64]*voteState // owned by the voter's goroutine until it ends
}

var (
	receiptCode = regexp.MustCompile(`id="receipt-code" type="text" readonly value="([A-Z2-7-]+)"`)
	choices     = []string{"yes", "no", "abstain"}
)

func (v *voter) run(ctx context.Context, p frontend, ballots []ballot, pause time.Duration, stats *voteStats) {
	for ctx.Err() == nil {
		time.Sleep(pause/2 + time.Duration(v.rng.Int64N(int64(pause))))
		b := ballots[v.rng.IntN(len(ballots))]
		st := v.states[b.id]
		if st == nil {
			st = &voteState{}
			v.states[b.id] = st
		}
		if st.lost || st.over {
			continue
		}
		choice := choices[v.rng.IntN(len(choices))]
		form := url.Values{"choice": {choice}}
		if b.secret && st.receipt != "" {
			form.Set("receipt", st.receipt)
		}
		sent := time.Now()
		r, err := v.m.post(p, fmt.Sprintf("/proposals/%d/vote", b.id), form)
		done := time.Now()
		if notSent(err) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		stats.sent.Add(1)
		switch {
		case err != nil || r.status >= 500:
			// No answer (the server died under it) or a failure: the vote
			// may or may not be stored.
			if err == nil {
				stats.serverErrors.Add(1)
				stats.problem("%s voting in %d: status %d", v.m.email, b.id, r.status)
			}
			stats.unanswered.Add(1)
			st.attempts = append(st.attempts, attempt{choice: choice, sent: sent, done: done})
		case r.status == http.StatusSeeOther:
			stats.acked.Add(1)
			if len(st.attempts) > 0 && (!b.secret || st.receipt != "") {
				stats.changes.Add(1)
			}
			if b.secret && st.receipt == "" {
				// Every earlier unanswered first vote was not stored after
				// all, or this one would have been refused as a second vote.
				st.attempts = nil
				receipt, err := v.m.takeReceipt(p, b.id)
				if err != nil {
					stats.problem("%s: acknowledged secret vote in %d: %v", v.m.email, b.id, err)
					st.lost = true
					continue
				}
				st.receipt = receipt
				stats.receipts.Add(1)
			}
			st.attempts = append(st.attempts, attempt{choice: choice, sent: sent, done: done, acked: true})
		case r.status == http.StatusConflict && b.secret && st.receipt == "" && len(st.attempts) > 0:
			st.lost = true
			stats.lost.Add(1)
		case r.status == http.StatusUnprocessableEntity && strings.Contains(r.body, "Voting is not open"):
			if done.Before(b.closesAt) {
				stats.problem("%s: ballot %d refused a vote as closed at %s, before it closes at %s", v.m.email, b.id,
					done.Format(time.StampMilli), b.closesAt.Format(time.StampMilli))
			}
			st.over = true
			stats.refusedOver.Add(1)
		default:
			stats.problem("%s voting %s in %d: unexpected status %d", v.m.email, choice, b.id, r.status)
		}
	}
}

// takeReceipt reads the receipt that the answer to a first secret vote
// left in the flash cookie, from the page it redirects to. The cookie jar
// is put back as it was if that page does not arrive whole, so a kill in
// between loses nothing: the next server shows the same flash.
func (m *chaosMember) takeReceipt(p frontend, id int64) (string, error) {
	home := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/"}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		saved := m.web.HTTP.Jar.Cookies(home)
		r, err := m.do(p, http.MethodGet, fmt.Sprintf("/proposals/%d", id), nil)
		if err == nil && r.status == http.StatusOK {
			if mm := receiptCode.FindStringSubmatch(r.body); mm != nil {
				return mm[1], nil
			}
			return "", errors.New("the page after it shows no receipt")
		}
		for _, c := range saved {
			c.Path = "/"
		}
		m.web.HTTP.Jar.SetCookies(home, saved)
	}
	return "", errors.New("no page with the receipt within two minutes")
}

// openSQL opens the database directly, as an operator with the sqlite3
// shell or psql would. A PostgreSQL database is opened through Plenary's
// own connections (internal/db), which take the same SQL as SQLite's (?
// placeholders, not ?1); what differs is in ledgerProposal.
func openSQL(t *testing.T, path string, readOnly bool) *sql.DB {
	t.Helper()
	if db.IsPostgresURL(path) {
		d, err := db.Open(context.Background(), path, "", db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if readOnly {
			return d.R.DB
		}
		return d.W.DB
	}
	dsn := "file:" + path + "?_busy_timeout=10000"
	if readOnly {
		dsn += "&mode=ro"
	}
	d, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	d.SetMaxOpenConns(1)
	t.Cleanup(func() { d.Close() })
	return d
}

// ledgerProposal is the SQL for the proposal a ledger entry's body names
// (its "proposal" field), as a number.
func ledgerProposal(path string) string {
	if db.IsPostgresURL(path) {
		return `(body::json ->> 'proposal')::bigint`
	}
	return `json_extract(body, '$.proposal')`
}

// closesAt reads a ballot's closing time from the database.
func closesAt(t *testing.T, path string, id int64) time.Time {
	t.Helper()
	d := openSQL(t, path, true)
	defer d.Close()
	var at time.Time
	if err := d.QueryRow(`SELECT closes_at FROM proposals WHERE id = ?`, id).Scan(&at); err != nil {
		t.Fatalf("closes_at of %d: %v", id, err)
	}
	return at
}

// checkVotes compares what the database at path holds for each ballot
// with what the voters were told (see allowed for cutoff and until), and
// checks each box or roll-call against its roll. It returns how many
// acknowledged votes it found.
func checkVotes(t *testing.T, path string, ballots []ballot, voters []*voter, cutoff, until time.Time) int {
	t.Helper()
	d := openSQL(t, path, true)
	defer d.Close()
	found := 0
	for _, b := range ballots {
		var voted, stored int
		table := "votes"
		if b.secret {
			table = "ballot_box"
		}
		err := d.QueryRow(`SELECT (SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1),
			(SELECT count(*) FROM `+table+` WHERE proposal_id = ?)`, b.id, b.id).Scan(&voted, &stored)
		if err != nil {
			t.Fatal(err)
		}
		if voted != stored {
			t.Errorf("ballot %d: the roll says %d voted but %s holds %d", b.id, voted, table, stored)
		}
		for _, v := range voters {
			st := v.states[b.id]
			if st == nil {
				continue
			}
			var member int64
			if err := d.QueryRow(`SELECT id FROM members WHERE email = ?`, v.m.email).Scan(&member); err != nil {
				t.Fatal(err)
			}
			var onRoll int
			if err := d.QueryRow(`SELECT voted FROM roll WHERE proposal_id = ? AND member_id = ?`, b.id, member).Scan(&onRoll); err != nil {
				t.Fatalf("%s on the roll of %d: %v", v.m.email, b.id, err)
			}
			want, hadAck := st.allowed(cutoff, until)
			var got string
			switch {
			case b.secret && st.receipt != "":
				err = d.QueryRow(`SELECT choice FROM ballot_box WHERE proposal_id = ? AND receipt_hash = ?`, b.id,
					governance.ReceiptHash(st.receipt)).Scan(&got)
			case b.secret:
				// No receipt: nothing to find the ballot by. The roll says
				// whether an unanswered first vote was stored.
				if (st.lost && onRoll != 1) || (!st.lost && len(st.attempts) == 0 && onRoll != 0) {
					t.Errorf("ballot %d: %s is marked voted=%d, yet lost=%v after %d unanswered tries", b.id, v.m.email, onRoll, st.lost, len(st.attempts))
				}
				continue
			default:
				err = d.QueryRow(`SELECT choice FROM votes WHERE proposal_id = ? AND member_id = ?`, b.id, member).Scan(&got)
			}
			if errors.Is(err, sql.ErrNoRows) {
				err, got = nil, ""
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != "" && onRoll != 1 {
				t.Errorf("ballot %d: %s has a stored vote but is not marked as voted", b.id, v.m.email)
			}
			switch {
			case got == "" && hadAck:
				t.Errorf("ballot %d: the acknowledged vote of %s (%v) is missing", b.id, v.m.email, want)
			case got != "" && !slices.Contains(want, got):
				t.Errorf("ballot %d: %s's vote is stored as %q; it may only be one of %v", b.id, v.m.email, got, want)
			case got != "" && hadAck:
				found++
			}
		}
	}
	return found
}
