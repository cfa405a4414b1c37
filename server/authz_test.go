package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/outbox"
	"plenary/library"
)

// role is who is asking.
type role int

const (
	anonymous role = iota
	applicant
	activeMember
	suspendedMember
	admin
	numRoles
)

var roleNames = [numRoles]string{
	anonymous:       "an anonymous visitor",
	applicant:       "an applicant",
	activeMember:    "an active member",
	suspendedMember: "a suspended member's old session",
	admin:           "an admin",
}

// expect is what each role gets: "200", "404", "422", "303 /where", or
// "login" for a 303 to the login page (keeping ?next= on a GET).
type expect [numRoles]string

func everyone(want string) expect {
	var e expect
	for r := range e {
		e[r] = want
	}
	return e
}

// members is a page for anyone logged in, applicants included. A suspended
// member's old session is nobody's.
func members(want string) expect {
	return expect{anonymous: "login", applicant: want, activeMember: want, suspendedMember: "login", admin: want}
}

// actives is a page for active members only: applicants wait until they
// are approved.
func actives(want string) expect {
	return expect{anonymous: "login", applicant: "403", activeMember: want, suspendedMember: "login", admin: want}
}

// admins is a page for active admins only.
func admins(want string) expect {
	return expect{anonymous: "login", applicant: "403", activeMember: "403", suspendedMember: "login", admin: want}
}

// routeCase is one request to a route: the path with its parameters filled
// in, the body of a POST (csrf_token is added), what each role gets, and
// which roles' requests are meant to change the database.
type routeCase struct {
	path    string
	body    url.Values
	want    expect
	changes []role
	absent  string // text that must not be in the body for anyone: a leak
}

// pendingTitle is the title of a resource waiting for an admin: only its
// author and the admins may see it.
const pendingTitle = "Pending report by a member"

// routeFixture is a co-op with someone in every role, and members for the
// admin's decisions to act on.
type routeFixture struct {
	app        *app
	users      [numRoles]user
	clients    [numRoles]*client
	oldCookies []*http.Cookie // the suspended member's session from before the suspension

	candidate user // an applicant the admin approves
	bystander user // an active member the admin suspends
	onHold    user // a suspended member the admin reinstates
	leaver    user // an active member the admin marks as left

	openToken     string // an open invitation's token
	calendarToken string // the active member's calendar feed
	revokeID      int64  // an open invitation the admin revokes

	resetee        user   // an active member with a password-reset link
	resetToken     string // resetee's open link
	usedResetToken string // a link of the applicant's, already used
	gone           user   // a member who has left: no reset for them

	unsubscribe string // the active member's one-click link for voting_opened emails
	queuedMail  int64  // a message in the outbox, queued: not one to resend

	memberResource int64 // pending, submitted by the active member
	listedResource int64 // listed, submitted by the admin
	queued         int64 // pending, which the admin lists
	memberDemand   int64 // proposed by the active member
	adminDemand    int64 // proposed by the admin

	closedProposal int64 // a motion whose ballot has closed: public
	openProposal   int64 // a secret motion open for voting, by the active member
	discussion     int64 // a motion in discussion, by the admin
	toWithdraw     int64 // in discussion, by the active member, who withdraws it
	toCancel       int64 // in discussion, by the admin, who cancels it

	meetingRoutes // issue 15: proxies and general meetings (meetings_test.go)
}

// openTitle is the title of the proposal open for voting: members follow it,
// but the public API and feed list only closed ballots.
const openTitle = "Open motion under ballot"

