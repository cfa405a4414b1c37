package server_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
	"plenary/library"
)

// ballotCoop is a co-op of an admin, four active members and an applicant:
// a roll of five when voting opens.
type ballotCoop struct {
	*app
	admin     user
	members   [4]user
	applicant user
}

func newBallotCoop(t *testing.T) *ballotCoop {
	t.Helper()
	a := newApp(t)
	co := &ballotCoop{app: a}
	co.admin = a.addAdmin(t, "Ada Admin", "ada@example.org")
	for i, name := range []string{"Mo", "Nia", "Oz", "Pat"} {
		co.members[i] = a.addMember(t, co.admin, name+" Member", strings.ToLower(name)+"@example.org")
	}
	co.applicant = a.addApplicant(t, "Ali Applicant", "ali@example.org")
	return co
}

// as is a browser logged in as u.
func (a *app) as(t *testing.T, u user) *client {
	t.Helper()
	c := a.client()
	c.login(t, u)
	return c
}

// putDemand drafts a demand as author, as /demands/new does.
func (a *app) putDemand(t *testing.T, author user, title string) int64 {
	t.Helper()
	d, err := a.Lib.DraftDemand(context.Background(), library.Viewer{ID: author.ID, Active: true, Admin: author.Member.IsAdmin()},
		library.DemandInput{Title: title, Body: "Open public procurement to co-operatives.", Audience: library.Audiences[0]})
	if err != nil {
		t.Fatalf("draft demand %q: %v", title, err)
	}
	return d.ID
}

// putProposal puts a proposal to the co-op, as /proposals/new does.
func (a *app) putProposal(t *testing.T, author user, in governance.ProposalInput) governance.Proposal {
	t.Helper()
	p, err := a.Gov.Propose(context.Background(), author.Member, in)
	if err != nil {
		t.Fatalf("propose %q: %v", in.Title, err)
	}
	return p
}

// endorsing is a proposal to endorse demand, voting open now for a week.
func endorsing(demand int64) governance.ProposalInput {
	return governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse demand " + strconv.FormatInt(demand, 10),
		Body: "It is time.", DemandID: strconv.FormatInt(demand, 10), Opens: "now", Days: "7"}
}

// motion is a plain motion; opens is "now" or a time for "later".
func motion(title string, days int, opens time.Time) governance.ProposalInput {
	in := governance.ProposalInput{Kind: governance.KindMotion, Title: title, Opens: "now", Days: strconv.Itoa(days)}
	if !opens.IsZero() {
		in.Opens, in.OpensAt = "later", opens.Format("2006-01-02T15:04")
	}
	return in
}

// setSecrecy has admin make kind's ballots secret or open, keeping the rest
// of its rule.
func (a *app) setSecrecy(t *testing.T, admin user, kind string, secret bool) {
	t.Helper()
	ctx := context.Background()
	rules, err := a.Gov.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Kind == kind {
			err := a.Gov.SetRule(ctx, admin.Member, governance.RuleInput{Kind: kind, QuorumPct: strconv.Itoa(r.QuorumPct),
				Threshold: r.Threshold, MinMinutes: strconv.Itoa(r.MinMinutes), Secret: secret, Methods: r.AllowedMethods()})
			if err != nil {
				t.Fatalf("set rule %s: %v", kind, err)
			}
			return
		}
	}
	t.Fatalf("no rule for %s", kind)
}

// passClose moves the clock a minute past p's close. Nothing closes it
// until someone reads it, as in production between two ticks.
func (a *app) passClose(p governance.Proposal) {
	a.Clock.Advance(p.ClosesAt.Add(time.Minute).Sub(a.Clock.Now()))
}

func proposalPage(id int64) string { return "/proposals/" + strconv.FormatInt(id, 10) }

// castVote fills in the ballot on the proposal's page.
func (c *client) castVote(t *testing.T, id int64, choice, receipt string) *response {
	t.Helper()
	v := form("choice", choice)
	if receipt != "" {
		v.Set("receipt", receipt)
	}
	return c.submit(t, proposalPage(id), proposalPage(id)+"/vote", v)
}

var receiptCode = regexp.MustCompile(`id="receipt-code" type="text" readonly value="([^"]+)"`)

// castSecretVote votes in a secret ballot and returns the receipt, which
// the next page shows once.
func (c *client) castSecretVote(t *testing.T, id int64, choice string) string {
	t.Helper()
	c.castVote(t, id, choice, "").wantRedirect(t, proposalPage(id))
	page := c.get(t, proposalPage(id))
	m := receiptCode.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("after a secret vote the page shows no receipt:\n%s", excerpt(page.Body))
	}
	return m[1]
}

