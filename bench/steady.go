package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The steady, open-loop load of issue 17. A burst of closed-loop requests
// cannot tell throughput from queueing: its p99 is the time the burst
// takes. Here vegeta offers requests at a fixed rate for a fixed time,
// whatever the server answers, and a step is sustained when its p99 stays
// under the limit with no errors. The votes are the last hour of a big
// ballot: logged-in members who keep changing their vote (a secret ballot
// by its receipt), each with their own session, CSRF token and receipt.

// Step is one offered rate held for a while.
type Step struct {
	Multiple float64 `json:"multiple_of_ceiling"`
	Offered  float64 `json:"offered_per_s"`
	Achieved float64 `json:"achieved_per_s"` // acknowledged answers over the step's time
	Requests int     `json:"requests"`
	// Unsent are the requests the rate asked for that could not be sent:
	// every one of maxWorkers was waiting for an answer.
	Unsent    int            `json:"unsent"`
	P50       float64        `json:"p50_ms"`
	P99       float64        `json:"p99_ms"`
	Max       float64        `json:"max_ms"`
	Errors    map[string]int `json:"errors"`
	ServerCPU float64        `json:"server_cpu_ms_per_request"`
	// ClientBusy is the share of its CPU the load generator used: near 1,
	// the client, not the server, set the pace.
	ClientBusy float64 `json:"client_cpu_busy"`
	Sustained  bool    `json:"sustained"`
}

// ErrorCount is how many requests failed, whatever their reason.
func (s Step) ErrorCount() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// Curve is a load at several offered rates, and the highest one sustained.
type Curve struct {
	Steps       []Step  `json:"steps"`
	Sustainable float64 `json:"sustainable_per_s"`
	Ratio       float64 `json:"sustainable_ratio_to_ceiling"`
}

// judge sets each step's verdict and the curve's sustainable rate.
func (c *Curve) judge(limit time.Duration, ceiling float64) {
	c.Sustainable = 0
	for i, s := range c.Steps {
		c.Steps[i].Sustained = s.Requests > 0 && s.Unsent == 0 && s.ErrorCount() == 0 && s.P99 < ms(limit)
		if c.Steps[i].Sustained && s.Offered > c.Sustainable {
			c.Sustainable = s.Offered
		}
	}
	if ceiling > 0 {
		c.Ratio = round(c.Sustainable/ceiling, 2)
	}
}

// maxWorkers bounds the requests in flight in a step.
const maxWorkers = 1024

// attack offers targets at rate for d and folds the answers into a step;
// each answer is also handed to seen (which may be nil). want is the
// status that counts as success.
func attack(ctx context.Context, targets vegeta.Targeter, rate float64, d time.Duration, want int, cpu func() time.Duration,
	seen func(*vegeta.Result)) Step {
	// A transport of the step's own, closed after it: the connections a
	// step opened must not stay open on the server through the next ones
	// (they held half a gigabyte of its memory by the last page).
	tr := &http.Transport{MaxIdleConnsPerHost: maxWorkers}
	defer tr.CloseIdleConnections()
	atk := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: tr}),
		vegeta.Redirects(vegeta.NoFollow), // a vote's answer is its 303, not the page after it
		vegeta.Timeout(10*time.Second),
		vegeta.KeepAlive(true),
		vegeta.Workers(16),
		// At most maxWorkers requests in flight, each on its own
		// connection: past that a step is overload anyway, and the
		// requests vegeta could not send show as the shortfall.
		vegeta.MaxWorkers(maxWorkers),
		vegeta.MaxConnections(maxWorkers),
		vegeta.MaxBody(0),
	)
	pace := vegeta.Rate{Freq: int(rate + 0.5), Per: time.Second}
	var m vegeta.Metrics
	step := Step{Offered: float64(pace.Freq), Errors: map[string]int{}}
	before, began, mine := cpu(), time.Now(), ownCPU()
	results := atk.Attack(targets, pace, d, "step")
	ok := 0
	for done := false; !done; {
		select {
		case <-ctx.Done():
			atk.Stop()
			done = true
		case res, open := <-results:
			if !open {
				done = true
				break
			}
			m.Add(res)
			switch {
			case res.Error != "" && res.Code == 0:
				step.Errors[briefly(res.Error)]++
			case int(res.Code) != want:
				step.Errors["status "+strconv.Itoa(int(res.Code))]++
			default:
				ok++
			}
			if seen != nil {
				seen(res)
			}
		}
	}
	m.Close()
	wall := time.Since(began)
	step.ClientBusy = round(float64(ownCPU()-mine)/float64(wall)/float64(max(runtime.GOMAXPROCS(0), 1)), 2)
	step.Requests = int(m.Requests)
	// The pacer's own count of what it should have sent, less 1% for the
	// last tick's rounding.
	if want := int(float64(pace.Freq) * d.Seconds() * 0.99); step.Requests < want {
		step.Unsent = want - step.Requests
	}
	step.Achieved = round(float64(ok)/wall.Seconds(), 1)
	step.P50, step.P99, step.Max = ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max)
	if ok > 0 {
		step.ServerCPU = round(float64(cpu()-before)/float64(time.Millisecond)/float64(ok), 3)
	}
	return step
}