func newRouteFixture(t *testing.T) *routeFixture {
	t.Helper()
	// Every role asks for a reset of the same address; the limit per
	// address is tested on its own.
	a := newApp(t, func(g *governance.Service) { g.ResetEmailLimit.Max = 100 })
	f := &routeFixture{app: a}
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	f.users[admin] = ad
	ctx := context.Background()
	propose := func(author user, title, opens string) int64 {
		in := governance.ProposalInput{Kind: governance.KindMotion, Title: title, Opens: opens, Days: "7"}
		if opens == "later" {
			in.OpensAt = a.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04")
		}
		p, err := a.Gov.Propose(ctx, author.Member, in)
		if err != nil {
			t.Fatalf("propose %q: %v", title, err)
		}
		return p.ID
	}
	// A ballot that ran its course before anyone else joined: the admin
	// votes, a week passes, it closes.
	f.closedProposal = propose(ad, "A decided motion", "now")
	if _, err := a.Gov.Vote(ctx, ad.Member, f.closedProposal, governance.ChoiceYes, ""); err != nil {
		t.Fatal(err)
	}
	a.Clock.Advance(7*24*time.Hour + time.Minute)
	if err := a.Gov.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	f.users[applicant] = a.addApplicant(t, "Ali Applicant", "ali@example.org")
	f.users[activeMember] = a.addMember(t, ad, "Mo Member", "mo@example.org")
	f.users[suspendedMember] = a.addMember(t, ad, "Sam Suspended", "sam@example.org")
	f.candidate = a.addApplicant(t, "Cat Candidate", "cat@example.org")
	f.bystander = a.addMember(t, ad, "Bo Bystander", "bo@example.org")
	f.onHold = a.suspend(t, ad, a.addMember(t, ad, "Hal Onhold", "hal@example.org"))
	f.leaver = a.addMember(t, ad, "Lee Leaver", "lee@example.org")
	_, f.openToken = a.invite(t, ad, "open")
	f.revokeID, _ = a.invite(t, ad, "to revoke")
	f.resetee = a.addMember(t, ad, "Rita Resetee", "rita@example.org")
	var err error
	if f.calendarToken, err = a.Gov.NewCalendarToken(ctx, f.users[activeMember].ID); err != nil {
		t.Fatal(err)
	}
	f.resetToken = a.issueReset(t, ad, f.resetee)
	f.usedResetToken = a.issueReset(t, ad, f.users[applicant])
	if _, err := a.Gov.ResetPassword(ctx, f.usedResetToken, password, password); err != nil {
		t.Fatal(err)
	}
	f.unsubscribe = a.token(t, f.users[activeMember], outbox.VotingOpened)
	if err := a.DB.R.Get(&f.queuedMail, `SELECT min(id) FROM notifications WHERE status = 'queued'`); err != nil {
		t.Fatal(err)
	}
	f.gone = a.addMember(t, ad, "Gil Gone", "gil@example.org")
	if err := a.Gov.MarkLeft(ctx, ad.Member, f.gone.ID); err != nil {
		t.Fatal(err)
	}

	asMember := library.Viewer{ID: f.users[activeMember].ID, Active: true}
	asAdmin := library.Viewer{ID: ad.ID, Active: true, Admin: true}
	submit := func(v library.Viewer, title string) int64 {
		r, err := a.Lib.SubmitResource(ctx, v, library.ResourceInput{Title: title, URL: "https://example.org/" + url.PathEscape(title),
			Format: "report", Language: "en"})
		if err != nil {
			t.Fatalf("submit resource %q: %v", title, err)
		}
		return r.ID
	}
	draft := func(v library.Viewer, title string) int64 {
		d, err := a.Lib.DraftDemand(ctx, v, library.DemandInput{Title: title, Body: "Fund platform co-ops.", Audience: library.Audiences[0]})
		if err != nil {
			t.Fatalf("draft demand %q: %v", title, err)
		}
		return d.ID
	}
	f.memberResource = submit(asMember, pendingTitle)
	f.listedResource = submit(asAdmin, "A listed report")
	if err := a.Lib.SetResourceStatus(ctx, asAdmin, f.listedResource, library.StatusListed); err != nil {
		t.Fatal(err)
	}
	f.queued = submit(asAdmin, "A queued report")
	f.memberDemand = draft(asMember, "A member's demand")
	f.adminDemand = draft(asAdmin, "An admin's demand")
	// Voting opens now on one motion, with everyone but the applicants on
	// the roll; three more wait in discussion until two days from now.
	f.openProposal = propose(f.users[activeMember], openTitle, "now")
	f.discussion = propose(ad, "A motion in discussion", "later")
	f.toWithdraw = propose(f.users[activeMember], "A motion its author withdraws", "later")
	f.toCancel = propose(ad, "A motion the admin cancels", "later")
	f.addMeetings(t)

	for r := range numRoles {
		f.clients[r] = a.client()
		if r != anonymous {
			f.clients[r].login(t, f.users[r])
		}
	}
	// The suspended member logged in while active; then an admin suspended
	// them. Their browser still holds the cookie from before.
	f.oldCookies = f.clients[suspendedMember].cookies()
	f.users[suspendedMember] = a.suspend(t, ad, f.users[suspendedMember])
	return f
}

// client is the browser of role r for one request. The suspended member's
// is the cookie from before the suspension every time, so each request is
// the first one it makes since.
func (f *routeFixture) client(r role) *client {
	if r == suspendedMember {
		return f.app.withCookies(f.oldCookies)
	}
	return f.clients[r]
}

