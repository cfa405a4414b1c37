package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"plenary/internal/db"
)

// The scale mode measures issue 5's targets on a database as big as the
// issue names, built beforehand by "plenary demo": copying 1.5 GB for each
// run would cost more than the run, so it works on the file in place and
// writes only what it must to time opening a ballot.

// ScaleResults are every figure of a scale run; the JSON line is this.
type ScaleResults struct {
	Machine  Machine       `json:"machine"`
	Database ScaleDatabase `json:"database"`
	StartS   float64       `json:"server_start_s"`
	LoginMS  float64       `json:"admin_login_ms"`
	// Member is the ordinary active member whose pages are read too.
	Member   string        `json:"member"`
	Requests int           `json:"requests_per_page"`
	Conns    int           `json:"concurrent_conns"`
	Pages    []PageFigures `json:"pages"`
	Ledger   CommandRun    `json:"ledger_verify"`
	Tallies  []CommandRun  `json:"tally_verify"`
	Open     BallotFigures `json:"open_ballot"`
	Mail     *MailFigures  `json:"mail,omitempty"`
	After    CommandRun    `json:"ledger_verify_after_writes"`
	Memory   MemoryFigures `json:"memory"`
	Server   ServerLog     `json:"server_log"`
	Targets  []Target      `json:"targets"`
	Met      bool          `json:"all_targets_met"`
	Notes    []string      `json:"notes,omitempty"`
}

// ScaleDatabase is what the file holds, as the server reports it.
type ScaleDatabase struct {
	Path          string  `json:"path"`
	SizeMB        float64 `json:"size_mb"`
	GrewMB        float64 `json:"grew_mb"`
	Resources     int     `json:"resources"`
	ClosedBallots int     `json:"closed_ballots"`
	LatestRoll    int     `json:"latest_roll"`
}

// PageFigures are one page as one kind of visitor sees it: the first
// request of the run, then -scale-requests one at a time, then as many
// again over -scale-conns connections.
type PageFigures struct {
	Path       string  `json:"path"`
	As         string  `json:"as"` // "anonymous", "admin" or "member"
	ColdMS     float64 `json:"cold_ms"`
	Sequential Latency `json:"sequential"`
	Concurrent Latency `json:"concurrent"`
}

// Latency sums up a page's timed requests, in milliseconds.
type Latency struct {
	Count  int            `json:"requests"`
	PerSec float64        `json:"per_s"`
	P50    float64        `json:"p50_ms"`
	P95    float64        `json:"p95_ms"`
	Max    float64        `json:"max_ms"`
	Errors map[string]int `json:"errors,omitempty"`
}

func (l Latency) errorCount() int {
	n := 0
	for _, c := range l.Errors {
		n += c
	}
	return n
}

// CommandRun is one run of a plenary command on the file.
type CommandRun struct {
	Args     string  `json:"args"`
	Seconds  float64 `json:"seconds"`
	MaxRSSMB float64 `json:"max_rss_mb"`
	OK       bool    `json:"ok"`
	Output   string  `json:"output"`
}

// BallotFigures time opening a motion for the whole co-op and voting on
// it, each one POST as the admin.
type BallotFigures struct {
	ProposalID int64     `json:"proposal_id"`
	OpenMS     float64   `json:"open_ms"`
	RollSize   int       `json:"roll_size"`
	VoteMS     float64   `json:"vote_ms"`
	ClosesAt   time.Time `json:"closes_at"`
	Closed     bool      `json:"closed_in_run"`
	// answered is when the POST that opened it returned: its messages
	// are due from then.
	answered time.Time
}

// closeWait is the longest voting period the run waits out, so as to
// leave no ballot running in the file; a demo's rules allow one minute.
const closeWait = 5 * time.Minute

// scaleSubjects are the things the pages are about, found in the file.
type scaleSubjects struct {
	topic     string
	resource  int64
	demand    int64
	resources int
	// ballots are every closed ballot, those with the most votes first:
	// the first one's page is read, the first three are recounted.
	ballots []closedBallot
}

type closedBallot struct {
	ID       int64 `json:"id"`
	RollSize int   `json:"roll_size"`
	Result   struct {
		Yes, No, Abstain int
	} `json:"result"`
	ClosedAt time.Time `json:"closed_at"`
}

// apiMeta is the API's paging of a list.
type apiMeta struct {
	Total int `json:"total"`
	Pages int `json:"pages"`
}

func (b closedBallot) turnout() int { return b.Result.Yes + b.Result.No + b.Result.Abstain }