// ownCPU is the CPU time this process has used, user and system.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// briefly names a transport error by its kind, so that errors count by
// reason rather than one line each.
func briefly(err string) string {
	switch {
	case strings.Contains(err, "timeout") || strings.Contains(err, "deadline"):
		return "timeout"
	case strings.Contains(err, "refused"):
		return "connection refused"
	case strings.Contains(err, "reset"):
		return "connection reset"
	case strings.Contains(err, "EOF"):
		return "connection closed (EOF)"
	}
	return "transport error"
}

// steadyVoter is a member taking part in the steady vote load: their
// session and ballot, and what they sent, for the check afterwards.
type steadyVoter struct {
	cookie  string
	token   string
	ballot  int64
	secret  bool
	receipt string

	mu       sync.Mutex
	queued   bool // waiting in the idle queue
	inFlight int
	// overlapped: two of their votes were in flight at once (the load
	// outran the voters), so which of them is stored last is not known
	// and their ballot is not checked.
	overlapped bool
	sent       []string // the choices sent, in order
	answered   []bool   // whether each was acknowledged (303)
}

// expected are the choices that may be stored for the voter: the last
// acknowledged one, or one sent after it that was not acknowledged (it may
// have been stored before its answer was lost).
func (v *steadyVoter) expected() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for i := len(v.sent) - 1; i >= 0; i-- {
		out = append(out, v.sent[i])
		if v.answered[i] {
			break
		}
	}
	return out
}

// voteLoad is the steady vote load's state across its steps.
type voteLoad struct {
	base   string
	voters []*steadyVoter
	idle   chan int
	next   atomic.Uint64
}

var (
	voteFragment = regexp.MustCompile(`#v(\d+)-(\d+)$`)
	receiptValue = regexp.MustCompile(`id="receipt-code" type="text" readonly value="([A-Z2-7-]+)"`)
	ownChoice    = regexp.MustCompile(`You voted <strong>(\w+)</strong>`)
)

// targeter hands out the next vote: an idle voter's, choosing afresh; if
// every voter has a vote in flight, the next one round the circle (their
// ballot is then left out of the check). The voter and the send's number
// ride in the URL's fragment, which is never sent, so that the answer can
// be matched to them.
func (l *voteLoad) targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		var i int
		fromQueue := true
		select {
		case i = <-l.idle:
		default:
			// Answers are read one at a time; give them a moment to free
			// a voter before doubling one up.
			select {
			case i = <-l.idle:
			case <-time.After(100 * time.Millisecond):
				fromQueue, i = false, int(l.next.Add(1)%uint64(len(l.voters)))
			}
		}
		v := l.voters[i]
		choice := choices[rand.IntN(len(choices))]
		v.mu.Lock()
		if fromQueue {
			v.queued = false
		}
		v.inFlight++
		if v.inFlight > 1 {
			v.overlapped = true
		}
		n := len(v.sent)
		v.sent, v.answered = append(v.sent, choice), append(v.answered, false)
		v.mu.Unlock()
		form := url.Values{"csrf_token": {v.token}, "choice": {choice}}
		if v.secret {
			form.Set("receipt", v.receipt)
		}
		t.Method = http.MethodPost
		t.URL = fmt.Sprintf("%s/proposals/%d/vote#v%d-%d", l.base, v.ballot, i, n)
		t.Body = []byte(form.Encode())
		t.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {v.cookie}}
		return nil
	}
}