// table says, for every route, what each role gets. A route missing from it
// fails TestEveryRouteAnswersEachRoleAsExpected.
func (f *routeFixture) table() map[string][]routeCase {
	id := func(u user) string { return "/admin/members/" + strconv.FormatInt(u.ID, 10) }
	resource := func(id int64) string { return "/library/" + strconv.FormatInt(id, 10) }
	demand := func(id int64) string { return "/demands/" + strconv.FormatInt(id, 10) }
	proposal := func(id int64) string { return "/proposals/" + strconv.FormatInt(id, 10) }
	apiProposal := func(id int64) string { return "/api/v1" + proposal(id) }
	meeting := func(id int64) string { return "/meetings/" + strconv.FormatInt(id, 10) }
	loggedIn := []role{applicant, activeMember, admin}
	voters := []role{activeMember, admin}
	byAdmin := []role{admin}
	byMember := []role{activeMember}
	byAnyone := []role{anonymous, applicant, activeMember, suspendedMember, admin}
	// running is a proposal in discussion or voting: the co-op's members
	// follow it; applicants and the public see it once it has closed.
	running := expect{anonymous: "404", applicant: "404", activeMember: "200", suspendedMember: "404", admin: "200"}
	// onRunning is what a vote posted to a running proposal gets when the
	// member's vote is refused with want: an applicant, who cannot see the
	// proposal, finds nothing there.
	onRunning := func(want string) expect {
		return expect{anonymous: "login", applicant: "404", activeMember: want, suspendedMember: "login", admin: want}
	}
	yes := form("choice", governance.ChoiceYes)
	comment := form("body", "I support this.")
	reason := form("reason", "Out of order.")
	return map[string][]routeCase{
		// Public.
		"GET /healthz": {{path: "/healthz", want: everyone("200")}},
		"GET /static/*filepath": {
			{path: "/static/plenary.css", want: everyone("200")},
			{path: "/static/vendor/pico/pico.min.css", want: everyone("200")},
			{path: "/static/no-such-file.css", want: everyone("404")},
		},
		"HEAD /static/*filepath": {{path: "/static/plenary.css", want: everyone("200")}},
		"GET /":                  {{path: "/", want: everyone("200")}},
		"GET /ledger":            {{path: "/ledger", want: everyone("200")}, {path: "/ledger?page=abc", want: everyone("200")}},
		// Someone logged in has an account already: the form sends them to it.
		"GET /join": {{path: "/join", want: expect{anonymous: "200", applicant: "303 /account", activeMember: "303 /account",
			suspendedMember: "200", admin: "303 /account"}}},
		"POST /join":   {{path: "/join", want: everyone("422")}},
		"GET /login":   {{path: "/login", want: everyone("200")}},
		"POST /login":  {{path: "/login", want: everyone("422")}},
		"POST /logout": {{path: "/logout", want: everyone("303 /"), changes: loggedIn}},
		// The co-op has an admin: the setup page is gone for everyone.
		"GET /setup":  {{path: "/setup", want: everyone("404")}, {path: "/setup?token=bogus", want: everyone("404")}},
		"POST /setup": {{path: "/setup", body: form("token", "bogus"), want: everyone("404")}},
		"GET /invite/:token": {
			{path: "/invite/" + f.openToken, want: everyone("200")},
			{path: "/invite/bogus", want: everyone("404")},
		},
		"POST /invite/:token": {
			{path: "/invite/" + f.openToken, want: everyone("422")},
			// A wrong link is counted against the address: that is the point.
			{path: "/invite/bogus", want: everyone("404"), changes: byAnyone},
		},
		"GET /forgot": {{path: "/forgot", want: everyone("200")}},
		"POST /forgot": {
			{path: "/forgot", want: everyone("422")},
			// The request is counted for the rate limits, whoever asks.
			{path: "/forgot", body: form("email", "nobody@example.org"), want: everyone("303 /login"), changes: byAnyone},
		},
		"GET /reset/:token": {
			{path: "/reset/" + f.resetToken, want: everyone("200")},
			{path: "/reset/" + f.usedResetToken, want: everyone("410")},
			{path: "/reset/bogus", want: everyone("404")},
		},
		// The signed link is the credential, for anyone who follows it:
		// it stops the active member's voting emails once (the first
		// asker), and a link that is not one of ours is not found.
		"GET /unsubscribe/:token": {
			{path: "/unsubscribe/" + f.unsubscribe, want: everyone("200")},
			{path: "/unsubscribe/bogus", want: everyone("404")},
		},
		"POST /unsubscribe/:token": {
			{path: "/unsubscribe/" + f.unsubscribe, want: everyone("200"), changes: []role{anonymous}},
			{path: "/unsubscribe/bogus", want: everyone("404")},
		},
		"POST /reset/:token": {
			{path: "/reset/" + f.resetToken, want: everyone("422")},
			{path: "/reset/" + f.usedResetToken, body: form("password", "a whole new password", "password_repeat", "a whole new password"), want: everyone("410")},
			{path: "/reset/bogus", want: everyone("404")},
		},

		// The library and the demands register.
		"GET /library": {
			{path: "/library", want: everyone("200")},
			{path: "/library?q=%27%22%3Cscript%3E+OR+1%3D1&topic=%FF&from=abc&to=-5&sort=bogus&page=-1&per_page=100000", want: everyone("200")},
		},
		"GET /library/feed.atom":       {{path: "/library/feed.atom", want: everyone("200"), absent: pendingTitle}},
		"GET /library/export.json":     {{path: "/library/export.json", want: everyone("200"), absent: pendingTitle}},
		"GET /library/export.csv":      {{path: "/library/export.csv?q=%3D1%2B1&topic=%FF", want: everyone("200"), absent: pendingTitle}},
		"GET /library/export.csl.json": {{path: "/library/export.csl.json", want: everyone("200"), absent: pendingTitle}},
		"GET /library/:id": {
			{path: resource(f.listedResource), want: everyone("200")},
			{path: resource(f.memberResource), want: expect{anonymous: "404", applicant: "404", activeMember: "200", suspendedMember: "404", admin: "200"}},
			{path: "/library/999999", want: everyone("404")},
			{path: "/library/abc", want: everyone("404")},
		},
		"GET /library/new":  {{path: "/library/new", want: actives("200")}},
		"POST /library/new": {{path: "/library/new", want: actives("422")}},
		"GET /library/:id/edit": {
			{path: resource(f.memberResource) + "/edit", want: actives("200")},
			{path: resource(f.listedResource) + "/edit", want: expect{anonymous: "login", applicant: "403", activeMember: "403", suspendedMember: "login", admin: "200"}},
			{path: "/library/999999/edit", want: actives("404")},
		},
		"POST /library/:id/edit": {
			{path: resource(f.memberResource) + "/edit", want: actives("422")},
			{path: resource(f.listedResource) + "/edit", want: expect{anonymous: "login", applicant: "403", activeMember: "403", suspendedMember: "login", admin: "422"}},
		},
		"GET /demands": {{path: "/demands", want: everyone("200")}, {path: "/demands?audience=%3Cscript%3E&status=%27&page=abc", want: everyone("200")}},
		"GET /demands/:id": {
			{path: demand(f.memberDemand), want: everyone("200")},
			{path: "/demands/999999", want: everyone("404")},
			{path: "/demands/abc", want: everyone("404")},
		},
		"GET /demands/new":  {{path: "/demands/new", want: actives("200")}},
		"POST /demands/new": {{path: "/demands/new", want: actives("422")}},
		"GET /demands/:id/edit": {
			{path: demand(f.memberDemand) + "/edit", want: actives("200")},
			{path: demand(f.adminDemand) + "/edit", want: expect{anonymous: "login", applicant: "403", activeMember: "403", suspendedMember: "login", admin: "200"}},
		},
		"POST /demands/:id/edit": {
			{path: demand(f.memberDemand) + "/edit", want: actives("422")},
			{path: demand(f.adminDemand) + "/edit", want: expect{anonymous: "login", applicant: "403", activeMember: "403", suspendedMember: "login", admin: "422"}},
		},

		// The read-only API: public, and it shows only what the public may see.
		"GET /api/v1/resources": {{path: "/api/v1/resources", want: everyone("200"), absent: pendingTitle}},
		"GET /api/v1/resources/:id": {
			{path: "/api/v1/resources/" + strconv.FormatInt(f.listedResource, 10), want: everyone("200")},
			{path: "/api/v1/resources/" + strconv.FormatInt(f.memberResource, 10), want: everyone("404")},
			{path: "/api/v1/resources/999999", want: everyone("404")},
			{path: "/api/v1/resources/abc", want: everyone("404")},
		},
		"GET /api/v1/demands": {{path: "/api/v1/demands", want: everyone("200")}},
		"GET /api/v1/demands/:id": {
			{path: "/api/v1/demands/" + strconv.FormatInt(f.memberDemand, 10), want: everyone("200")},
			{path: "/api/v1/demands/999999", want: everyone("404")},
		},

		// Proposals and ballots. Running ones are for the co-op's members;
		// the public, the API and the feed see them once they close.
		"GET /proposals": {{path: "/proposals", want: everyone("200")}},
		"GET /proposals/:id": {
			{path: proposal(f.closedProposal), want: everyone("200")},
			{path: proposal(f.closedProposal) + "?receipt=" + url.QueryEscape(scriptTag), want: everyone("200"), absent: scriptTag},
			{path: proposal(f.openProposal), want: running},
			{path: proposal(f.discussion), want: running},
			{path: "/proposals/999999", want: everyone("404")},
			{path: "/proposals/abc", want: everyone("404")},
		},
		"GET /proposals/:id/calendar.ics": {
			{path: proposal(f.closedProposal) + "/calendar.ics", want: everyone("200")},
			{path: proposal(f.openProposal) + "/calendar.ics", want: running},
			{path: proposal(f.discussion) + "/calendar.ics", want: running},
			{path: "/proposals/999999/calendar.ics", want: everyone("404")},
			{path: "/proposals/abc/calendar.ics", want: everyone("404")},
		},
		// The address is the key: whoever holds it gets the feed, logged in or not.
		"GET /calendar/:token": {
			{path: "/calendar/" + f.calendarToken + ".ics", want: everyone("200")},
			{path: "/calendar/" + f.calendarToken, want: everyone("404")},
			{path: "/calendar/bogus.ics", want: everyone("404")},
			{path: "/calendar/.ics", want: everyone("404")},
		},
		"GET /feed.atom":        {{path: "/feed.atom", want: everyone("200"), absent: openTitle}},
		"GET /api/v1/proposals": {{path: "/api/v1/proposals", want: everyone("200"), absent: openTitle}},
		"GET /api/v1/proposals/:id": {
			{path: apiProposal(f.closedProposal), want: everyone("200")},
			{path: apiProposal(f.openProposal), want: everyone("404"), absent: openTitle},
			{path: apiProposal(f.discussion), want: everyone("404")},
			{path: "/api/v1/proposals/999999", want: everyone("404")},
			{path: "/api/v1/proposals/abc", want: everyone("404")},
		},
		"GET /api/v1/ledger": {{path: "/api/v1/ledger", want: everyone("200")}, {path: "/api/v1/ledger?page=-1", want: everyone("200")}},
		// Issue 14: what choices settled is public; making one is for active members.
		"GET /officers":          {{path: "/officers", want: everyone("200")}},
		"GET /api/v1/officers":   {{path: "/api/v1/officers", want: everyone("200")}},
		"GET /api/v1/priorities": {{path: "/api/v1/priorities", want: everyone("200")}},
		"GET /proposals/new": {
			{path: "/proposals/new", want: actives("200")},
			{path: "/proposals/new?kind=bogus&demand=%3Cscript%3E&resource=abc", want: actives("200")},
			{path: "/proposals/new?kind=prioritise_demands", want: actives("200")},
			{path: "/proposals/new?kind=choose_resources&q=%3Cscript%3E&resource_id=abc", want: actives("200"), absent: scriptTag},
			{path: "/proposals/new?kind=elect", want: actives("200")},
			{path: "/proposals/new?kind=poll", want: actives("200")},
		},
		"POST /proposals/new": {{path: "/proposals/new", want: actives("422")},
			{path: "/proposals/new", body: form("kind", governance.KindPoll, "title", "Which day?", "label[0]", scriptTag), want: actives("422"),
				absent: scriptTag},
			{path: "/proposals/new", body: form("kind", governance.KindElect, "more", "1"), want: actives("200")}},
		// Only what a ballot endorsed is amended; the fixture endorses nothing.
		"GET /proposals/amend": {
			{path: "/proposals/amend?resource=" + strconv.FormatInt(f.listedResource, 10), want: actives("409")},
			{path: "/proposals/amend?demand=" + strconv.FormatInt(f.memberDemand, 10), want: actives("409")},
			{path: "/proposals/amend?demand=999999", want: actives("404")},
			{path: "/proposals/amend?resource=%3Cscript%3E", want: actives("404")},
		},
		"POST /proposals/amend": {{path: "/proposals/amend", want: actives("422")}},
		// Voting checks the frozen roll, not today's status, so applicants
		// get past the door and are stopped by the ballot.
		"POST /proposals/:id/vote": {
			{path: proposal(f.openProposal) + "/vote", body: yes, want: onRunning("303 " + proposal(f.openProposal)), changes: voters},
			{path: proposal(f.openProposal) + "/vote", body: form("choice", "maybe"), want: onRunning("422")},
			{path: proposal(f.discussion) + "/vote", body: yes, want: onRunning("422")},
			{path: proposal(f.closedProposal) + "/vote", body: yes, want: members("422")},
			{path: "/proposals/999999/vote", body: yes, want: members("404")},
			{path: "/proposals/abc/vote", body: yes, want: members("404")},
		},
		"POST /proposals/:id/comments": {
			{path: proposal(f.openProposal) + "/comments", body: comment, want: actives("303 " + proposal(f.openProposal) + "#comments"), changes: voters},
			{path: proposal(f.discussion) + "/comments", want: actives("422")},
			{path: proposal(f.closedProposal) + "/comments", body: comment, want: actives("422")},
			{path: "/proposals/999999/comments", body: comment, want: actives("404")},
		},
		"POST /proposals/:id/withdraw": {
			{path: proposal(f.toWithdraw) + "/withdraw", want: expect{anonymous: "login", applicant: "403",
				activeMember: "303 " + proposal(f.toWithdraw), suspendedMember: "login", admin: "403"}, changes: byMember},
			{path: proposal(f.openProposal) + "/withdraw", want: expect{anonymous: "login", applicant: "403",
				activeMember: "422", suspendedMember: "login", admin: "403"}},
			// The admin's proposal: another member may not withdraw it, and by
			// now the admin has cancelled it (the cancel route runs first).
			{path: proposal(f.toCancel) + "/withdraw", want: expect{anonymous: "login", applicant: "403",
				activeMember: "403", suspendedMember: "login", admin: "422"}},
			{path: "/proposals/999999/withdraw", want: actives("404")},
		},

		// Members.
		"GET /account":                {{path: "/account", want: members("200")}},
		"POST /account/name":          {{path: "/account/name", want: members("422")}},
		"POST /account/email":         {{path: "/account/email", want: members("422")}},
		"POST /account/password":      {{path: "/account/password", want: members("422")}},
		"POST /account/notifications": {{path: "/account/notifications", want: members("422")}},
		"POST /account/calendar":      {{path: "/account/calendar", want: members("303 /account#calendar-h"), changes: loggedIn}},
		"POST /account/zone": {
			{path: "/account/zone", body: form("time_zone", "Mars/Olympus_Mons"), want: members("422")},
			{path: "/account/zone", body: form("time_zone", "Europe/Paris"), want: members("303 /account"), changes: loggedIn},
			{path: "/account/zone", want: members("303 /account"), changes: loggedIn}, // back to the co-op's
		},

		// Admins.
		"GET /admin/members": {
			{path: "/admin/members", want: admins("200")},
			{path: "/admin/members?q=%27%3B+DROP+TABLE+members%3B+--&status=bogus&page=-1", want: admins("200")},
			{path: "/admin/members?q=" + url.QueryEscape(strings.Repeat("€", 100)) + "&page=99999999999", want: admins("200")},
			{path: "/admin/members?q=%FF%FE%25_", want: admins("200")},
		},
		"GET /admin/members/:id": {
			{path: id(f.users[activeMember]), want: admins("200")},
			{path: "/admin/members/999999", want: admins("404")},
			{path: "/admin/members/abc", want: admins("404")},
			{path: "/admin/members/-1", want: admins("404")},
		},
		"POST /admin/members/:id/approve": {
			{path: id(f.candidate) + "/approve", want: admins("303 " + id(f.candidate)), changes: byAdmin},
			{path: id(f.users[activeMember]) + "/approve", want: admins("422")},
		},
		"POST /admin/members/:id/reject": {
			{path: id(f.users[applicant]) + "/reject", want: admins("422")},
			{path: "/admin/members/999999/reject", body: form("reason", "No."), want: admins("404")},
		},
		"POST /admin/members/:id/suspend": {
			{path: id(f.bystander) + "/suspend", want: admins("303 " + id(f.bystander)), changes: byAdmin},
			{path: id(f.users[admin]) + "/suspend", want: admins("422")}, // the last admin
		},
		"POST /admin/members/:id/reinstate": {
			{path: id(f.onHold) + "/reinstate", want: admins("303 " + id(f.onHold)), changes: byAdmin},
			{path: id(f.users[activeMember]) + "/reinstate", want: admins("422")},
		},
		"POST /admin/members/:id/role": {
			{path: id(f.users[activeMember]) + "/role", want: admins("422")},
			{path: "/admin/members/abc/role", body: form("role", "admin"), want: admins("404")},
		},
		"POST /admin/members/:id/leave": {
			{path: id(f.leaver) + "/leave", want: admins("303 " + id(f.leaver)), changes: byAdmin},
			{path: id(f.users[admin]) + "/leave", want: admins("422")}, // the last admin
		},
		"POST /admin/members/:id/erase": {
			{path: id(f.users[activeMember]) + "/erase", want: admins("422")},
			{path: "/admin/members/999999/erase", body: form("confirm", "yes"), want: admins("404")},
		},
		"POST /admin/members/:id/reset": {
			{path: id(f.users[activeMember]) + "/reset", want: admins("303 " + id(f.users[activeMember])), changes: byAdmin},
			{path: id(f.gone) + "/reset", want: admins("422")},
			{path: "/admin/members/999999/reset", want: admins("404")},
			{path: "/admin/members/abc/reset", want: admins("404")},
		},
		"GET /admin/invitations":          {{path: "/admin/invitations", want: admins("200")}},
		"GET /admin/members/register.csv": {{path: "/admin/members/register.csv", want: admins("200")}},
		"GET /admin/members/import":       {{path: "/admin/members/import", want: admins("200")}},
		"POST /admin/members/import": {
			{path: "/admin/members/import", want: admins("422")},
			{path: "/admin/members/import", body: form("csv", "name,email\nIvo Imported,ivo@example.org\nBad,bad\n"), want: admins("422")},
			{path: "/admin/members/import", body: form("csv", "name,email\nIvo Imported,ivo@example.org\n"), want: admins("200")},
			{path: "/admin/members/import", body: form("csv", "name,email\nIvo Imported,ivo@example.org\n", "confirm", "yes"),
				want: admins("303 /admin/members"), changes: byAdmin},
		},
		"GET /admin/invitations/bulk": {{path: "/admin/invitations/bulk", want: admins("200")}},
		"POST /admin/invitations/bulk": {
			{path: "/admin/invitations/bulk", want: admins("422")},
			{path: "/admin/invitations/bulk", body: form("csv", "Bea,bea@example.org\nMo,mo@example.org\n"), want: admins("422")}, // Mo is a member
			{path: "/admin/invitations/bulk", body: form("csv", "Bea,bea@example.org,admin\n"), want: admins("200")},
			{path: "/admin/invitations/bulk", body: form("csv", "Bea,bea@example.org,admin\n", "days", "91", "confirm", "yes"), want: admins("422")},
			{path: "/admin/invitations/bulk", body: form("csv", "Bea,bea@example.org,admin\n", "confirm", "yes"),
				want: admins("303 /admin/invitations"), changes: byAdmin},
		},
		"GET /admin/rules":    {{path: "/admin/rules", want: admins("200")}},
		"GET /admin/settings": {{path: "/admin/settings", want: admins("200")}},
		"POST /admin/settings": {
			{path: "/admin/settings", want: admins("422")},
			{path: "/admin/settings", body: form("time_zone", "Local"), want: admins("422")},
			{path: "/admin/settings", body: form("time_zone", "Europe/Lisbon"), want: admins("303 /admin/settings"), changes: byAdmin},
		},
		"GET /admin/mail": {
			{path: "/admin/mail", want: admins("200")},
			{path: "/admin/mail?status=failed&kind=invitation&page=2", want: admins("200")},
			{path: "/admin/mail?status=%27%3B+DROP+TABLE+notifications%3B+--&kind=%3Cscript%3E&page=-1", want: admins("200")},
		},
		"POST /admin/mail/:id/resend": {
			{path: "/admin/mail/" + strconv.FormatInt(f.queuedMail, 10) + "/resend", want: admins("422")},
			{path: "/admin/mail/999999/resend", want: admins("404")},
			{path: "/admin/mail/abc/resend", want: admins("404")},
			{path: "/admin/mail/-1/resend", want: admins("404")},
		},
		"POST /admin/rules": {
			{path: "/admin/rules", body: form("kind", governance.KindMotion, "quorum_pct", "30", "threshold", governance.ThresholdMajority,
				"min_minutes", "10080", "secret", "true"), want: admins("303 /admin/rules"), changes: byAdmin},
			{path: "/admin/rules", want: admins("422")},
			{path: "/admin/rules", body: form("kind", governance.KindMotion, "quorum_pct", "101", "threshold", governance.ThresholdMajority,
				"min_minutes", "10080"), want: admins("422")},
		},
		"POST /admin/proposals/:id/cancel": {
			{path: "/admin" + proposal(f.toCancel) + "/cancel", body: reason, want: admins("303 " + proposal(f.toCancel)), changes: byAdmin},
			{path: "/admin" + proposal(f.discussion) + "/cancel", want: admins("422")},
			{path: "/admin" + proposal(f.openProposal) + "/cancel", body: reason, want: admins("422")},
			{path: "/admin/proposals/999999/cancel", body: reason, want: admins("404")},
			{path: "/admin/proposals/abc/cancel", body: reason, want: admins("404")},
		},
		"POST /admin/invitations": {
			{path: "/admin/invitations", want: admins("303 /admin/invitations"), changes: byAdmin},
			{path: "/admin/invitations", body: form("days", "0x10"), want: admins("422")},
		},
		"GET /admin/library": {{path: "/admin/library", want: admins("200")}, {path: "/admin/library?status=bogus&page=-1", want: admins("200")}},
		"POST /admin/library/:id/status": {
			{path: "/admin" + resource(f.queued) + "/status", body: form("status", library.StatusListed), want: admins("303 /admin/library"), changes: byAdmin},
			{path: "/admin" + resource(f.listedResource) + "/status", want: admins("422")},
			{path: "/admin/library/999999/status", body: form("status", library.StatusListed), want: admins("404")},
		},
		// Issue 15: proxies, recusals and general meetings.
		"GET /proxies": {{path: "/proxies", want: actives("200")}},
		"POST /proxies": {
			{path: "/proxies", want: actives("422")},
			{path: "/proxies", body: form("holder", "abc"), want: actives("422")},
			{path: "/proxies", body: form("holder", "999999"), want: actives("422")},
			{path: "/proxies", body: form("holder", strconv.FormatInt(f.principal.ID, 10), "proposal", strconv.FormatInt(f.closedProposal, 10)),
				want: actives("422")},
			{path: "/proxies", body: form("holder", strconv.FormatInt(f.principal.ID, 10), "proposal", strconv.FormatInt(f.discussion, 10)),
				want: actives("303 /proxies"), changes: voters},
		},
		// The active member's own appointment: the admin may not revoke it
		// (and by then it is revoked).
		"POST /proxies/:id/revoke": {
			{path: fmt.Sprintf("/proxies/%d/revoke", f.revocable), want: expect{anonymous: "login", applicant: "403",
				activeMember: "303 /proxies", suspendedMember: "login", admin: "404"}, changes: byMember},
			{path: "/proxies/999999/revoke", want: actives("404")},
			{path: "/proxies/abc/revoke", want: actives("404")},
		},
		"GET /proposals/:id/proxies": {
			{path: proposal(f.proxyBallot) + "/proxies", want: onRunning("200")},
			{path: proposal(f.closedProposal) + "/proxies", want: members("200")},
			{path: "/proposals/999999/proxies", want: members("404")},
			{path: "/proposals/abc/proxies", want: members("404")},
		},
		// Only the holder votes for the principal; to anyone else the
		// principal's ballot is not there.
		"POST /proposals/:id/proxies/:principal": {
			{path: fmt.Sprintf("%s/proxies/%d", proposal(f.proxyBallot), f.principal.ID), body: yes,
				want:    expect{anonymous: "login", applicant: "404", activeMember: "303 " + proposal(f.proxyBallot) + "/proxies", suspendedMember: "login", admin: "404"},
				changes: byMember},
			{path: fmt.Sprintf("%s/proxies/%d", proposal(f.proxyBallot), f.principal.ID), body: form("choice", "maybe"), want: onRunning("422")},
			{path: fmt.Sprintf("%s/proxies/%d", proposal(f.proxyBallot), f.users[admin].ID), body: yes, want: onRunning("404")},
			{path: fmt.Sprintf("%s/proxies/999999", proposal(f.proxyBallot)), body: yes, want: onRunning("404")},
			{path: fmt.Sprintf("%s/proxies/abc", proposal(f.proxyBallot)), body: yes, want: members("404")},
			{path: "/proposals/999999/proxies/1", body: yes, want: members("404")},
		},
		"POST /proposals/:id/recuse": {
			{path: proposal(f.proxyBallot) + "/recuse", want: onRunning("422")},
			{path: proposal(f.proxyBallot) + "/recuse", body: form("reason", strings.Repeat("x", 501)), want: onRunning("422")},
			{path: proposal(f.proxyBallot) + "/recuse", body: form("reason", "I sit on the supplier's board."),
				want: onRunning("303 " + proposal(f.proxyBallot)), changes: voters},
			{path: proposal(f.closedProposal) + "/recuse", body: form("reason", "Too late."), want: members("422")},
			{path: "/proposals/999999/recuse", body: form("reason", "x"), want: members("404")},
		},
		"GET /meetings":     {{path: "/meetings", want: actives("200")}},
		"GET /meetings/new": {{path: "/meetings/new", want: admins("200")}},
		"POST /meetings/new": {
			{path: "/meetings/new", want: admins("422")},
			{path: "/meetings/new", body: form("title", "AGM", "starts_at", "tomorrow", "place", "The hall"), want: admins("422")},
		},
		"GET /meetings/:id": {
			{path: meeting(f.meeting), want: actives("200")},
			{path: meeting(f.liveMeeting), want: actives("200")},
			{path: meeting(f.closedMeeting), want: actives("200")},
			{path: "/meetings/999999", want: actives("404")},
			{path: "/meetings/abc", want: actives("404")},
		},
		"GET /meetings/:id/screen": {
			{path: meeting(f.liveMeeting) + "/screen", want: actives("200")},
			{path: meeting(f.meeting) + "/screen", want: actives("200")},
			{path: "/meetings/999999/screen", want: actives("404")},
		},
		// Minutes: the members' while the meeting runs, public once closed.
		"GET /meetings/:id/minutes": {
			{path: meeting(f.meeting) + "/minutes", want: running},
			{path: meeting(f.closedMeeting) + "/minutes", want: everyone("200")},
			{path: "/meetings/999999/minutes", want: everyone("404")},
			{path: "/meetings/abc/minutes", want: everyone("404")},
		},
		"GET /meetings/:id/minutes.md": {
			{path: meeting(f.liveMeeting) + "/minutes.md", want: running},
			{path: meeting(f.closedMeeting) + "/minutes.md", want: everyone("200")},
			{path: "/meetings/999999/minutes.md", want: everyone("404")},
		},
		"POST /meetings/:id/checkin": {
			{path: meeting(f.meeting) + "/checkin", want: actives("422")},
			{path: meeting(f.meeting) + "/checkin", body: form("code", "WRONG1"), want: actives("422")},
			{path: meeting(f.liveMeeting) + "/checkin", body: form("code", f.liveCode), want: actives("422")}, // the register is frozen
			{path: meeting(f.meeting) + "/checkin", body: form("code", strings.ToLower(f.meetingCode)),
				want: actives("303 " + meeting(f.meeting)), changes: voters},
			{path: "/meetings/999999/checkin", body: form("code", f.meetingCode), want: actives("404")},
		},
		"POST /meetings/:id/present": {
			{path: meeting(f.meeting) + "/present", want: admins("422")},
			{path: meeting(f.meeting) + "/present", body: form("member", "abc"), want: admins("422")},
			{path: meeting(f.meeting) + "/present", body: form("member", strconv.FormatInt(f.users[applicant].ID, 10)), want: admins("422")},
			{path: meeting(f.closedMeeting) + "/present", body: form("member", strconv.FormatInt(f.principal.ID, 10)), want: admins("422")},
			{path: meeting(f.meeting) + "/present", body: form("member", strconv.FormatInt(f.principal.ID, 10)),
				want: admins("303 " + meeting(f.meeting) + "#register-h"), changes: byAdmin},
			{path: "/meetings/999999/present", body: form("member", strconv.FormatInt(f.principal.ID, 10)), want: admins("404")},
		},
		"POST /meetings/:id/items": {
			{path: meeting(f.meeting) + "/items", want: admins("422")},
			{path: meeting(f.meeting) + "/items", body: form("proposal", strconv.FormatInt(f.closedProposal, 10)), want: admins("422")},
			{path: meeting(f.meeting) + "/items", body: form("proposal", strconv.FormatInt(f.agendaItem, 10)), want: admins("422")},
			{path: meeting(f.meeting) + "/items", body: form("proposal", strconv.FormatInt(f.agendable, 10)),
				want: admins("303 " + meeting(f.meeting) + "#agenda-h"), changes: byAdmin},
			{path: "/meetings/999999/items", body: form("proposal", strconv.FormatInt(f.agendable, 10)), want: admins("404")},
		},
		"POST /meetings/:id/items/:pid/open": {
			{path: fmt.Sprintf("%s/items/%d/open", meeting(f.liveMeeting), f.liveItem),
				want: admins(fmt.Sprintf("303 %s#item-%d", meeting(f.liveMeeting), f.liveItem)), changes: byAdmin},
			{path: fmt.Sprintf("%s/items/%d/open", meeting(f.liveMeeting), f.proxyBallot), want: admins("422")}, // open already
			{path: fmt.Sprintf("%s/items/%d/open", meeting(f.liveMeeting), f.agendaItem), want: admins("404")},  // another meeting's
			{path: fmt.Sprintf("%s/items/999999/open", meeting(f.liveMeeting)), want: admins("404")},
			{path: fmt.Sprintf("%s/items/abc/open", meeting(f.liveMeeting)), want: admins("404")},
		},
		"POST /meetings/:id/items/:pid/close": {
			{path: fmt.Sprintf("%s/items/%d/close", meeting(f.liveMeeting), f.closable),
				want: admins(fmt.Sprintf("303 %s#item-%d", meeting(f.liveMeeting), f.closable)), changes: byAdmin},
			{path: fmt.Sprintf("%s/items/%d/close", meeting(f.meeting), f.agendaItem), want: admins("422")}, // not open
			{path: fmt.Sprintf("%s/items/999999/close", meeting(f.liveMeeting)), want: admins("404")},
		},
		"POST /meetings/:id/close": {
			{path: meeting(f.liveMeeting) + "/close", want: admins("422")}, // a ballot is open
			{path: meeting(f.closedMeeting) + "/close", want: admins("422")},
			{path: meeting(f.toClose) + "/close", want: admins("303 " + meeting(f.toClose)), changes: byAdmin},
			{path: "/meetings/999999/close", want: admins("404")},
		},
		"POST /admin/invitations/:id/revoke": {
			{path: "/admin/invitations/" + strconv.FormatInt(f.revokeID, 10) + "/revoke", want: admins("303 /admin/invitations"), changes: byAdmin},
			{path: "/admin/invitations/999999/revoke", want: admins("404")},
			{path: "/admin/invitations/abc/revoke", want: admins("404")},
		},
	}
}