// rowCount runs a count(*) query.
func (a *app) rowCount(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.R.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// countSigns are the ways a page or a document could give away how members
// voted: a number beside a choice, the result heading, the chart, the box,
// the roll-call, an outcome. They are matched against the text with HTML
// entities decoded, so JSON shown inside a page counts too.
var countSigns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b\d+\s+(yes|no|abstain)\b`),
	regexp.MustCompile(`(?i)\b(yes|no|abstain)\s+\d`),
	regexp.MustCompile(`"(yes|no|abstain)"\s*:\s*\d`),
	regexp.MustCompile(`Result:`),
	regexp.MustCompile(`"(result|box|box_digest|tally|outcome|quorum_met)"\s*:`),
	regexp.MustCompile(`<svg class="chart"`),
	regexp.MustCompile(`id="box-h"|class="box"|Roll-call</h2>|How each member voted`),
	regexp.MustCompile(`<td>(yes|no|abstain)</td>`),
	regexp.MustCompile(`(?i)\b(carried|defeated|inquorate)\b`),
}

// countShown returns the first sign of a count in body, or "".
func countShown(body string) string {
	text := html.UnescapeString(body)
	for _, re := range countSigns {
		if m := re.FindString(text); m != "" {
			return m
		}
	}
	return ""
}

func TestResultsStayHiddenUntilTheBallotCloses(t *testing.T) {
	t.Parallel()
	for _, secret := range []bool{true, false} {
		name := "in a secret ballot"
		if !secret {
			name = "in an open ballot"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			co := newBallotCoop(t)
			if !secret {
				co.setSecrecy(t, co.admin, governance.KindEndorseDemand, false)
			}
			demand := co.putDemand(t, co.members[0], "Open public procurement to co-ops")
			p := co.putProposal(t, co.members[0], endorsing(demand))
			if p.Secret == nil || *p.Secret != secret {
				t.Fatalf("the ballot opened with secret = %v, want %v", p.Secret, secret)
			}
			page, api := proposalPage(p.ID), "/api/v1"+proposalPage(p.ID)
			dem := strconv.FormatInt(demand, 10)

			voters := map[string]*client{}
			for i, choice := range []string{"yes", "yes", "no"} {
				c := co.as(t, co.members[i])
				c.castVote(t, p.ID, choice, "").wantRedirect(t, page)
				voters["voter "+strconv.Itoa(i+1)+" ("+choice+")"] = c
			}
			if n := co.rowCount(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); n != 3 {
				t.Fatalf("%d voters recorded, want 3", n)
			}

			viewers := map[string]*client{
				"an anonymous visitor":         co.client(),
				"an applicant":                 co.as(t, co.applicant),
				"a member who has not voted":   co.as(t, co.members[3]),
				"the admin, who has not voted": co.as(t, co.admin),
			}
			for who, c := range voters {
				viewers[who] = c
			}
			surfaces := []string{"/", "/proposals", page, "/api/v1/proposals", api, "/api/v1/ledger", "/ledger", "/feed.atom",
				"/demands/" + dem, "/api/v1/demands/" + dem}

			t.Run("while voting runs nobody sees a count, admins included", func(t *testing.T) {
				for who, c := range viewers {
					member := who != "an anonymous visitor" && who != "an applicant"
					for _, path := range surfaces {
						res := c.get(t, path)
						want := http.StatusOK
						switch {
						case path == api:
							want = http.StatusNotFound // the API is the public's: running ballots are not in it
						case path == page && !member:
							want = http.StatusNotFound
						}
						if !res.wantStatus(t, want) {
							continue
						}
						if sign := countShown(res.Body); sign != "" {
							t.Errorf("%s sees %q on %s before the ballot closes", who, sign, path)
						}
						if path == api && (!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
							!strings.Contains(res.Body, `"not_found"`)) {
							t.Errorf("%s: a running ballot in the API is not a JSON 404: %s %s", who, res.Header.Get("Content-Type"), res.Body)
						}
						if path == page && member {
							// Turnout is not a count of choices: members may follow it.
							res.wantText(t, "3 of 5 on the roll have voted so far.")
						}
					}
				}
			})

			t.Run("once it closes the counts are public", func(t *testing.T) {
				co.passClose(p)
				anon := co.client()
				res := anon.get(t, page)
				res.wantStatus(t, http.StatusOK)
				res.wantText(t, "2 yes, 1 no, 0 abstain.")
				res.wantText(t, "carried")
				for _, path := range surfaces {
					res := anon.get(t, path)
					if res.wantStatus(t, http.StatusOK) && countShown(res.Body) == "" {
						t.Errorf("after close %s shows no sign of the result", path)
					}
				}
				if !secret {
					res.wantText(t, "Roll-call")
				}
			})
		})
	}
}

func TestOneMemberOneVoteUnderSimultaneousRequests(t *testing.T) {
	t.Parallel()
	const requests = 50
	for _, secret := range []bool{true, false} {
		name := "a secret ballot takes the first and refuses the rest"
		if !secret {
			name = "an open ballot keeps one vote, however many times it is changed"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			co := newBallotCoop(t)
			co.setSecrecy(t, co.admin, governance.KindMotion, secret)
			p := co.putProposal(t, co.admin, motion("Adopt a code of conduct", 7, time.Time{}))
			voter := co.members[0]
			c := co.as(t, voter)
			body := form("csrf_token", c.csrf(t, proposalPage(p.ID)), "choice", governance.ChoiceYes).Encode()

			statuses := make([]int, requests)
			bodies := make([]string, requests)
			failures := make([]error, requests)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range requests {
				wg.Go(func() {
					<-start
					req, err := http.NewRequest(http.MethodPost, co.URL+proposalPage(p.ID)+"/vote", strings.NewReader(body))
					if err != nil {
						failures[i] = err
						return
					}
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					res, err := c.web.HTTP.Do(req)
					if err != nil {
						failures[i] = err
						return
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					statuses[i], bodies[i] = res.StatusCode, string(b)
				})
			}
			close(start)
			wg.Wait()

			byStatus := map[int]int{}
			for i, s := range statuses {
				if failures[i] != nil {
					t.Errorf("request %d: %v", i, failures[i])
				}
				byStatus[s]++
			}
			if secret {
				if byStatus[http.StatusSeeOther] != 1 || byStatus[http.StatusConflict] != requests-1 {
					t.Errorf("statuses %v, want one 303 and %d 409 (already voted)", byStatus, requests-1)
				}
				if n := co.rowCount(t, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, p.ID); n != 1 {
					t.Errorf("the ballot box holds %d ballots, want 1", n)
				}
				if n := co.rowCount(t, `SELECT count(*) FROM votes WHERE proposal_id = ?`, p.ID); n != 0 {
					t.Errorf("a secret ballot put %d choices beside names", n)
				}
			} else {
				// Each is applied in turn (a vote, then changes to the same
				// choice), except one that arrived before another already
				// applied: that one is refused, its later one standing
				// (governance/arrival.go).
				if byStatus[http.StatusSeeOther] == 0 || byStatus[http.StatusSeeOther]+byStatus[http.StatusConflict] != requests {
					t.Errorf("statuses %v, want %d, each 303 or (arrived before one applied) 409", byStatus, requests)
				}
				for i, body := range bodies {
					if statuses[i] == http.StatusConflict && !strings.Contains(body, "a later one of yours, sent while it waited, has been recorded and stands") {
						t.Errorf("a 409 without the reason: %.300s", body)
					}
				}
				if n := co.rowCount(t, `SELECT count(*) FROM votes WHERE proposal_id = ? AND member_id = ?`, p.ID, voter.ID); n != 1 {
					t.Errorf("the member has %d votes, want 1", n)
				}
				if n := co.rowCount(t, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, p.ID); n != 0 {
					t.Errorf("an open ballot put %d ballots in a secret box", n)
				}
			}
			if n := co.rowCount(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); n != 1 {
				t.Errorf("%d voters recorded, want 1", n)
			}
			co.passClose(p)
			co.client().get(t, proposalPage(p.ID)).wantText(t, "1 yes, 0 no, 0 abstain.")
		})
	}
}

func TestTheRollIsFrozenWhenVotingOpens(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	p := co.putProposal(t, co.members[0], endorsing(co.putDemand(t, co.members[0], "Fund platform co-ops")))
	page := proposalPage(p.ID)

	t.Run("a member admitted after voting opened is not on the roll", func(t *testing.T) {
		late := co.addMember(t, co.admin, "Lou Late", "lou@example.org")
		c := co.as(t, late)
		c.get(t, page).wantText(t, "it holds the active members at the moment voting opened.")
		before := co.snapshot(t)
		res := c.castVote(t, p.ID, governance.ChoiceYes, "")
		res.wantStatus(t, http.StatusForbidden)
		res.wantFieldError(t, "", "You are not on this ballot's roll: it was frozen when voting opened, and only the active members at that moment vote.")
		co.wantUnchanged(t, before)
	})

	t.Run("a member suspended after voting opened logs in again and votes", func(t *testing.T) {
		u := co.members[3]
		c := co.as(t, u)
		co.suspend(t, co.admin, u)
		c.get(t, "/account").wantRedirect(t, "/login?next=%2Faccount")

		res := c.submit(t, "/login", "/login", form("email", u.Email, "password", password))
		res.wantRedirect(t, "/proposals")
		c.get(t, "/proposals").wantText(t, "You can still vote in ballots that opened before your suspension")
		c.castVote(t, p.ID, governance.ChoiceNo, "").wantRedirect(t, page)
		if n := co.rowCount(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND member_id = ? AND voted = 1`, p.ID, u.ID); n != 1 {
			t.Errorf("the suspended member's vote is not recorded (%d rows)", n)
		}
		if n := co.rowCount(t, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, p.ID); n != 1 {
			t.Errorf("the box holds %d ballots, want the suspended member's one", n)
		}
		c.get(t, page).wantText(t, "You have voted.")
		// Voting is all a suspension leaves them.
		c.get(t, "/proposals/new").wantStatus(t, http.StatusForbidden)
		res = c.post(t, page+"/comments", form("csrf_token", c.csrf(t, page), "body", "Still here."))
		res.wantStatus(t, http.StatusForbidden)
	})
}

func TestProposalFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	ctx := context.Background()
	ad, mem, other := co.admin, co.members[0], co.members[1]

	// A demand the co-op endorsed a week ago, by a ballot now closed.
	endorsed := co.putDemand(t, ad, "An endorsed demand")
	closed := co.putProposal(t, ad, endorsing(endorsed))
	for _, u := range []user{ad, mem, other} {
		if _, err := co.Gov.Vote(ctx, u.Member, closed.ID, governance.ChoiceYes, ""); err != nil {
			t.Fatal(err)
		}
	}
	co.passClose(closed)
	if err := co.Gov.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := co.Lib.Demand(ctx, endorsed); err != nil || d.Status != library.DemandEndorsed {
		t.Fatalf("demand %d is %q (%v), want endorsed", endorsed, d.Status, err)
	}
	open := co.putDemand(t, mem, "A demand open to endorsement")
	busy := co.putDemand(t, mem, "A demand already in discussion")
	discussion := co.putProposal(t, ad, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse the busy demand",
		DemandID: strconv.FormatInt(busy, 10), Opens: "later", OpensAt: co.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04"), Days: "7"})
	pending, err := co.Lib.SubmitResource(ctx, library.Viewer{ID: mem.ID, Active: true},
		library.ResourceInput{Title: "A pending report", URL: "https://example.org/pending", Format: "report", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	voting := co.putProposal(t, mem, motion("The member's motion, open for voting", 7, time.Time{}))

	memC, adminC := co.as(t, mem), co.as(t, ad)
	receipt := memC.castSecretVote(t, voting.ID, governance.ChoiceYes)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	later := func(d time.Duration) string { return co.Clock.Now().Add(d).Format("2006-01-02T15:04") }
	forged := func(pattern string, values url.Values, status int) []formCase {
		var cs []formCase
		for _, f := range forgedIDs {
			cs = append(cs, formCase{name: "the forged proposal id " + f + " is not found", values: values,
				path: strings.Replace(pattern, "ID", f, 1), status: status})
		}
		return cs
	}

	// proposals/new
	const (
		wholeNumbers = "Enter whole numbers of days, hours and minutes."
		titleLong    = "Keep the title under 200 characters."
	)
	valid := form("kind", governance.KindEndorseDemand, "title", "Endorse the open demand", "body", "Because.", "demand_id", id(open),
		"opens", "now", "days", "7", "hours", "0", "minutes", "0")
	newCases := []formCase{
		{name: "an unknown kind is refused", values: with(valid, "kind", "bogus"), status: 422,
			errors: errs("f-kind", "Choose what kind of proposal this is.")},
		{name: "markup as the kind is refused", values: with(valid, "kind", scriptTag), status: 422,
			errors: errs("f-kind", "Choose what kind of proposal this is.")},
		{name: "an empty title is refused", values: with(valid, "title", ""), status: 422, errors: errs("f-title", "Give the proposal a title.")},
		{name: "a title of spaces is refused", values: with(valid, "title", "  \t "), status: 422, errors: errs("f-title", "Give the proposal a title.")},
		{name: "a title of 201 characters is refused", values: with(valid, "title", strings.Repeat("t", 201)), status: 422,
			errors: errs("f-title", titleLong)},
		{name: "a title of 60,000 characters is refused", values: with(valid, "title", long), status: 422, errors: errs("f-title", titleLong)},
		{name: "a line break in the title is refused", values: with(valid, "title", "Two\nlines"), status: 422,
			errors: errs("f-title", "The title contains invalid characters.")},
		{name: "invalid UTF-8 in the title is refused", values: with(valid, "title", badUTF8), status: 422,
			errors: errs("f-title", "The title contains invalid characters.")},
		{name: "a body over 10,000 characters is refused", values: with(valid, "body", strings.Repeat("b", 10_001)), status: 422,
			errors: errs("f-body", "Keep the text under 10000 characters.")},
		{name: "a demand number that is not a number is refused", values: with(valid, "demand_id", "abc"), status: 422,
			errors: errs("f-demand_id", "Enter its number, as shown on its page."), echo: "abc"},
		{name: "SQL as the demand number is refused", values: with(valid, "demand_id", sqlOr), status: 422,
			errors: errs("f-demand_id", "Enter its number, as shown on its page."), echo: sqlOr},
		{name: "a demand that does not exist is refused", values: with(valid, "demand_id", "999999"), status: 422,
			errors: errs("f-demand_id", "There is no demand number 999999.")},
		{name: "an endorsed demand cannot be endorsed again", values: with(valid, "demand_id", id(endorsed)), status: 422,
			errors: errs("f-demand_id", "Demand "+id(endorsed)+" is endorsed: only a proposed or rejected demand can be put to an endorsement vote.")},
		{name: "a demand already under a proposal waits for it", values: with(valid, "demand_id", id(busy)), status: 422,
			errors: errs("", "Another proposal about this is already in discussion or voting. Wait for it to close.")},
		{name: "a pending resource cannot be endorsed", values: with(valid, "kind", governance.KindEndorseResource, "demand_id", "",
			"resource_id", id(pending.ID)), status: 422, errors: errs("f-resource_id", "There is no listed resource number "+id(pending.ID)+".")},
		{name: "withdrawing an endorsement the demand does not have is refused", values: with(valid, "kind", governance.KindWithdraw), status: 422,
			errors: errs("f-demand_id", "Demand "+id(open)+" is not endorsed, so there is nothing to withdraw.")},
		{name: "withdrawing a demand and a resource at once is refused", values: with(valid, "kind", governance.KindWithdraw,
			"resource_id", id(pending.ID)), status: 422, errors: errs("f-demand_id", "Withdraw one endorsement at a time: a demand or a resource.")},
		{name: "a new demand without a title or a known audience is refused", values: with(valid, "kind", governance.KindAdoptDemand,
			"new_title", "", "new_body", "Ask for it.", "new_audience", "mars"), status: 422,
			errors: errs("f-new_title", "Enter a short title for the demand.", "f-new_audience", "Choose who the demand is addressed to.")},
		{name: "a new demand without text is refused", values: with(valid, "kind", governance.KindAdoptDemand,
			"new_title", "A new demand", "new_body", " ", "new_audience", library.Audiences[0]), status: 422,
			errors: errs("f-new_body", "Say what the demand asks for, and of whom.")},
		{name: "opening later needs a time", values: with(valid, "opens", "later", "opens_at", ""), status: 422,
			errors: errs("f-opens_at", "Enter when voting opens, as a date and time (UTC).")},
		{name: "opening later in the past is refused", values: with(valid, "opens", "later", "opens_at", "2020-01-01T00:00"), status: 422,
			errors: errs("f-opens_at", "Choose a time in the future, or open voting now."), echo: "2020-01-01T00:00"},
		{name: "an opening time that is not a time is refused", values: with(valid, "opens", "later", "opens_at", "garbage"), status: 422,
			errors: errs("f-opens_at", "Enter when voting opens, as a date and time (UTC)."), echo: "garbage"},
		{name: "markup as the opening time comes back escaped", values: with(valid, "opens", "later", "opens_at", imgTag), status: 422,
			errors: errs("f-opens_at", "Enter when voting opens, as a date and time (UTC)."), echo: imgTag},
		{name: "opening 200 days ahead is refused", values: with(valid, "opens", "later", "opens_at", later(200*24*time.Hour)), status: 422,
			errors: errs("f-opens_at", "Voting can open at most 90 days ahead.")},
		{name: "an opening that is neither now nor later is refused", values: with(valid, "opens", "sometimes"), status: 422,
			errors: errs("f-opens", "Choose now or later.")},
		{name: "a negative number of days is refused", values: with(valid, "days", "-1"), status: 422, errors: errs("f-days", wholeNumbers)},
		{name: "days that are not a number are refused", values: with(valid, "days", "x"), status: 422, errors: errs("f-days", wholeNumbers), echo: "x"},
		{name: "hours that are not a number are refused", values: with(valid, "hours", "1.5"), status: 422, errors: errs("f-days", wholeNumbers)},
		{name: "a vote lasting no time at all is refused", values: with(valid, "days", "0", "hours", "0", "minutes", "0"), status: 422,
			errors: errs("f-days", "Say how long voting lasts.")},
		{name: "a vote shorter than the rule's minimum is refused", values: with(valid, "days", "6", "hours", "23", "minutes", "59"), status: 422,
			errors: errs("f-days", "Voting must last at least 7 days for this kind of proposal.")},
		{name: "a vote longer than 90 days is refused", values: with(valid, "days", "91"), status: 422,
			errors: errs("f-days", "Voting can last at most 90 days.")},
		{name: "a script tag in the title comes back escaped", values: with(valid, "title", scriptTag, "days", "x"), status: 422,
			errors: errs("f-days", wholeNumbers), echo: scriptTag},
		{name: "an attribute breakout in the title comes back escaped", values: with(valid, "title", imgTag, "days", "x"), status: 422,
			errors: errs("f-days", wholeNumbers), echo: imgTag},
		{name: "SQL in the title comes back as typed", values: with(valid, "title", sqlDrop, "days", "x"), status: 422,
			errors: errs("f-days", wholeNumbers), echo: sqlDrop},
		{name: "markup in the text comes back escaped", values: with(valid, "body", imgTag+scriptTag, "days", "x"), status: 422,
			errors: errs("f-days", wholeNumbers), echo: imgTag + scriptTag},
		{name: "an empty form gets a message on each field that needs one", values: url.Values{}, status: 422,
			errors: errs("f-kind", "Choose what kind of proposal this is.", "f-title", "Give the proposal a title.", "f-days", "Say how long voting lasts.")},
	}
	formSpec{action: "/proposals/new", page: "/proposals/new", client: memC, valid: valid, big: "body", cases: newCases}.run(t, co.app)

	// proposals/:id/vote
	const notReceipt = "That is not a receipt from this ballot. Check it and try again."
	voteValid := form("choice", governance.ChoiceNo, "receipt", receipt)
	voteCases := []formCase{
		{name: "a choice of maybe is refused", values: with(voteValid, "choice", "maybe"), status: 422,
			errors: errs("f-choice", "Choose yes, no or abstain.")},
		{name: "no choice is refused", values: with(voteValid, "choice", ""), status: 422, errors: errs("f-choice", "Choose yes, no or abstain.")},
		{name: "a choice in capitals is refused", values: with(voteValid, "choice", "YES"), status: 422,
			errors: errs("f-choice", "Choose yes, no or abstain.")},
		{name: "markup as the choice is refused", values: with(voteValid, "choice", scriptTag), status: 422,
			errors: errs("f-choice", "Choose yes, no or abstain.")},
		{name: "a receipt from no ballot is refused", values: with(voteValid, "receipt", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"), status: 422,
			errors: errs("f-receipt", notReceipt)},
		{name: "a receipt of 60,000 characters is refused", values: with(voteValid, "receipt", long), status: 422,
			errors: errs("f-receipt", "That is not a receipt from this ballot.")},
		{name: "markup as the receipt is refused", values: with(voteValid, "receipt", scriptTag), status: 422,
			errors: errs("f-receipt", notReceipt)},
		{name: "a second ballot without the receipt is refused", values: form("choice", governance.ChoiceNo), status: 409,
			errors: errs("", "You have already voted. To change your vote, enter the receipt you were given.")},
		{name: "a vote on a closed ballot is refused", values: voteValid, path: proposalPage(closed.ID) + "/vote", status: 422,
			errors: errs("", "Voting is not open on this proposal.")},
		{name: "a vote on a proposal in discussion is refused", values: voteValid, path: proposalPage(discussion.ID) + "/vote", status: 422,
			errors: errs("", "Voting is not open on this proposal.")},
	}
	voteCases = append(voteCases, forged("/proposals/ID/vote", voteValid, 404)...)
	formSpec{action: proposalPage(voting.ID) + "/vote", page: proposalPage(voting.ID), client: memC, valid: voteValid, big: "receipt",
		cases: voteCases, check: func(t *testing.T) {
			if n := co.rowCount(t, `SELECT count(*) FROM ballot_box WHERE proposal_id = ? AND receipt_hash = ? AND choice = 'yes'`,
				voting.ID, governance.ReceiptHash(receipt)); n != 1 {
				t.Errorf("the member's ballot is no longer yes in the box")
			}
		}}.run(t, co.app)

	// proposals/:id/comments
	const commentLong = "Keep comments under 5000 characters."
	commentValid := form("body", "Agreed.")
	commentCases := []formCase{
		{name: "an empty comment is refused", values: url.Values{}, status: 422, errors: errs("f-comment", "Write something first.")},
		{name: "a comment of spaces is refused", values: form("body", " \r\n\t"), status: 422, errors: errs("f-comment", "Write something first.")},
		{name: "a comment of 5,001 characters is refused", values: form("body", strings.Repeat("c", 5001)), status: 422,
			errors: errs("f-comment", commentLong)},
		{name: "a comment of 60,000 characters is refused", values: form("body", long), status: 422, errors: errs("f-comment", commentLong)},
		{name: "a long comment of markup comes back escaped", values: form("body", strings.Repeat(scriptTag+imgTag, 100)), status: 422,
			errors: errs("f-comment", commentLong), echo: strings.Repeat(scriptTag+imgTag, 100)},
		{name: "invalid UTF-8 is refused", values: form("body", badUTF8), status: 422,
			errors: errs("f-comment", "The comment contains invalid characters.")},
		{name: "a comment after the ballot closed is refused", values: commentValid, path: proposalPage(closed.ID) + "/comments", status: 422,
			errors: errs("", "Discussion has ended: this proposal is closed.")},
	}
	commentCases = append(commentCases, forged("/proposals/ID/comments", commentValid, 404)...)
	formSpec{action: proposalPage(voting.ID) + "/comments", page: proposalPage(voting.ID), client: memC, valid: commentValid, big: "body",
		cases: commentCases}.run(t, co.app)

	// proposals/:id/withdraw
	withdrawCases := []formCase{
		{name: "the author cannot withdraw once voting has opened", values: url.Values{}, status: 422,
			errors: errs("", "Only a proposal still in discussion can be withdrawn or cancelled: voting has opened.")},
		{name: "a member cannot withdraw another member's proposal", values: url.Values{}, path: proposalPage(discussion.ID) + "/withdraw",
			status: 403},
		{name: "a member cannot withdraw a closed proposal of another", values: url.Values{}, path: proposalPage(closed.ID) + "/withdraw",
			status: 403},
	}
	withdrawCases = append(withdrawCases, forged("/proposals/ID/withdraw", url.Values{}, 404)...)
	formSpec{action: proposalPage(voting.ID) + "/withdraw", page: proposalPage(voting.ID), client: memC, big: "note",
		cases: withdrawCases}.run(t, co.app)

	// admin/proposals/:id/cancel
	const (
		giveReason = "Give the reason for cancelling: members will see it."
		reasonLong = "Keep the reason under 500 characters."
	)
	cancelValid := form("reason", "A duplicate of another proposal.")
	cancelCases := []formCase{
		{name: "no reason is refused", values: url.Values{}, status: 422, errors: errs("f-cancel-reason", giveReason)},
		{name: "a reason of spaces is refused", values: form("reason", "  \n "), status: 422, errors: errs("f-cancel-reason", giveReason)},
		{name: "a reason of 501 characters is refused", values: form("reason", strings.Repeat("r", 501)), status: 422,
			errors: errs("f-cancel-reason", reasonLong)},
		{name: "a long reason of markup comes back escaped", values: form("reason", strings.Repeat(scriptTag+imgTag, 12)), status: 422,
			errors: errs("f-cancel-reason", reasonLong), echo: strings.Repeat(scriptTag+imgTag, 12)},
		{name: "invalid UTF-8 is refused", values: form("reason", badUTF8), status: 422,
			errors: errs("f-cancel-reason", "The reason contains invalid characters.")},
		{name: "a proposal open for voting cannot be cancelled", values: cancelValid, path: "/admin" + proposalPage(voting.ID) + "/cancel",
			status: 422, errors: errs("", "Only a proposal still in discussion can be withdrawn or cancelled: voting has opened.")},
		{name: "a closed proposal cannot be cancelled", values: cancelValid, path: "/admin" + proposalPage(closed.ID) + "/cancel",
			status: 422, errors: errs("", "Only a proposal still in discussion can be withdrawn or cancelled: voting has opened.")},
	}
	cancelCases = append(cancelCases, forged("/admin/proposals/ID/cancel", cancelValid, 404)...)
	formSpec{action: "/admin" + proposalPage(discussion.ID) + "/cancel", page: proposalPage(discussion.ID), client: adminC,
		valid: cancelValid, big: "reason", cases: cancelCases}.run(t, co.app)

	// admin/rules
	const (
		quorumMsg    = "Enter a quorum between 0 and 100 per cent."
		thresholdMsg = "Choose simple majority or two-thirds."
		minMsg       = "Enter a minimum voting period between 1 minute and 129,600 minutes (90 days, the longest a vote may last)."
		reminderMsg  = "Enter a number of hours between 0 (no reminder) and 720 (30 days)."
	)
	ruleValid := form("kind", governance.KindMotion, "quorum_pct", "25", "threshold", governance.ThresholdMajority,
		"min_minutes", "10080", "secret", "true", "reminder_hours", "48")
	var ruleCases []formCase
	for _, q := range []string{"101", "-1", "x", "", "12.5", sqlOr, badUTF8} {
		ruleCases = append(ruleCases, formCase{name: "a quorum of " + strconv.Quote(q) + " is refused", values: with(ruleValid, "quorum_pct", q),
			status: 422, errors: errs("f-motion-quorum", quorumMsg)})
	}
	for _, m := range []string{"0", "x", "-5", "129601", "131401", ""} {
		ruleCases = append(ruleCases, formCase{name: "a minimum period of " + strconv.Quote(m) + " is refused",
			values: with(ruleValid, "min_minutes", m), status: 422, errors: errs("f-motion-min", minMsg)})
	}
	for _, h := range []string{"721", "-1", "x", "1.5", sqlOr, badUTF8, strings.Repeat("9", 400)} {
		ruleCases = append(ruleCases, formCase{name: "reminder hours of " + strconv.Quote(h) + " are refused",
			values: with(ruleValid, "reminder_hours", h), status: 422, errors: errs("f-motion-reminder", reminderMsg)})
	}
	ruleCases = append(ruleCases,
		formCase{name: "a unanimity threshold is refused", values: with(ruleValid, "threshold", "unanimous"), status: 422,
			errors: errs("f-motion-threshold", thresholdMsg)},
		formCase{name: "markup as the threshold is refused", values: with(ruleValid, "threshold", scriptTag), status: 422,
			errors: errs("f-motion-threshold", thresholdMsg)},
		formCase{name: "markup as the quorum comes back escaped", values: with(ruleValid, "quorum_pct", imgTag), status: 422,
			errors: errs("f-motion-quorum", quorumMsg), echo: imgTag},
		formCase{name: "every bad field gets its message", values: with(ruleValid, "quorum_pct", "x", "threshold", "", "min_minutes", "0"),
			status: 422, errors: errs("f-motion-quorum", quorumMsg, "f-motion-threshold", thresholdMsg, "f-motion-min", minMsg)},
		formCase{name: "an unknown kind is refused", values: with(ruleValid, "kind", "bogus"), status: 422},
		formCase{name: "no kind is refused", values: with(ruleValid, "kind", ""), status: 422},
	)
	formSpec{action: "/admin/rules", page: "/admin/rules", client: adminC, valid: ruleValid, big: "quorum_pct", cases: ruleCases}.run(t, co.app)

	t.Run("an unknown kind of rule says so", func(t *testing.T) {
		res := adminC.submit(t, "/admin/rules", "/admin/rules", with(ruleValid, "kind", "bogus"))
		res.wantStatus(t, http.StatusUnprocessableEntity)
		res.wantText(t, "Choose a kind of proposal.")
	})

	t.Run("the valid forms are accepted", func(t *testing.T) {
		adminC.submit(t, "/admin/rules", "/admin/rules", ruleValid).wantRedirect(t, "/admin/rules")
		if page := adminC.get(t, "/admin/rules"); !strings.Contains(page.Body, `id="f-motion-reminder" name="reminder_hours" type="number" value="48"`) {
			t.Error("the rules page does not show the reminder hours saved")
		}
		memC.submit(t, proposalPage(voting.ID), proposalPage(voting.ID)+"/comments", commentValid).
			wantRedirect(t, proposalPage(voting.ID)+"#comments")
		memC.submit(t, proposalPage(voting.ID), proposalPage(voting.ID)+"/vote", voteValid).wantRedirect(t, proposalPage(voting.ID))
		adminC.submit(t, proposalPage(discussion.ID), "/admin"+proposalPage(discussion.ID)+"/cancel", cancelValid).
			wantRedirect(t, proposalPage(discussion.ID))
		res := memC.submit(t, "/proposals/new", "/proposals/new", valid)
		if res.wantStatus(t, http.StatusSeeOther) && !regexp.MustCompile(`^/proposals/\d+$`).MatchString(res.Location()) {
			t.Errorf("a new proposal redirects to %q", res.Location())
		}
	})
}

func TestVotersFindTheirBallotInThePublishedBox(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	p := co.putProposal(t, co.members[0], endorsing(co.putDemand(t, co.members[0], "Fund platform co-ops")))
	var receipts []string
	for i, choice := range []string{"yes", "no", "yes"} {
		receipts = append(receipts, co.as(t, co.members[i]).castSecretVote(t, p.ID, choice))
	}
	co.passClose(p)
	anon := co.client()
	check := func(receipt string) *response {
		t.Helper()
		res := anon.get(t, proposalPage(p.ID)+"?receipt="+url.QueryEscape(receipt))
		res.wantStatus(t, http.StatusOK)
		return res
	}
	mine := regexp.MustCompile(`<tr class="mine"><td><code>([0-9a-f]{64})</code></td><td>(\w+)</td></tr>`)

	t.Run("a voter's receipt finds their ballot", func(t *testing.T) {
		normalised := strings.ToLower(strings.ReplaceAll(receipts[1], "-", " "))
		for _, r := range []string{receipts[1], normalised} {
			res := check(r)
			found := mine.FindAllStringSubmatch(res.Body, -1)
			if len(found) != 1 || found[0][1] != governance.ReceiptHash(receipts[1]) || found[0][2] != "no" {
				t.Errorf("receipt %q: the rows marked as the voter's are %q, want the one ballot, no", r, found)
			}
			res.wantText(t, "Found: your ballot is in the box, counted as")
		}
	})

	for _, c := range []struct{ name, receipt string }{
		{"a receipt from no ballot is not found", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"},
		{"markup as the receipt comes back escaped", imgTag + scriptTag},
		{"a receipt of 10,000 characters of markup comes back escaped", strings.Repeat(scriptTag, 10_000/len(scriptTag))},
		{"SQL as the receipt is not found", sqlDrop},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := check(c.receipt)
			res.wantText(t, "No ballot in this box has that receipt. Check the code.")
			if strings.Contains(res.Body, `class="mine"`) {
				t.Errorf("a wrong receipt marks a ballot as the voter's")
			}
			if !strings.Contains(res.Body, `value="`+escaped(c.receipt)+`"`) {
				t.Errorf("the receipt typed is not echoed (escaped) in the box to correct it")
			}
			for _, raw := range []string{scriptTag, "<img src=x"} {
				if strings.Contains(res.Body, raw) {
					t.Errorf("the page contains raw markup %q", raw)
				}
			}
		})
	}
}

// atomDecisions is the part of the decisions feed the tests read.
type atomDecisions struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Entries []struct {
		Title   string `xml:"title"`
		ID      string `xml:"id"`
		Updated string `xml:"updated"`
		Summary string `xml:"summary"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

// apiProposalDoc is /api/v1/proposals/:id as the tests read it.
type apiProposalDoc struct {
	Data struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Secret *bool  `json:"secret"`
		Result *struct {
			Yes       int    `json:"yes"`
			No        int    `json:"no"`
			Abstain   int    `json:"abstain"`
			Turnout   int    `json:"turnout"`
			RollSize  int    `json:"roll_size"`
			QuorumMet bool   `json:"quorum_met"`
			Outcome   string `json:"outcome"`
		} `json:"result"`
		BoxDigest *string `json:"box_digest"`
		Box       []struct {
			Key    string `json:"key"`
			Choice string `json:"choice"`
		} `json:"box"`
	} `json:"data"`
}

func TestClosedBallotsArePublishedInTheFeedAndTheAPI(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	secretP := co.putProposal(t, co.members[0], endorsing(co.putDemand(t, co.members[0], "Fund platform co-ops")))
	co.setSecrecy(t, co.admin, governance.KindMotion, false)
	openP := co.putProposal(t, co.members[1], motion("Meet monthly", 7, time.Time{}))
	running := co.putProposal(t, co.members[2], motion("Still being decided", 30, time.Time{}))

	receipts := map[string]string{}
	voterClients := make([]*client, 3)
	for i, choice := range []string{"yes", "yes", "no"} {
		voterClients[i] = co.as(t, co.members[i])
		receipts[voterClients[i].castSecretVote(t, secretP.ID, choice)] = choice
	}
	rollCall := map[string]string{}
	for i, choice := range []string{"yes", "no", "abstain"} {
		voterClients[i].castVote(t, openP.ID, choice, "").wantRedirect(t, proposalPage(openP.ID))
		rollCall[strconv.FormatInt(co.members[i].ID, 10)] = choice
	}
	voterClients[0].castVote(t, running.ID, "yes", "").wantRedirect(t, proposalPage(running.ID))
	co.passClose(openP)
	anon := co.client()

	t.Run("the feed is Atom and lists each closed ballot with its outcome", func(t *testing.T) {
		res := anon.get(t, "/feed.atom")
		res.wantStatus(t, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
			t.Errorf("the feed is served as %q", ct)
		}
		var feed atomDecisions
		if err := xml.Unmarshal([]byte(res.Body), &feed); err != nil {
			t.Fatalf("the feed is not Atom: %v\n%s", err, res.Body)
		}
		if _, err := time.Parse(time.RFC3339, feed.Updated); err != nil || feed.Title == "" || feed.ID == "" {
			t.Errorf("the feed lacks a title, id or valid updated time: %q %q %q", feed.Title, feed.ID, feed.Updated)
		}
		want := map[string]string{
			co.URL + proposalPage(secretP.ID): secretP.Title + ": carried|2 yes, 1 no, 0 abstain; turnout 3 of 5",
			co.URL + proposalPage(openP.ID):   openP.Title + ": defeated|1 yes, 1 no, 1 abstain; turnout 3 of 5",
		}
		if len(feed.Entries) != len(want) {
			t.Errorf("the feed has %d entries, want %d (closed ballots only)", len(feed.Entries), len(want))
		}
		for _, e := range feed.Entries {
			w, ok := want[e.ID]
			if !ok {
				t.Errorf("the feed lists %q (%s), which has not closed", e.Title, e.ID)
				continue
			}
			title, summary, _ := strings.Cut(w, "|")
			if e.Title != title || !strings.Contains(e.Summary, summary) || e.Link.Href != e.ID {
				t.Errorf("feed entry %s: title %q, summary %q, link %q; want %q and a summary with %q", e.ID, e.Title, e.Summary, e.Link.Href, title, summary)
			}
			if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
				t.Errorf("feed entry %s: updated %q: %v", e.ID, e.Updated, err)
			}
		}
		if strings.Contains(res.Body, running.Title) {
			t.Errorf("the feed shows the running ballot %q", running.Title)
		}
	})

	get := func(t *testing.T, id int64) apiProposalDoc {
		t.Helper()
		res := anon.get(t, "/api/v1"+proposalPage(id))
		res.wantStatus(t, http.StatusOK)
		var doc apiProposalDoc
		if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
			t.Fatalf("GET /api/v1/proposals/%d: %v\n%s", id, err, res.Body)
		}
		if doc.Data.Status != governance.ProposalClosed || doc.Data.Result == nil || doc.Data.BoxDigest == nil {
			t.Fatalf("GET /api/v1/proposals/%d: status %q, result %v, box digest %v; want it closed with both", id,
				doc.Data.Status, doc.Data.Result, doc.Data.BoxDigest)
		}
		return doc
	}

	t.Run("a closed secret ballot publishes its count and a box of receipt hashes", func(t *testing.T) {
		d := get(t, secretP.ID).Data
		if r := d.Result; r.Yes != 2 || r.No != 1 || r.Abstain != 0 || r.Turnout != 3 || r.RollSize != 5 || r.Outcome != governance.OutcomeCarried {
			t.Errorf("result %+v, want 2 yes, 1 no, 0 abstain of 5, carried", *r)
		}
		hashes := map[string]string{}
		for receipt, choice := range receipts {
			hashes[governance.ReceiptHash(receipt)] = choice
		}
		if len(d.Box) != len(hashes) {
			t.Errorf("the box has %d ballots, want %d", len(d.Box), len(hashes))
		}
		hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
		for _, b := range d.Box {
			if !hex64.MatchString(b.Key) || hashes[b.Key] != b.Choice {
				t.Errorf("box line %q %q is not a voter's receipt hash and choice", b.Key, b.Choice)
			}
		}
	})

	t.Run("a closed open ballot publishes its roll-call", func(t *testing.T) {
		d := get(t, openP.ID).Data
		if r := d.Result; r.Yes != 1 || r.No != 1 || r.Abstain != 1 || r.Outcome != governance.OutcomeDefeated {
			t.Errorf("result %+v, want 1 yes, 1 no, 1 abstain, defeated", *r)
		}
		got := map[string]string{}
		for _, b := range d.Box {
			got[b.Key] = b.Choice
		}
		if len(got) != len(rollCall) || len(d.Box) != len(rollCall) {
			t.Errorf("the roll-call is %v, want %v", got, rollCall)
		}
		for member, choice := range rollCall {
			if got[member] != choice {
				t.Errorf("the roll-call has member %s voting %q, want %q", member, got[member], choice)
			}
		}
		page := anon.get(t, proposalPage(openP.ID))
		page.wantText(t, "Roll-call")
		for member, choice := range rollCall {
			if !strings.Contains(page.Body, "<tr><td>"+member+"</td><td>"+choice+"</td></tr>") {
				t.Errorf("the page's roll-call lacks member %s voting %s", member, choice)
			}
		}
	})

	t.Run("the API lists closed ballots only", func(t *testing.T) {
		res := anon.get(t, "/api/v1/proposals")
		res.wantStatus(t, http.StatusOK)
		var list struct {
			Data []struct {
				ID int64 `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(res.Body), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Data) != 2 || strings.Contains(res.Body, running.Title) {
			t.Errorf("the API lists %d proposals (%s), want the two closed ones", len(list.Data), res.Body)
		}
		anon.get(t, "/api/v1"+proposalPage(running.ID)).wantStatus(t, http.StatusNotFound)
	})
}