// answered records a vote's answer and puts its voter back in the queue.
func (l *voteLoad) answered(res *vegeta.Result) {
	m := voteFragment.FindStringSubmatch(res.URL)
	if m == nil {
		return
	}
	i, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	v := l.voters[i]
	v.mu.Lock()
	defer v.mu.Unlock()
	v.inFlight--
	if res.Code == http.StatusSeeOther && n < len(v.answered) {
		v.answered[n] = true
	}
	if v.inFlight == 0 && !v.queued {
		v.queued = true
		l.idle <- i
	}
}

// VoteCurve is the steady vote load's figures.
type VoteCurve struct {
	Curve
	Voters     int      `json:"voters"`
	Ballots    []int64  `json:"ballots"` // the secret one, then the open one
	StepS      float64  `json:"step_s"`
	Checked    int      `json:"voters_checked"`
	Overlapped int      `json:"voters_overlapped"`
	Verified   bool     `json:"verified"`
	Turnout    []string `json:"turnout"`
	Logins     Stats    `json:"logins"`
}

// steadyVotes logs the voters in, has each cast a first vote (untimed;
// a secret ballot's voter keeps the receipt), then offers changes of vote
// at each multiple of the raw insert rate for d, and last checks every
// voter's stored vote against what was acknowledged.
func steadyVotes(ctx context.Context, srv fleet, p *prepared, cfg config, raw float64, mem *memoryWatch, notes []string) (VoteCurve, []string) {
	f := VoteCurve{Ballots: []int64{p.ballots[0], p.openBallot}, StepS: cfg.voteFor.Seconds()}
	tr := newTransport(len(p.voters) + 8)
	defer tr.CloseIdleConnections()
	load := &voteLoad{base: srv[0].base, idle: make(chan int, len(p.voters))}
	logins := newRecorder()
	var mu sync.Mutex
	slots := make(chan struct{}, cfg.loginConcurrency)
	var wg sync.WaitGroup
	mem.setPhase("login")
	progress("logging in %d voters, %d at a time, and casting their first votes", len(p.voters), cfg.loginConcurrency)
	began, cpu := time.Now(), srv.cpu()
	var firstErr string
	for i, email := range p.voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			closed := int64(0)
			if p.closedCreated {
				closed = p.closed.ID
			}
			v, err := firstVote(ctx, tr, srv.base(i), email, f.Ballots[i%2], i%2 == 0, closed, logins)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = err.Error()
				return
			}
			load.voters = append(load.voters, v)
		}()
	}
	wg.Wait()
	f.Logins = logins.stats(time.Since(began))
	f.Logins.chargeCPU(srv.cpu() - cpu)
	if firstErr != "" {
		notes = append(notes, "a voter could not log in or vote: "+firstErr)
	}
	f.Voters = len(load.voters)
	if f.Voters == 0 {
		return f, append(notes, "no voter could vote; the vote load did not run")
	}
	for i := range load.voters {
		load.voters[i].queued = true
		load.idle <- i
	}

	mem.setPhase("votes")
	for _, x := range []float64{0.5, 1, 2, 4} {
		rate := max(x*raw, 1)
		progress("votes: %.0f a second (%.1f× the raw insert rate) for %s", rate, x, cfg.voteFor)
		if cfg.cpuProfile != "" && x == cfg.profileAt {
			srv[0].signal(profileSignal)
		}
		s := attack(ctx, load.targeter(), rate, cfg.voteFor, http.StatusSeeOther, srv.cpu, load.answered)
		if cfg.cpuProfile != "" && x == cfg.profileAt {
			srv[0].signal(profileSignal)
			notes = append(notes, fmt.Sprintf("CPU profile of the server during the %g× vote step: %s", x, cfg.cpuProfile))
		}
		s.Multiple = x
		progress("votes: %.1f a second acknowledged, p99 %.1f ms, %d errors, %.3f ms server CPU each", s.Achieved, s.P99, s.ErrorCount(), s.ServerCPU)
		f.Steps = append(f.Steps, s)
		// Let a queue left by an overloaded step drain before the next.
		time.Sleep(2 * time.Second)
		if ctx.Err() != nil {
			break
		}
	}
	f.judge(50*time.Millisecond, raw)

	mem.setPhase("vote check")
	f.Verified, notes = checkVotes(ctx, load, p, &f, notes)
	return f, notes
}

