package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// proposalRef is the little the bench needs to know about a proposal.
type proposalRef struct {
	ID       int64     `json:"id"`
	Status   string    `json:"status"`
	ClosesAt time.Time `json:"closes_at"`
}

// prepared is the ballot set up for the run: who votes, on what, and the
// closed ballot whose result page is read.
type prepared struct {
	admin         *browser
	voters        []string
	ballots       []int64 // secret endorsement ballots
	openBallot    int64   // an open motion: its page says each voter's own choice
	closed        proposalRef
	closedCreated bool
	notes         []string
}

// prepare logs in as the admin, lets demand ballots last as little as a
// minute, finds (or starts) a closed ballot and opens the ballots to vote on.
func prepare(ctx context.Context, srv *server, bin, dbPath string, cfg config, pop population) (*prepared, error) {
	p := &prepared{admin: newBrowser(newTransport(4), srv.base)}
	if err := p.admin.login(ctx, adminEmail); err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if err := setMinimum(ctx, p.admin, "endorse_demand", 1); err != nil {
		return nil, err
	}

	var err error
	if p.voters, err = findVoters(ctx, srv.base, bin, dbPath, cfg, pop, p); err != nil {
		return nil, err
	}

	var listing struct{ Data []proposalRef }
	if err := getJSON(ctx, srv.base, "/api/v1/proposals", &listing); err != nil {
		return nil, err
	}
	for _, pr := range listing.Data {
		if pr.Status == "closed" && !cfg.freshClosed {
			p.closed = pr
			break
		}
	}

	demands, err := proposedDemands(ctx, srv.base)
	if err != nil {
		return nil, err
	}
	// The one-minute ballot is started first, so that it has closed by the
	// time the reads run; the voters vote on it too, after the timed votes.
	if p.closed.ID == 0 {
		id, rest, err := propose(ctx, p.admin, demands, "Bench: a ballot that closes after one minute", "0", "1")
		if err != nil {
			return nil, err
		}
		demands = rest
		p.closed, p.closedCreated = proposalRef{ID: id, Status: "voting", ClosesAt: time.Now().Add(time.Minute)}, true
		progress("started ballot %d, closing in one minute, for the closed result page", id)
	} else {
		progress("closed result page: proposal %d", p.closed.ID)
	}
	for i := range cfg.ballots {
		id, rest, err := propose(ctx, p.admin, demands, fmt.Sprintf("Bench: open ballot %d of %d", i+1, cfg.ballots), "1", "0")
		if err != nil {
			return nil, err
		}
		demands = rest
		p.ballots = append(p.ballots, id)
	}
	// The open ballot: a motion whose page tells each voter their own
	// choice, so that every acknowledged change can be checked.
	open := false
	if err := setRule(ctx, p.admin, "motion", 60, &open); err != nil {
		return nil, err
	}
	if p.openBallot, err = proposeMotion(ctx, p.admin, "Bench: an open ballot"); err != nil {
		return nil, err
	}
	progress("opened secret ballot(s) %v and open ballot %d for %d voters", p.ballots, p.openBallot, len(p.voters))
	return p, nil
}

var formOf = regexp.MustCompile(`(?s)<form method="post" action="/admin/rules".*?</form>`)

// setMinimum changes one kind's minimum voting period, keeping its other
// rules as the admin page shows them.
func setMinimum(ctx context.Context, admin *browser, kind string, minutes int) error {
	return setRule(ctx, admin, kind, minutes, nil)
}

// setRule changes one kind's minimum voting period and, unless secret is
// nil, its secrecy, keeping its other rules as the admin page shows them.
func setRule(ctx context.Context, admin *browser, kind string, minutes int, secret *bool) error {
	a, err := admin.get(ctx, "/admin/rules")
	if err != nil || a.status != http.StatusOK {
		return fmt.Errorf("GET /admin/rules: status %d %v", a.status, err)
	}
	var form string
	for _, f := range formOf.FindAllString(a.body, -1) {
		if strings.Contains(f, `name="kind" value="`+kind+`"`) {
			form = f
		}
	}
	token := csrfField.FindStringSubmatch(form)
	quorum := regexp.MustCompile(`name="quorum_pct" type="number" value="(\d+)"`).FindStringSubmatch(form)
	threshold := regexp.MustCompile(`<option value="(\w+)" selected>`).FindStringSubmatch(form)
	if token == nil || quorum == nil || threshold == nil {
		return fmt.Errorf("no rules form for %s on /admin/rules", kind)
	}
	isSecret := strings.Contains(form, `value="true" checked`)
	if secret != nil {
		isSecret = *secret
	}
	a, err = admin.post(ctx, "/admin/rules", url.Values{"csrf_token": {token[1]}, "kind": {kind},
		"quorum_pct": {quorum[1]}, "threshold": {threshold[1]}, "min_minutes": {strconv.Itoa(minutes)}, "secret": {strconv.FormatBool(isSecret)}})
	if err != nil || a.status != http.StatusSeeOther {
		return fmt.Errorf("POST /admin/rules: status %d %v", a.status, err)
	}
	return nil
}