// runScale is the whole scale run: start the server on the file, find what
// to read, read every page, verify the ledger and some tallies, open a
// ballot, report.
func runScale(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	progressOut = stderr
	dir, done, err := workDir("plenary-scale-", "server.log", cfg.keep)
	if err != nil {
		return err
	}
	defer done()
	res := &ScaleResults{Machine: thisMachine(), Requests: cfg.scaleRequests, Conns: cfg.scaleConns}
	res.Machine.LoadBefore = loadAverage()
	size := fileSize(cfg.scaleDB)
	res.Database = ScaleDatabase{Path: db.Redact(cfg.scaleDB), SizeMB: round(float64(size)/(1<<20), 1)}

	bin := cfg.bin
	if bin == "" {
		if bin, err = build(ctx, dir); err != nil {
			return err
		}
	}

	// The server sends through a Mailpit of the run's own (issue 13);
	// without one, the run goes on and says why it has no mail figures.
	var serveMail []string
	mp, err := startMailpit(ctx, dir)
	if err != nil {
		res.Notes = append(res.Notes, "no mail figures: "+err.Error())
	} else {
		defer mp.stop()
		serveMail = []string{"-smtp-addr", mp.smtp, "-smtp-from", "plenary@bench.example"}
	}
	began := time.Now()
	srv, err := startServer(ctx, bin, cfg.scaleDB, dir, serveMail...)
	if err != nil {
		return fmt.Errorf("the server would not serve %s: %w", cfg.scaleDB, err)
	}
	defer srv.stop()
	res.StartS = round(time.Since(began).Seconds(), 2)
	mem := srv.watchMemory()
	defer mem.stop()

	mem.setPhase("setup")
	admin := newBrowser(newTransport(cfg.scaleConns), srv.base)
	t0 := time.Now()
	if err := admin.loginWith(ctx, cfg.scaleAdmin, cfg.scalePassword); err != nil {
		return fmt.Errorf("log in as the demo admin %s (set -scale-password if the demo ran with PLENARY_PASSWORD): %w", cfg.scaleAdmin, err)
	}
	res.LoginMS = ms(time.Since(t0))
	found, err := findSubjects(ctx, admin)
	if err != nil {
		return err
	}
	res.Database.Resources, res.Database.ClosedBallots = found.resources, len(found.ballots)
	res.Database.LatestRoll = slices.MaxFunc(found.ballots, func(a, b closedBallot) int { return a.ClosedAt.Compare(b.ClosedAt) }).RollSize

	// An ordinary member sees pages the admin does not (what awaits their
	// vote, their own part in each ballot) and none of the admin's: they
	// are read as such a member too, one of the demo's, who share its
	// password.
	if res.Member, err = findMember(ctx, admin); err != nil {
		return err
	}
	member := newBrowser(newTransport(cfg.scaleConns), srv.base)
	if err := member.loginWith(ctx, res.Member, cfg.scalePassword); err != nil {
		return fmt.Errorf("log in as the demo member %s: %w", res.Member, err)
	}

	anon := newBrowser(newTransport(cfg.scaleConns), srv.base)
	res.Pages = scalePages(found)
	who := map[string]*browser{"anonymous": anon, "admin": admin, "member": member}
	res.readPages(ctx, mem, who, cfg)

	mem.setPhase("verify")
	res.Ledger = runCommand(ctx, bin, "ledger", "verify", "-db", cfg.scaleDB)
	for _, b := range found.ballots[:min(3, len(found.ballots))] {
		res.Tallies = append(res.Tallies, runCommand(ctx, bin, "tally", "verify", "-db", cfg.scaleDB, strconv.FormatInt(b.ID, 10)))
	}

	mem.setPhase("open ballot")
	res.Open, err = openBallot(ctx, admin)
	if err == nil && time.Until(res.Open.ClosesAt) > time.Minute/2 {
		// The only running ballot in the file: its page, with the vote
		// form for the member, is read now, while it runs. The sender is
		// delivering its voting_opened messages meanwhile.
		running := []PageFigures{{Path: fmt.Sprintf("/proposals/%d", res.Open.ProposalID), As: "member"},
			{Path: fmt.Sprintf("/proposals/%d", res.Open.ProposalID), As: "admin"}}
		mem.setPhase("running ballot reads")
		res.Pages = append(res.Pages, readEach(ctx, &res.Notes, running, who, cfg)...)
		if mp != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("the running ballot's page was read while the server sent its %d voting_opened messages", res.Open.RollSize))
		}
	}
	if err == nil && mp != nil {
		m, merr := measureMail(ctx, cfg.scaleDB, res.Open, mp, mem)
		if merr != nil {
			res.Notes = append(res.Notes, "mail: "+merr.Error())
		}
		res.Mail = &m
	}
	switch {
	case err != nil:
		res.Notes = append(res.Notes, err.Error())
	case time.Until(res.Open.ClosesAt) <= closeWait:
		// A ballot that is voting cannot be cancelled: it is waited out.
		mem.setPhase("ballot closing")
		if err := waitClosed(ctx, srv.base, proposalRef{ID: res.Open.ProposalID, ClosesAt: res.Open.ClosesAt}); err != nil {
			res.Notes = append(res.Notes, err.Error())
		} else {
			res.Open.Closed = true
		}
	default:
		res.Notes = append(res.Notes, fmt.Sprintf("ballot %d stays open in %s until %s: the motion rule's shortest period is longer than the run waits",
			res.Open.ProposalID, cfg.scaleDB, res.Open.ClosesAt.Format(time.RFC3339)))
	}

	res.Memory = mem.figures()
	res.Machine.LoadAfter = loadAverage()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run cut short: %w", err)
	}
	srv.stop()
	res.Server = srv.logSummary()
	// The chain must still hold with the run's own entries at its head.
	res.After = runCommand(ctx, bin, "ledger", "verify", "-db", cfg.scaleDB)
	res.Database.GrewMB = round(float64(fileSize(cfg.scaleDB)-size)/(1<<20), 2)
	res.judge()
	res.print(stdout)
	return nil
}