// firstVote logs a voter in, votes once and reads back their CSRF token,
// their session cookie and, in a secret ballot, their receipt. If closed
// is a ballot the bench started to close after a minute, they vote on it
// too, untimed, so that its result page has a box worth reading.
func firstVote(ctx context.Context, tr http.RoundTripper, base, email string, ballot int64, secret bool, closed int64,
	logins *recorder) (*steadyVoter, error) {
	b := newBrowser(tr, base)
	t0 := time.Now()
	err := b.login(ctx, email)
	logins.add(time.Since(t0), loginProblem(err))
	if err != nil {
		return nil, err
	}
	page := fmt.Sprintf("/proposals/%d", ballot)
	token, err := b.csrf(ctx, page)
	if err != nil {
		return nil, err
	}
	v := &steadyVoter{token: token, ballot: ballot, secret: secret, sent: []string{"yes"}, answered: []bool{true}}
	a, err := b.post(ctx, page+"/vote", url.Values{"csrf_token": {token}, "choice": {"yes"}})
	if bad := problem(a.status, err, http.StatusSeeOther); bad != "" {
		return nil, fmt.Errorf("first vote of %s: %s", email, bad)
	}
	if closed != 0 {
		b.post(ctx, fmt.Sprintf("/proposals/%d/vote", closed), url.Values{"csrf_token": {token}, "choice": {choices[rand.IntN(len(choices))]}})
	}
	u, _ := url.Parse(base + page)
	var cookies []string
	for _, c := range b.client.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	v.cookie = strings.Join(cookies, "; ")
	if secret {
		a, err := b.get(ctx, page)
		m := receiptValue.FindStringSubmatch(a.body)
		if err != nil || m == nil {
			return nil, fmt.Errorf("first vote of %s: no receipt on the page after it (status %d, %v)", email, a.status, err)
		}
		v.receipt = m[1]
	}
	return v, nil
}

// checkVotes reads each voter's own vote in the open ballot from its page
// and compares it with what was acknowledged; in the secret ballot, where
// no page says how a member voted, it checks the turnout (the crash tests
// find every acknowledged receipt in the published box).
func checkVotes(ctx context.Context, load *voteLoad, p *prepared, f *VoteCurve, notes []string) (bool, []string) {
	ok := true
	perBallot := map[int64]int{}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tr := newTransport(8)
	defer tr.CloseIdleConnections()
	for _, v := range load.voters {
		perBallot[v.ballot]++
		if v.overlapped {
			f.Overlapped++
			continue
		}
		if v.secret {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := newBrowser(tr, load.base)
			u, _ := url.Parse(load.base)
			var cookies []*http.Cookie
			for _, c := range strings.Split(v.cookie, "; ") {
				if name, value, found := strings.Cut(c, "="); found {
					cookies = append(cookies, &http.Cookie{Name: name, Value: value})
				}
			}
			b.client.Jar.SetCookies(u, cookies)
			a, err := b.get(ctx, fmt.Sprintf("/proposals/%d", v.ballot))
			m := ownChoice.FindStringSubmatch(a.body)
			mu.Lock()
			defer mu.Unlock()
			f.Checked++
			switch want := v.expected(); {
			case err != nil || m == nil:
				ok = false
				notes = append(notes, fmt.Sprintf("vote check: a voter's page says no choice (status %d, %v)", a.status, err))
			case !slices.Contains(want, m[1]):
				ok = false
				notes = append(notes, fmt.Sprintf("vote check: a voter's stored vote is %s; what was acknowledged allows %v", m[1], want))
			}
		}()
	}
	wg.Wait()
	for _, ballot := range f.Ballots {
		line, err := verifyTurnout(ctx, p.admin, ballot, perBallot[ballot])
		f.Turnout = append(f.Turnout, line)
		if err != nil {
			ok = false
			notes = append(notes, err.Error())
		}
	}
	return ok, notes
}