// proposedDemands lists demands a ballot may endorse.
func proposedDemands(ctx context.Context, base string) ([]int64, error) {
	var listing struct{ Data []struct{ ID int64 } }
	if err := getJSON(ctx, base, "/api/v1/demands?status=proposed", &listing); err != nil {
		return nil, err
	}
	ids := make([]int64, len(listing.Data))
	for i, d := range listing.Data {
		ids[i] = d.ID
	}
	return ids, nil
}

var proposalPath = regexp.MustCompile(`^/proposals/(\d+)$`)

// propose opens a ballot to endorse the first of demands that can take one
// (a demand with a ballot already running refuses a second), returning its
// id and the demands not yet tried.
func propose(ctx context.Context, admin *browser, demands []int64, title, days, minutes string) (int64, []int64, error) {
	token, err := admin.csrf(ctx, "/proposals/new?kind=endorse_demand")
	if err != nil {
		return 0, nil, err
	}
	for i, demand := range demands {
		a, err := admin.post(ctx, "/proposals/new", url.Values{"csrf_token": {token}, "kind": {"endorse_demand"},
			"title": {title}, "body": {"Opened by the load bench."}, "demand_id": {strconv.FormatInt(demand, 10)},
			"opens": {"now"}, "days": {days}, "hours": {"0"}, "minutes": {minutes}})
		if err != nil {
			return 0, nil, fmt.Errorf("POST /proposals/new: %w", err)
		}
		if a.status == http.StatusUnprocessableEntity {
			continue
		}
		m := proposalPath.FindStringSubmatch(a.location)
		if a.status != http.StatusSeeOther || m == nil {
			return 0, nil, fmt.Errorf("POST /proposals/new: status %d, Location %q", a.status, a.location)
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		return id, demands[i+1:], nil
	}
	return 0, nil, errors.New("no proposed demand left to open a ballot on; try fewer -ballots")
}

// proposeMotion opens a motion for a day.
func proposeMotion(ctx context.Context, admin *browser, title string) (int64, error) {
	token, err := admin.csrf(ctx, "/proposals/new?kind=motion")
	if err != nil {
		return 0, err
	}
	a, err := admin.post(ctx, "/proposals/new", url.Values{"csrf_token": {token}, "kind": {"motion"}, "title": {title},
		"body": {"Opened by the load bench."}, "opens": {"now"}, "days": {"1"}, "hours": {"0"}, "minutes": {"0"}})
	if err != nil {
		return 0, fmt.Errorf("POST /proposals/new: %w", err)
	}
	m := proposalPath.FindStringSubmatch(a.location)
	if a.status != http.StatusSeeOther || m == nil {
		return 0, fmt.Errorf("POST /proposals/new (motion): status %d, Location %q", a.status, a.location)
	}
	return strconv.ParseInt(m[1], 10, 64)
}

// proposalStatus is what the public API says of a proposal; a ballot still
// running is not public, and is reported as "running".
func proposalStatus(ctx context.Context, base string, id int64) (string, error) {
	a, err := newBrowser(http.DefaultTransport, base).get(ctx, fmt.Sprintf("/api/v1/proposals/%d", id))
	switch {
	case err != nil:
		return "", err
	case a.status == http.StatusNotFound:
		return "running", nil
	case a.status != http.StatusOK:
		return "", fmt.Errorf("GET /api/v1/proposals/%d: status %d", id, a.status)
	}
	if strings.Contains(a.body, `"status":"closed"`) {
		return "closed", nil
	}
	return "other", nil
}

var emailCell = regexp.MustCompile(`<td>([^<\s@]+@[^<\s]+)</td>`)

// findVoters returns the first -voters members to vote. A demo database
// chose its own members, so the admin's list of active members names them;
// if they cannot log in with the bench's password, the bench adds its own.
func findVoters(ctx context.Context, base, bin, dbPath string, cfg config, pop population, p *prepared) ([]string, error) {
	if pop.voters != nil {
		return pop.voters[:cfg.voters], nil
	}
	var voters []string
	for page := 1; len(voters) < cfg.voters && page <= cfg.members/50+10; page++ {
		a, err := p.admin.get(ctx, fmt.Sprintf("/admin/members?status=active&page=%d", page))
		if err != nil || a.status != http.StatusOK {
			return nil, fmt.Errorf("GET /admin/members: status %d %v", a.status, err)
		}
		found := emailCell.FindAllStringSubmatch(a.body, -1)
		if len(found) == 0 {
			break
		}
		for _, m := range found {
			if email := unescapeHTML(m[1]); email != adminEmail && len(voters) < cfg.voters {
				voters = append(voters, email)
			}
		}
	}
	if len(voters) > 0 && newBrowser(newTransport(1), base).login(ctx, voters[0]) == nil {
		if len(voters) < cfg.voters {
			p.notes = append(p.notes, fmt.Sprintf("the demo database has only %d active members to vote", len(voters)))
		}
		return voters, nil
	}
	note := "demo members could not log in with PLENARY_PASSWORD; added the voters with member add"
	progress("%s", note)
	p.notes = append(p.notes, note)
	voters = make([]string, cfg.voters)
	for i := range voters {
		voters[i] = voterEmail(i + 1)
	}
	return voters, addMembers(ctx, bin, dbPath, voters, "member", 4)
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&#39;", "'").Replace(s)
}