// fileSize is the database's size on disk: the file and its write-ahead
// log, or on PostgreSQL what pg_database_size says.
func fileSize(path string) int64 {
	if db.IsPostgresURL(path) {
		return postgresSize(path)
	}
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// findSubjects asks the API, as the admin so that the anonymous page cache
// stays cold, for a topic that matches a search for "platform", a
// resource, a demand and the closed ballots.
func findSubjects(ctx context.Context, admin *browser) (scaleSubjects, error) {
	var f scaleSubjects
	var search struct {
		Data   []struct{ ID int64 }
		Meta   apiMeta
		Facets struct {
			Topic []struct {
				Value string
				Count int
			}
		}
	}
	if err := admin.getJSON(ctx, "/api/v1/resources?q=platform&page=1", &search); err != nil {
		return f, err
	}
	if len(search.Data) == 0 || len(search.Facets.Topic) == 0 {
		return f, fmt.Errorf("no resource in the file matches \"platform\"; is it a demo database?")
	}
	best := slices.MaxFunc(search.Facets.Topic, func(a, b struct {
		Value string
		Count int
	}) int {
		return cmp.Compare(a.Count, b.Count)
	})
	f.topic, f.resource = best.Value, search.Data[0].ID

	var all struct{ Meta apiMeta }
	if err := admin.getJSON(ctx, "/api/v1/resources?page=1&per_page=1", &all); err != nil {
		return f, err
	}
	f.resources = all.Meta.Total

	var demands struct{ Data []struct{ ID int64 } }
	if err := admin.getJSON(ctx, "/api/v1/demands?page=1", &demands); err != nil {
		return f, err
	}
	if len(demands.Data) == 0 {
		return f, fmt.Errorf("the file has no public demand")
	}
	f.demand = demands.Data[0].ID

	for page, pages := 1, 1; page <= pages; page++ {
		var list struct {
			Data []closedBallot
			Meta apiMeta
		}
		if err := admin.getJSON(ctx, fmt.Sprintf("/api/v1/proposals?page=%d", page), &list); err != nil {
			return f, err
		}
		f.ballots = append(f.ballots, list.Data...)
		pages = list.Meta.Pages
	}
	if len(f.ballots) == 0 {
		return f, fmt.Errorf("the file has no closed ballot")
	}
	slices.SortStableFunc(f.ballots, func(a, b closedBallot) int { return cmp.Compare(b.turnout(), a.turnout()) })
	top := f.ballots[0]
	progress("found topic %q, resource %d, demand %d, %d closed ballots (the largest, %d, has %d votes of a roll of %d)",
		f.topic, f.resource, f.demand, len(f.ballots), top.ID, top.turnout(), top.RollSize)
	return f, nil
}

// memberRow is an active member's row in the admin's list, not an admin's
// (whose name cell holds a badge after the link).
var memberRow = regexp.MustCompile(`<td><a href="/admin/members/\d+">[^<]*</a></td>\s*<td>([^<]+)</td>\s*<td><span class="badge active">`)

// findMember takes the first ordinary active member from the admin's list
// of active members.
func findMember(ctx context.Context, admin *browser) (string, error) {
	a, err := admin.get(ctx, "/admin/members?status=active")
	if err != nil || a.status != http.StatusOK {
		return "", fmt.Errorf("GET /admin/members?status=active: %s", problem(a.status, err, http.StatusOK))
	}
	m := memberRow.FindStringSubmatch(a.body)
	if m == nil {
		return "", errors.New("no ordinary active member on the first page of /admin/members?status=active")
	}
	email := html.UnescapeString(strings.TrimSpace(m[1]))
	progress("reading members' pages as %s", email)
	return email, nil
}

// scalePages are every public page, read by both kinds of visitor, then
// the member and admin pages people use most.
func scalePages(f scaleSubjects) []PageFigures {
	public := []string{"/", "/library", "/library?q=platform&topic=" + url.QueryEscape(f.topic),
		fmt.Sprintf("/library/%d", f.resource), "/demands", fmt.Sprintf("/demands/%d", f.demand),
		"/proposals", fmt.Sprintf("/proposals/%d", f.ballots[0].ID), "/ledger", "/api/v1/resources",
		"/api/v1/proposals", fmt.Sprintf("/api/v1/proposals/%d", f.ballots[0].ID), "/feed.atom"}
	var pages []PageFigures
	for _, as := range []string{"anonymous", "admin"} {
		for _, p := range public {
			pages = append(pages, PageFigures{Path: p, As: as})
		}
	}
	for _, p := range []string{"/account", "/proposals/new", "/admin/members", "/admin/library"} {
		pages = append(pages, PageFigures{Path: p, As: "admin"})
	}
	for _, p := range []string{"/", "/proposals", fmt.Sprintf("/proposals/%d", f.ballots[0].ID), "/account",
		"/library?q=platform&topic=" + url.QueryEscape(f.topic), "/ledger", "/demands", "/proxies", "/meetings"} {
		pages = append(pages, PageFigures{Path: p, As: "member"})
	}
	return pages
}

// readPages takes every page's first request, then its sequential, then
// its concurrent figures, each pass over all the pages before the next.
func (r *ScaleResults) readPages(ctx context.Context, mem *memoryWatch, who map[string]*browser, cfg config) {
	mem.setPhase("cold reads")
	for i := range r.Pages {
		p := &r.Pages[i]
		t0 := time.Now()
		a, err := who[p.As].get(ctx, p.Path)
		p.ColdMS = ms(time.Since(t0))
		if bad := problem(a.status, err, http.StatusOK); bad != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("GET %s as %s: %s", p.Path, p.As, bad))
		}
	}
	mem.setPhase("sequential reads")
	for i := range r.Pages {
		p := &r.Pages[i]
		progress("%s as %s: %d requests one at a time", p.Path, p.As, cfg.scaleRequests)
		p.Sequential = timeRequests(ctx, who[p.As], p.Path, cfg.scaleRequests, 1)
	}
	mem.setPhase("concurrent reads")
	for i := range r.Pages {
		p := &r.Pages[i]
		progress("%s as %s: %d requests over %d connections", p.Path, p.As, cfg.scaleRequests, cfg.scaleConns)
		p.Concurrent = timeRequests(ctx, who[p.As], p.Path, cfg.scaleRequests, cfg.scaleConns)
	}
}