// PageCurve is one page's steady load.
type PageCurve struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Curve
	// Control is the bare gin handler answering ControlBytes, as many
	// as the page, offered the same steps just before it; Misses are the
	// steps not sustained, each with the control's verdict at the same
	// step: whose limit it was (control.go).
	Control      *Curve `json:"control,omitempty"`
	ControlBytes int    `json:"control_bytes,omitempty"`
	Misses       []Miss `json:"misses,omitempty"`
}

// pageMultiples are the shares of the gin ceiling each page is offered.
var pageMultiples = []float64{0.15, 0.3, 0.45, 0.6}

// steadyPages offers each page, anonymously, at shares of the bare gin
// handler's rate; a step is sustained at p99 under 25 ms with no errors.
// Just before each page its control runs (control.go), with Plenary idle
// beside it: the machine as the page will find it. A control that cannot
// run leaves that page's misses unjudged, and says why in notes.
func steadyPages(ctx context.Context, srv fleet, closedID int64, cfg config, gin float64, mem *memoryWatch) (pages []PageCurve, notes []string) {
	pages = []PageCurve{
		{Name: "home", Path: "/"},
		{Name: "library search", Path: "/library?q=platform&topic=platform+co-ops"},
		{Name: "demands", Path: "/demands"},
		{Name: "closed result", Path: fmt.Sprintf("/proposals/%d", closedID)},
		{Name: "api resources", Path: "/api/v1/resources"},
	}
	for i := range pages {
		var urls []string
		for _, s := range srv {
			urls = append(urls, s.base+pages[i].Path)
		}
		mem.setPhase("control")
		size, err := answerSize(ctx, urls[0])
		if err == nil {
			var control Curve
			if control, err = ginControl(ctx, cfg, gin, size); err == nil {
				pages[i].Control, pages[i].ControlBytes = &control, size
			}
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: the control did not run, so its misses are not told the server's or the client's: %v", pages[i].Name, err))
		}
		mem.setPhase("reads")
		pages[i].Curve = pageSteps(ctx, roundRobin(urls), "reads: "+pages[i].Path, cfg.pageFor, gin, srv.cpu)
	}
	return pages, notes
}

// roundRobin GETs urls in turn, one per Plenary process.
func roundRobin(urls []string) vegeta.Targeter {
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, urls[int(n.Add(1))%len(urls)]
		return nil
	}
}

// pageSteps offers targets at each of pageMultiples of gin for d, and
// judges the curve; cpu is the CPU clock of whatever answers. The pages
// and the control (control.go) share it, so that they differ only in what
// answers.
func pageSteps(ctx context.Context, targets vegeta.Targeter, what string, d time.Duration, gin float64, cpu func() time.Duration) Curve {
	var c Curve
	for _, x := range pageMultiples {
		rate := max(x*gin, 1)
		progress("%s at %.0f a second (%.2f× gin) for %s", what, rate, x, d)
		s := attack(ctx, targets, rate, d, http.StatusOK, cpu, nil)
		s.Multiple = x
		c.Steps = append(c.Steps, s)
		time.Sleep(time.Second)
		// A step far past what the page sustains says all the higher
		// ones would: skip them rather than queue for a minute.
		if s.P99 > 1000 || s.ErrorCount() > s.Requests/10 || ctx.Err() != nil {
			break
		}
	}
	c.judge(25*time.Millisecond, gin)
	return c
}