// send makes rc's request as role r, with a valid csrf_token on a POST.
func (f *routeFixture) send(t *testing.T, r role, method string, rc routeCase) *response {
	t.Helper()
	c := f.client(r)
	switch method {
	case http.MethodPost:
		body := clone(rc.body)
		body.Set("csrf_token", c.csrf(t, "/login"))
		return c.post(t, rc.path, body)
	default:
		return c.request(t, method, rc.path, "", nil)
	}
}

func TestEveryRouteAnswersEachRoleAsExpected(t *testing.T) {
	t.Parallel()
	f := newRouteFixture(t)
	table := f.table()

	routes := f.app.Srv.Routes()
	slices.Sort(routes)
	t.Run("every registered route has an entry in the table", func(t *testing.T) {
		registered := map[string]bool{}
		for _, route := range routes {
			registered[route] = true
			if len(table[route]) == 0 {
				t.Errorf("route %q has no entry in the authorization table: add one saying what each role gets", route)
			}
		}
		for route := range table {
			if !registered[route] {
				t.Errorf("the authorization table lists %q, which is not a registered route", route)
			}
		}
	})

	for _, route := range routes {
		method, _, _ := strings.Cut(route, " ")
		t.Run(route, func(t *testing.T) {
			for _, rc := range table[route] {
				for r := range numRoles {
					want := rc.want[r]
					if want == "login" {
						want = "303 " + loginRedirect(method, rc.path)
					}
					t.Run(fmt.Sprintf("%s asking for %s gets %s", roleNames[r], rc.path, want), func(t *testing.T) {
						before := f.app.snapshot(t)
						res := f.send(t, r, method, rc)
						status, location, _ := strings.Cut(want, " ")
						if res.wantStatus(t, atoi(t, status)) && location != "" && res.Location() != location {
							t.Errorf("%s redirects to %q, want %q", res, res.Location(), location)
						}
						if rc.absent != "" && strings.Contains(res.Body, rc.absent) {
							t.Errorf("%s shows %q, which only its author and the admins may see", res, rc.absent)
						}
						if !slices.Contains(rc.changes, r) {
							f.app.wantUnchanged(t, before)
						}
						if rc.path == "/logout" && r != anonymous && r != suspendedMember {
							f.clients[r].login(t, f.users[r])
						}
					})
				}
			}
		})
	}

	t.Run("the admin's decisions in the table took effect", func(t *testing.T) {
		for _, c := range []struct {
			u      user
			status string
		}{
			{f.candidate, governance.StatusActive},
			{f.bystander, governance.StatusSuspended},
			{f.onHold, governance.StatusActive},
			{f.leaver, governance.StatusLeft},
		} {
			if got := f.app.reload(t, c.u).Member.Status; got != c.status {
				t.Errorf("member %d (%s) is %s, want %s", c.u.ID, c.u.Email, got, c.status)
			}
		}
		if st, err := f.app.Gov.ResetStatus(context.Background(), f.users[activeMember].ID); err != nil || st.Open == nil {
			t.Errorf("the admin issued a password reset for member %d, yet none is open (%v)", f.users[activeMember].ID, err)
		}
		invs, err := f.app.Gov.Invitations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			if inv.ID == f.revokeID && inv.RevokedAt == nil {
				t.Errorf("invitation %d was not revoked", inv.ID)
			}
		}
	})

	t.Run("the members' and the admin's proposal business in the table took effect", func(t *testing.T) {
		ctx := context.Background()
		for id, status := range map[int64]string{f.toWithdraw: governance.ProposalWithdrawn, f.toCancel: governance.ProposalCancelled,
			f.discussion: governance.ProposalDiscussion, f.openProposal: governance.ProposalVoting} {
			p, err := f.app.Gov.Proposal(ctx, &f.users[admin].Member, id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != status {
				t.Errorf("proposal %d is %s, want %s", id, p.Status, status)
			}
		}
		var voted, comments int
		if err := f.app.DB.R.Get(&voted, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, f.openProposal); err != nil {
			t.Fatal(err)
		}
		if err := f.app.DB.R.Get(&comments, `SELECT count(*) FROM comments WHERE proposal_id = ?`, f.openProposal); err != nil {
			t.Fatal(err)
		}
		if voted != 2 || comments != 2 {
			t.Errorf("the open ballot has %d voters and %d comments, want 2 and 2 (the active member's and the admin's)", voted, comments)
		}
		rules, err := f.app.Gov.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if r.Kind == governance.KindMotion && r.QuorumPct != 30 {
				t.Errorf("the admin set the motion quorum to 30%%; it is %d%%", r.QuorumPct)
			}
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("bad status %q in the table", s)
	}
	return n
}