// readEach is readPages for a few pages, each read all three ways before
// the next: for a page that is only there for a while.
func readEach(ctx context.Context, notes *[]string, pages []PageFigures, who map[string]*browser, cfg config) []PageFigures {
	for i := range pages {
		p := &pages[i]
		progress("%s as %s: the first request, %d one at a time, %d over %d connections", p.Path, p.As, cfg.scaleRequests, cfg.scaleRequests, cfg.scaleConns)
		t0 := time.Now()
		a, err := who[p.As].get(ctx, p.Path)
		p.ColdMS = ms(time.Since(t0))
		if bad := problem(a.status, err, http.StatusOK); bad != "" {
			*notes = append(*notes, fmt.Sprintf("GET %s as %s: %s", p.Path, p.As, bad))
		}
		p.Sequential = timeRequests(ctx, who[p.As], p.Path, cfg.scaleRequests, 1)
		p.Concurrent = timeRequests(ctx, who[p.As], p.Path, cfg.scaleRequests, cfg.scaleConns)
	}
	return pages
}

// timeRequests sends n GETs for path from conns workers sharing b's
// session, and sums up their latencies.
func timeRequests(ctx context.Context, b *browser, path string, n, conns int) Latency {
	rec := newRecorder()
	next := make(chan struct{})
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				t0 := time.Now()
				status, _, err := fetch(ctx, b.client, b.base+path)
				rec.add(time.Since(t0), problem(status, err, http.StatusOK))
			}
		}()
	}
	began := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	wall := time.Since(began)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	lat := slices.Clone(rec.lat)
	slices.Sort(lat)
	l := Latency{Count: len(lat)}
	if len(rec.errors) > 0 {
		l.Errors = rec.errors
	}
	if len(lat) > 0 {
		l.P50, l.P95, l.Max = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.95)), ms(lat[len(lat)-1])
		l.PerSec = round(float64(len(lat)-l.errorCount())/wall.Seconds(), 1)
	}
	return l
}

