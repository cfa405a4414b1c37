package e2e

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/fakeclock"
)

func TestBallotJourney(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	s := startSiteWithClock(t, clk.Now)
	ctx := context.Background()
	if _, err := s.Lib.LoadStarter(ctx); err != nil {
		t.Fatal(err)
	}
	people, _ := addPeople(t, s, 4)
	admin := newBrowser(t)
	logIn(t, admin, s.URL, people[0].email, people[0].password)
	voters := []context.Context{newIsolatedTab(t, admin), newIsolatedTab(t, admin), newIsolatedTab(t, admin)}
	for i, v := range voters {
		logIn(t, v, s.URL, people[i+1].email, people[i+1].password)
	}
	var receipt string
	var proposalURL string

	t.Run("an admin sets a one-minute minimum for a vote held live in a meeting", func(t *testing.T) {
		navigate(t, admin, s.URL+"/admin/rules")
		visit(t, admin, "rules")
		fill(t, admin, "#f-endorse_demand-min", "1")
		submit(t, admin, `form:has(input[value=endorse_demand]) button[type=submit]`)
		mustContain(t, admin, ".flash.ok", "rules saved")
	})

	t.Run("a member proposes to endorse a starter demand", func(t *testing.T) {
		bea := voters[0]
		navigate(t, bea, s.URL+"/demands/1")
		visit(t, bea, "demand-before")
		submit(t, bea, `a[href^="/proposals/new?kind=endorse_demand"]`)
		visit(t, bea, "new-proposal")
		fill(t, bea, "#f-title", "Endorse: open routes for investment into digital co-ops")
		fill(t, bea, "#f-body", "This is the briefing's first ask and the one our members raise most.")
		fill(t, bea, "#f-days", "0")
		fill(t, bea, "#f-minutes", "5")
		submit(t, bea, "main button[type=submit]")
		mustContain(t, bea, ".flash.ok", "open for voting")
		proposalURL = currentURL(t, bea)
		mustContain(t, bea, "main", "4 members, frozen when voting opened")
		visit(t, bea, "proposal-open")
	})

	t.Run("three members vote in secret from their own browsers, and one changes their vote", func(t *testing.T) {
		for i, choice := range []string{"yes", "no", "yes"} {
			v := voters[i]
			navigate(t, v, proposalURL)
			if got := text(t, v, "main"); strings.Contains(got, "Result:") {
				t.Fatalf("the open ballot shows a result:\n%s", got)
			}
			do(t, v, "choosing "+choice, chromedp.Click(chromedp.CSS(`input[name=choice][value=`+choice+`]`)))
			submit(t, v, "form.ballot button[type=submit]")
			mustContain(t, v, ".flash.ok", "in the ballot box")
			code := run(t, v, "reading the receipt", chromedp.Value(chromedp.CSS("#receipt-code")))
			if !regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$`).MatchString(code) {
				t.Fatalf("receipt %q does not look like a receipt", code)
			}
			if i == 1 {
				receipt = code
				visit(t, v, "voted-with-receipt")
			}
		}
		cai := voters[1]
		navigate(t, cai, proposalURL)
		mustContain(t, cai, ".vote", "3 of 4 on the roll have voted")
		do(t, cai, "choosing yes", chromedp.Click(chromedp.CSS(`input[name=choice][value=yes]`)))
		fill(t, cai, "#f-receipt", strings.ToLower(receipt))
		submit(t, cai, "form.ballot button[type=submit]")
		mustContain(t, cai, ".flash.ok", "Your vote is changed")
		visit(t, cai, "vote-changed")
	})

	t.Run("nobody sees a count before the close, admins included", func(t *testing.T) {
		navigate(t, admin, proposalURL)
		page := text(t, admin, "main")
		for _, leak := range []string{"yes,", "Result:", "Roll-call", "The ballot box", "carried", "defeated"} {
			if strings.Contains(page, leak) {
				t.Errorf("the admin's view of the open ballot contains %q", leak)
			}
		}
	})

	t.Run("on a phone, anyone sees on the home page the demand being voted on, and no count", func(t *testing.T) {
		phone := newIsolatedTab(t, admin)
		do(t, phone, "emulating a phone", chromedp.EmulateViewport(390, 844))
		navigate(t, phone, s.URL+"/")
		mustContain(t, phone, "section[aria-labelledby=ballot-h]", "Open routes for public and private investment into digital co-ops")
		mustContain(t, phone, "section[aria-labelledby=ballot-h] .badge", "under ballot")
		mustContain(t, phone, "section[aria-labelledby=proposed-h]", "proposed")
		if page := text(t, phone, "main"); regexp.MustCompile(`\d+ yes|carried|defeated`).MatchString(page) {
			t.Errorf("the home page gives away a count while voting runs:\n%s", page)
		}
		if width := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
			t.Errorf("the home page is %dpx wide on a 390px phone", width)
		}
		visit(t, phone, "home-voting-phone")
	})

	t.Run("the ballot closes and a reader sees the demand endorsed with its tally and chart", func(t *testing.T) {
		clk.Advance(6 * time.Minute)
		reader := newIsolatedTab(t, admin)
		navigate(t, reader, proposalURL)
		mustContain(t, reader, "#result-h", "carried")
		mustContain(t, reader, ".result", "3 yes, 0 no, 0 abstain")
		mustContain(t, reader, ".result", "Turnout 3 of 4")
		if n := run(t, reader, "counting chart bars", chromedp.Evaluate[int](`document.querySelectorAll('svg.chart > rect').length`)); n != 3 {
			t.Errorf("the chart has %d bars; want 3", n)
		}
		visit(t, reader, "result")
		navigate(t, reader, s.URL+"/demands/1")
		mustContain(t, reader, ".endorsement", "3 yes, 0 no, 0 abstain")
		visit(t, reader, "demand-endorsed")
		navigate(t, reader, s.URL+"/")
		mustContain(t, reader, "main", "What we demand")
		mustContain(t, reader, "main", "3 yes, 0 no")
		visit(t, reader, "home-with-endorsement")
	})

	t.Run("on a phone the ledger reads as sentences, each record one tap away", func(t *testing.T) {
		phone := newIsolatedTab(t, admin)
		do(t, phone, "emulating a phone", chromedp.EmulateViewport(390, 844))
		navigate(t, phone, s.URL+"/ledger")
		id := proposalURL[strings.LastIndex(proposalURL, "/")+1:]
		mustContain(t, phone, "ol.ledger li:first-child", "Proposal "+id)
		if n := run(t, phone, "finding the links to the proposal", chromedp.Evaluate[int](`document.querySelectorAll('ol.ledger a[href="/proposals/`+id+`"]').length`)); n == 0 {
			t.Error("the ledger links no entry to the proposal")
		}
		if run(t, phone, "looking at the JSON", chromedp.Evaluate[bool](`document.querySelector('ol.ledger code.body').checkVisibility()`)) {
			t.Error("the JSON shows before its record is opened")
		}
		if width := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
			t.Errorf("the ledger is %dpx wide on a 390px phone", width)
		}
		do(t, phone, "opening the newest record", chromedp.Click(`ol.ledger li:first-child details.record > summary`))
		mustContain(t, phone, "ol.ledger li:first-child details.record", `"proposal":`+id)
		visit(t, phone, "ledger-phone-record")
	})

	t.Run("a voter finds their receipt in the published box", func(t *testing.T) {
		cai := voters[1]
		navigate(t, cai, proposalURL)
		fill(t, cai, "#receipt", receipt)
		submit(t, cai, "form.receipt-check button[type=submit]")
		mustContain(t, cai, ".flash.ok", "counted as yes")
		if n := run(t, cai, "finding the highlighted row", chromedp.Evaluate[int](`document.querySelectorAll('table.box tr.mine').length`)); n != 1 {
			t.Errorf("%d rows highlighted for the receipt; want 1", n)
		}
		visit(t, cai, "receipt-found")
	})

	t.Run("tally and ledger verify pass, and fail after a stored vote is edited", func(t *testing.T) {
		bin := buildPlenary(t)
		id := proposalURL[strings.LastIndex(proposalURL, "/")+1:]
		for _, args := range [][]string{{"tally", "verify", "-db", s.Path, id}, {"ledger", "verify", "-db", s.Path}} {
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("plenary %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		editOutside(t, s.Path, nil, `UPDATE ballot_box SET choice = 'no' WHERE receipt_hash = (SELECT min(receipt_hash) FROM ballot_box WHERE choice = 'yes');`)
		out, err := exec.Command(bin, "tally", "verify", "-db", s.Path, id).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "FAILED") {
			t.Errorf("tally verify after editing a vote: %v\n%s", err, out)
		}
		editOutside(t, s.Path, []string{"ledger.ledger_no_update"}, `UPDATE ledger SET body = replace(body, '"yes":3', '"yes":4') WHERE kind = 'ballot.closed';`)
		out, err = exec.Command(bin, "ledger", "verify", "-db", s.Path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "ledger entry") {
			t.Errorf("ledger verify after editing the result: %v\n%s", err, out)
		}
	})
}

// person is one of the co-op's people in the browser journeys.
type person struct{ name, email, password string }

// riverside are the journeys' people: Ada, the co-op's secretary, then
// members.
var riverside = []person{
	{"Ada Secretary", "ada@riverside.coop", "correct horse battery staple"},
	{"Bea Driver", "bea@example.org", "a lighthouse keeper's long walk"},
	{"Cai Rider", "cai@example.org", "seven quiet otters at dawn"},
	{"Dee Coder", "dee@example.org", "the kettle sings in march"},
	{"Eve Courier", "eve@example.org", "paper boats on the canal"},
	{"Fay Baker", "fay@example.org", "the ferry leaves at nine sharp"},
}

// addPeople makes the first n of riverside active on the site: Ada an
// admin, the others members.
func addPeople(t *testing.T, s site, n int) ([]person, []governance.Member) {
	t.Helper()
	people := riverside[:n]
	members := make([]governance.Member, n)
	for i, p := range people {
		role := governance.RoleMember
		if i == 0 {
			role = governance.RoleAdmin
		}
		m, err := s.Gov.AddMember(context.Background(), governance.Details{Name: p.name, Email: p.email, Password: p.password}, role)
		if err != nil {
			t.Fatal(err)
		}
		members[i] = m
	}
	return people, members
}