// runCommand times one plenary command and keeps its first line of output.
func runCommand(ctx context.Context, bin string, args ...string) CommandRun {
	progress("plenary %s", strings.Join(args, " "))
	run := CommandRun{Args: strings.Join(args, " ")}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv()
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	run.Seconds = round(time.Since(t0).Seconds(), 3)
	run.OK = err == nil
	run.Output = strings.TrimSpace(string(out))
	if err != nil {
		run.Output = fmt.Sprintf("%v: %s", err, tail(run.Output, 3))
	} else if first, _, _ := strings.Cut(run.Output, "\n"); first != "" {
		run.Output = first
	}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			run.MaxRSSMB = mb(ru.Maxrss) // kB on Linux
		}
	}
	return run
}

var (
	// The motion form starts at the rule's minimum length (issue 16).
	lengthField = regexp.MustCompile(`id="f-(days|hours|minutes)" name="(?:days|hours|minutes)" type="number" value="(\d+)"`)
	rollSize    = regexp.MustCompile(`<dt>Roll</dt><dd>(\d+) members`)
)

// openBallot opens a motion now, as the admin through the form, which
// freezes the roll of every active member, for the shortest period the
// co-op's rules allow; then votes on it.
func openBallot(ctx context.Context, admin *browser) (BallotFigures, error) {
	var f BallotFigures
	page, err := admin.get(ctx, "/proposals/new?kind=motion")
	if err != nil {
		return f, fmt.Errorf("GET /proposals/new?kind=motion: %w", err)
	}
	m := csrfField.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		return f, fmt.Errorf("GET /proposals/new?kind=motion: status %d, no csrf_token in the page", page.status)
	}
	token, length := m[1], map[string]int{"days": 0, "hours": 1, "minutes": 0}
	if found := lengthField.FindAllStringSubmatch(page.body, -1); len(found) == 3 {
		for _, f := range found {
			length[f[1]], _ = strconv.Atoi(f[2])
		}
	}
	n := length["days"]*24*60 + length["hours"]*60 + length["minutes"]
	minutes := strconv.Itoa(n)
	progress("opening a motion for %s minutes as the admin", minutes)
	t0 := time.Now()
	a, err := admin.post(ctx, "/proposals/new", url.Values{"csrf_token": {token}, "kind": {"motion"},
		"title": {"Bench: time freezing the whole roll"}, "body": {"Opened by the scale bench to time freezing the roll."},
		"opens": {"now"}, "days": {"0"}, "hours": {"0"}, "minutes": {minutes}})
	f.answered = time.Now()
	f.OpenMS = ms(f.answered.Sub(t0))
	if err != nil {
		return f, fmt.Errorf("POST /proposals/new: %w", err)
	}
	m = proposalPath.FindStringSubmatch(a.location)
	if a.status != http.StatusSeeOther || m == nil {
		return f, fmt.Errorf("POST /proposals/new: status %d, Location %q", a.status, a.location)
	}
	f.ProposalID, _ = strconv.ParseInt(m[1], 10, 64)
	f.ClosesAt = t0.Add(time.Duration(n) * time.Minute)
	path := fmt.Sprintf("/proposals/%d", f.ProposalID)
	if a, err = admin.get(ctx, path); err != nil {
		return f, err
	}
	if m := rollSize.FindStringSubmatch(a.body); m != nil {
		f.RollSize, _ = strconv.Atoi(m[1])
	}
	progress("opened ballot %d in %.0f ms; its roll holds %d", f.ProposalID, f.OpenMS, f.RollSize)

	t0 = time.Now()
	a, err = admin.post(ctx, path+"/vote", url.Values{"csrf_token": {token}, "choice": {"abstain"}})
	f.VoteMS = ms(time.Since(t0))
	if bad := problem(a.status, err, http.StatusSeeOther); bad != "" {
		return f, fmt.Errorf("POST %s/vote: %s", path, bad)
	}
	return f, nil
}

// getJSON decodes an API answer as this browser's visitor gets it.
func (b *browser) getJSON(ctx context.Context, path string, into any) error {
	a, err := b.get(ctx, path)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, a.status)
	}
	if err := json.Unmarshal([]byte(a.body), into); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}
