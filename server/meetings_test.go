package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

// meetingRoutes are what the route tables need for issue 15's routes.
type meetingRoutes struct {
	principal   user  // an active member whose proxy the active member holds in proxyBallot
	proxyBallot int64 // a motion voting on liveMeeting's agenda, with that proxy frozen into it
	revocable   int64 // the active member's standing appointment of the admin, frozen into no ballot

	meeting     int64 // a meeting whose register is open, with agendaItem on its agenda
	meetingCode string
	agendaItem  int64 // in discussion, on meeting's agenda
	agendable   int64 // in discussion, on no agenda

	liveMeeting int64 // in session: register frozen, proxyBallot and closable voting, liveItem not yet opened
	liveCode    string
	liveItem    int64
	closable    int64 // voting, with nobody present: the chair may close it

	toClose       int64 // an open meeting with nothing on it, which the admin closes
	closedMeeting int64 // closed from the start: its minutes are public
}

// setProxyCap sets a kind's proxy cap, keeping the rest of its rule.
func setProxyCap(t *testing.T, a *app, ad user, kind string, cap int) {
	t.Helper()
	ctx := context.Background()
	rules, err := a.Gov.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Kind != kind {
			continue
		}
		in := governance.RuleInput{Kind: kind, QuorumPct: strconv.Itoa(r.QuorumPct), Threshold: r.Threshold, MinMinutes: strconv.Itoa(r.MinMinutes),
			Secret: r.Secret, ProxyCap: strconv.Itoa(cap), EarlyClose: r.EarlyClose, QuorumOn: r.QuorumOn}
		if governance.IsChoiceKind(kind) {
			in.Methods = []string{r.AllowedMethods()[0]}
		}
		if err := a.Gov.SetRule(ctx, ad.Member, in); err != nil {
			t.Fatalf("set the proxy cap of %s: %v", kind, err)
		}
		return
	}
	t.Fatalf("no rule for %s", kind)
}

// addMeetings gives the route fixture its proxies and meetings.
func (f *routeFixture) addMeetings(t *testing.T) {
	t.Helper()
	a := f.app
	ctx := context.Background()
	ad := f.users[admin]
	setProxyCap(t, a, ad, governance.KindMotion, 2)
	later := func(title string) int64 {
		p, err := a.Gov.Propose(ctx, ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: title, Opens: "later",
			OpensAt: a.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04"), Days: "7"})
		if err != nil {
			t.Fatalf("propose %q: %v", title, err)
		}
		return p.ID
	}
	call := func(title string) governance.Meeting {
		g, err := a.Gov.CallMeeting(ctx, ad.Member, governance.MeetingInput{Title: title, Place: "The community hall",
			StartsAt: a.Clock.Now().Add(2 * time.Hour).Format("2006-01-02T15:04")})
		if err != nil {
			t.Fatalf("call %q: %v", title, err)
		}
		return g
	}
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	f.principal = a.addMember(t, ad, "Pia Principal", "pia@example.org")
	f.proxyBallot = later("A motion voted by proxy")
	_, err := a.Gov.Appoint(ctx, f.principal.Member, governance.ProxyInput{Holder: strconv.FormatInt(f.users[activeMember].ID, 10),
		Proposal: strconv.FormatInt(f.proxyBallot, 10)})
	must("appoint a proxy", err)
	f.liveItem = later("An item the chair opens")
	f.closable = later("An item the chair closes")
	live := call("A meeting in session")
	f.liveMeeting, f.liveCode = live.ID, live.CheckinCode
	for _, p := range []int64{f.proxyBallot, f.liveItem, f.closable} {
		must("add to the agenda", a.Gov.AddItem(ctx, ad.Member, f.liveMeeting, p))
	}
	must("open an item", a.Gov.OpenItem(ctx, ad.Member, f.liveMeeting, f.proxyBallot))
	must("open an item", a.Gov.OpenItem(ctx, ad.Member, f.liveMeeting, f.closable))

	g := call("The annual general meeting")
	f.meeting, f.meetingCode = g.ID, g.CheckinCode
	f.agendaItem = later("An item on the agenda")
	must("add to the agenda", a.Gov.AddItem(ctx, ad.Member, f.meeting, f.agendaItem))
	f.agendable = later("A motion for the agenda")
	f.toClose = call("A meeting to close").ID
	f.closedMeeting = call("A meeting that has closed").ID
	must("close a meeting", a.Gov.CloseMeeting(ctx, ad.Member, f.closedMeeting))

	// Made after every ballot opened, so that none froze it.
	ap, err := a.Gov.Appoint(ctx, f.users[activeMember].Member, governance.ProxyInput{Holder: strconv.FormatInt(ad.ID, 10)})
	must("appoint a standing proxy", err)
	f.revocable = ap.ID
}

// newAppointment is another standing appointment of the admin by the
// active member, for the revoke route to revoke.
func (x *injector) newAppointment(t *testing.T) int64 {
	t.Helper()
	f := x.f
	ap, err := f.app.Gov.Appoint(context.Background(), f.users[activeMember].Member,
		governance.ProxyInput{Holder: strconv.FormatInt(f.users[admin].ID, 10)})
	if err != nil {
		t.Fatalf("appoint a standing proxy: %v", err)
	}
	return ap.ID
}

// newLiveBallot is another motion put on the live meeting's agenda and
// opened: for a recusal, or for the chair to close.
func (x *injector) newLiveBallot(t *testing.T) int64 {
	t.Helper()
	f := x.f
	ctx := context.Background()
	id := x.newDiscussion(t)
	if err := f.app.Gov.AddItem(ctx, f.users[admin].Member, f.liveMeeting, id); err != nil {
		t.Fatal(err)
	}
	if err := f.app.Gov.OpenItem(ctx, f.users[admin].Member, f.liveMeeting, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newMeeting is another meeting with nothing on it, for the chair to close.
func (x *injector) newMeeting(t *testing.T) int64 {
	t.Helper()
	a := x.f.app
	g, err := a.Gov.CallMeeting(context.Background(), x.f.users[admin].Member, governance.MeetingInput{Title: "Another meeting",
		Place: "The hall", StartsAt: a.Clock.Now().Add(2 * time.Hour).Format("2006-01-02T15:04")})
	if err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// meetingScene is a co-op of an admin (the chair) and three members, with
// two motions waiting for a general meeting and a proxy cap of one.
type meetingScene struct {
	a                *app
	ad, mo, pia, lee user
	chair, moC       *client
	piaC, leeC       *client
	p1, p2           int64
}

func newMeetingScene(t *testing.T) *meetingScene {
	t.Helper()
	a := newApp(t)
	sc := &meetingScene{a: a}
	sc.ad = a.addAdmin(t, "Ada Admin", "ada@example.org")
	sc.mo = a.addMember(t, sc.ad, "Mo Member", "mo@example.org")
	sc.pia = a.addMember(t, sc.ad, "Pia Principal", "pia@example.org")
	sc.lee = a.addMember(t, sc.ad, "Lee Recused", "lee@example.org")
	setProxyCap(t, a, sc.ad, governance.KindMotion, 1)
	for _, c := range []struct {
		c **client
		u user
	}{{&sc.chair, sc.ad}, {&sc.moC, sc.mo}, {&sc.piaC, sc.pia}, {&sc.leeC, sc.lee}} {
		*c.c = a.client()
		(*c.c).login(t, c.u)
	}
	for i, title := range []string{"Buy the building", "Elect a treasurer by show of hands"} {
		p, err := a.Gov.Propose(context.Background(), sc.ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: title,
			Opens: "later", OpensAt: a.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04"), Days: "7"})
		if err != nil {
			t.Fatal(err)
		}
		*[]*int64{&sc.p1, &sc.p2}[i] = p.ID
	}
	return sc
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAGeneralMeetingRunsThroughTheWeb(t *testing.T) {
	t.Parallel()
	sc := newMeetingScene(t)
	a := sc.a
	proposal := func(id int64) string { return "/proposals/" + itoa(id) }

	// Pia cannot come: Mo holds her proxy for every ballot.
	sc.piaC.get(t, "/proxies").wantText(t, "Appoint a proxy")
	sc.piaC.submit(t, "/proxies", "/proxies", form("holder", itoa(sc.mo.ID), "proposal", "")).wantRedirect(t, "/proxies")
	page := sc.piaC.get(t, "/proxies")
	page.wantText(t, "Mo Member holds your proxy for every ballot until you revoke it.")
	page.wantText(t, "Mo Member (member "+itoa(sc.mo.ID)+")")
	sc.moC.get(t, "/proxies").wantText(t, "Pia Principal (member "+itoa(sc.pia.ID)+"), for every ballot")

	// The chair calls the meeting, in their own zone, and sets its agenda.
	res := sc.chair.submit(t, "/meetings/new", "/meetings/new", form("title", "Annual general meeting 2026",
		"starts_at", a.Clock.Now().Add(3*time.Hour).Format("2006-01-02T15:04"), "place", "The community hall"))
	res.wantStatus(t, 303)
	meeting := res.Location()
	if !strings.HasPrefix(meeting, "/meetings/") {
		t.Fatalf("calling a meeting redirects to %q", meeting)
	}
	sc.moC.get(t, "/meetings").wantText(t, "Annual general meeting 2026")
	for _, p := range []int64{sc.p1, sc.p2} {
		sc.chair.submit(t, meeting, meeting+"/items", form("proposal", itoa(p))).wantRedirect(t, meeting+"#agenda-h")
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(meeting, "/meetings/"), 10, 64)
	v, err := a.Gov.MeetingFor(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	chairPage := sc.chair.get(t, meeting)
	chairPage.wantText(t, v.CheckinCode)
	chairPage.wantText(t, "Open voting")
	if strings.Contains(sc.moC.get(t, meeting).Body, v.CheckinCode) {
		t.Error("a member's page shows the check-in code")
	}

	// Attendance: Mo and Lee type the code (in lower case); the chair marks
	// themself present. Pia is represented by Mo.
	for _, c := range []*client{sc.moC, sc.leeC} {
		c.submit(t, meeting, meeting+"/checkin", form("code", strings.ToLower(v.CheckinCode))).wantRedirect(t, meeting)
	}
	sc.moC.get(t, meeting).wantText(t, "You are checked in.")
	sc.chair.submit(t, meeting, meeting+"/present", form("member", itoa(sc.ad.ID))).wantRedirect(t, meeting+"#register-h")

	// The chair opens the first item: the register freezes.
	sc.chair.submit(t, meeting, fmt.Sprintf("%s/items/%d/open", meeting, sc.p1), nil).wantRedirect(t, fmt.Sprintf("%s#item-%d", meeting, sc.p1))
	frozen := sc.piaC.get(t, meeting)
	frozen.wantText(t, "3 present, by member number: "+itoa(sc.ad.ID)+", "+itoa(sc.mo.ID)+", "+itoa(sc.lee.ID)+".")
	sc.piaC.submit(t, meeting, meeting+"/checkin", form("code", v.CheckinCode)).wantFieldError(t, "",
		"The attendance register is frozen: it was, when the chair opened the first vote.")
	sc.chair.get(t, meeting+"/screen").wantText(t, "Voting open: 0 of 4 have voted.")

	// Mo votes for Pia, secretly: the receipt is for her.
	sc.moC.get(t, proposal(sc.p1)).wantText(t, "Vote for the 1 member whose proxy you hold")
	sc.moC.get(t, proposal(sc.p1)+"/proxies").wantText(t, "Pia Principal, member "+itoa(sc.pia.ID))
	sc.moC.submit(t, proposal(sc.p1)+"/proxies", fmt.Sprintf("%s/proxies/%d", proposal(sc.p1), sc.pia.ID),
		form("choice", governance.ChoiceNo)).wantRedirect(t, proposal(sc.p1)+"/proxies")
	after := sc.moC.get(t, proposal(sc.p1)+"/proxies")
	after.wantText(t, "Give the receipt to Pia Principal")
	after.wantText(t, "You voted for them. You may change it.")
	if !strings.Contains(after.Body, `id="receipt-code"`) {
		t.Error("the holder's first secret vote shows no receipt")
	}
	piaPage := sc.piaC.get(t, proposal(sc.p1))
	piaPage.wantText(t, "Your proxy, Mo Member, has voted for you. If you vote yourself, your vote replaces theirs.")
	piaPage.wantText(t, "a member may hold one other member")
	if strings.Contains(excerpt(piaPage.Body), "You voted") {
		t.Error("the principal's page says how their proxy voted")
	}

	// Lee stands aside; Pia votes herself, replacing Mo's vote.
	sc.leeC.get(t, proposal(sc.p1)).wantText(t, "Declare a conflict of interest")
	sc.leeC.submit(t, proposal(sc.p1), proposal(sc.p1)+"/recuse", form("reason", "I sell the building.")).wantRedirect(t, proposal(sc.p1))
	leePage := sc.leeC.get(t, proposal(sc.p1))
	leePage.wantText(t, "You stood aside: I sell the building.")
	leePage.wantText(t, "Stood aside: member "+itoa(sc.lee.ID)+" — I sell the building.")
	if strings.Contains(leePage.Body, `action="`+proposal(sc.p1)+`/vote"`) {
		t.Error("the page of a member who stood aside still draws a ballot")
	}
	sc.piaC.submit(t, proposal(sc.p1), proposal(sc.p1)+"/vote", form("choice", governance.ChoiceYes)).wantRedirect(t, proposal(sc.p1))
	sc.piaC.get(t, proposal(sc.p1)).wantText(t, "Your vote replaced the one your proxy cast for you.")
	sc.moC.get(t, proposal(sc.p1)+"/proxies").wantText(t, "Voted in person: their vote stands.")
	sc.moC.submit(t, proposal(sc.p1)+"/proxies", fmt.Sprintf("%s/proxies/%d", proposal(sc.p1), sc.pia.ID),
		form("choice", governance.ChoiceNo)).wantStatus(t, 422)

	// The chair cannot close while someone present has not voted.
	closeItem := fmt.Sprintf("%s/items/%d/close", meeting, sc.p1)
	refused := sc.chair.submit(t, meeting, closeItem, nil)
	refused.wantStatus(t, 422)
	refused.wantText(t, "2 members present have not voted yet")
	for _, c := range []*client{sc.moC, sc.chair} {
		c.submit(t, proposal(sc.p1), proposal(sc.p1)+"/vote", form("choice", governance.ChoiceYes)).wantRedirect(t, proposal(sc.p1))
	}
	sc.chair.submit(t, meeting, closeItem, nil).wantRedirect(t, fmt.Sprintf("%s#item-%d", meeting, sc.p1))
	screen := sc.moC.get(t, meeting+"/screen")
	screen.wantText(t, "3 yes, 0 no, 0 abstaining. Turnout 3 of 3.")
	if got := screen.Header.Get("Refresh"); got != "5" {
		t.Errorf("the projector page's Refresh header is %q, want 5: it must reload itself", got)
	}
	still := sc.moC.get(t, meeting+"/screen?still=1")
	if got := still.Header.Get("Refresh"); got != "" {
		t.Errorf("the projector page told to stop still reloads itself (Refresh %q)", got)
	}
	still.wantText(t, "This page stays as it is.")
	api := anonAPI(t, a, proposal(sc.p1))
	for _, want := range []string{`"recusals":[{"member":` + itoa(sc.lee.ID) + `,"reason":"I sell the building."}]`,
		`"meeting":` + strings.TrimPrefix(meeting, "/meetings/"), `"recused":1`} {
		if !strings.Contains(api, want) {
			t.Errorf("the API's closed proposal lacks %s:\n%s", want, api)
		}
	}
	closed := sc.piaC.get(t, proposal(sc.p1))
	// Issue 16: the header says the outcome, not just "closed".
	if !strings.Contains(closed.Body, `<span class="badge carried">closed: carried</span>`) {
		t.Error("the closed proposal's header does not say its outcome")
	}
	closed.wantText(t, "Turnout 3 of 3 (the roll of 4 less 1 who stood aside)")
	closed.wantText(t, "Stood aside: member "+itoa(sc.lee.ID)+" — I sell the building.")

	// Minutes: the members' while the meeting runs, public once closed.
	anon := a.client()
	anon.get(t, meeting+"/minutes").wantStatus(t, 404)
	sc.piaC.get(t, meeting+"/minutes").wantText(t, "Member "+itoa(sc.lee.ID)+" stood aside: I sell the building.")
	sc.chair.submit(t, meeting, meeting+"/close", nil).wantRedirect(t, meeting)
	mins := anon.get(t, meeting+"/minutes")
	mins.wantStatus(t, 200)
	mins.wantText(t, "Result: 3 yes, 0 no, 0 abstaining")
	mins.wantText(t, "Not put to the vote.")
	md := anon.get(t, meeting+"/minutes.md")
	md.wantStatus(t, 200)
	if ct := md.Header.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("the Markdown minutes are %q", ct)
	}
	if cd := md.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline; filename=") {
		t.Errorf("the Markdown minutes' disposition is %q", cd)
	}
	if !strings.Contains(md.Body, "# Minutes: Annual general meeting 2026") {
		t.Errorf("the Markdown minutes are:\n%s", md.Body)
	}
}

func TestMeetingAndProxyFormsRefuseBadInputAndChangeNothing(t *testing.T) {
	t.Parallel()
	sc := newMeetingScene(t)
	a := sc.a
	ctx := context.Background()
	g, err := a.Gov.CallMeeting(ctx, sc.ad.Member, governance.MeetingInput{Title: "AGM", Place: "The hall",
		StartsAt: a.Clock.Now().Add(time.Hour).Format("2006-01-02T15:04")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.Gov.CallMeeting(ctx, sc.ad.Member, governance.MeetingInput{Title: "Another", Place: "The hall",
		StartsAt: a.Clock.Now().Add(time.Hour).Format("2006-01-02T15:04")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Gov.AddItem(ctx, sc.ad.Member, g.ID, sc.p1); err != nil {
		t.Fatal(err)
	}
	if err := a.Gov.AddItem(ctx, sc.ad.Member, other.ID, sc.p2); err != nil {
		t.Fatal(err)
	}
	if err := a.Gov.OpenItem(ctx, sc.ad.Member, other.ID, sc.p2); err != nil {
		t.Fatal(err)
	}
	meeting := "/meetings/" + itoa(g.ID)
	p2 := "/proposals/" + itoa(sc.p2)
	when := a.Clock.Now().Add(3 * time.Hour).Format("2006-01-02T15:04")
	long := strings.Repeat("é", 201)
	for _, c := range []struct {
		name      string
		who       *client
		page, to  string
		body      url.Values
		status    int
		field     string // the id beside which the message is, "" above the form; none for a 404
		message   string
		shownPage bool
	}{
		{"a meeting with no title", sc.chair, "/meetings/new", "/meetings/new", form("starts_at", when, "place", "Hall"), 422,
			"f-title", "Give the meeting a title, such as “Annual general meeting 2027”.", true},
		{"a title too long", sc.chair, "/meetings/new", "/meetings/new", form("title", long, "starts_at", when, "place", "Hall"), 422,
			"f-title", "Keep the title to 200 characters.", true},
		{"a time that is not one", sc.chair, "/meetings/new", "/meetings/new", form("title", "AGM", "starts_at", "'; DROP TABLE meetings; --",
			"place", "Hall"), 422, "f-starts_at", "Enter when the meeting starts, as a date and time (UTC).", true},
		{"no place and no link", sc.chair, "/meetings/new", "/meetings/new", form("title", "AGM", "starts_at", when), 422,
			"f-place", "Say where the meeting is held, or give its online link, or both.", true},
		{"a script for a link", sc.chair, "/meetings/new", "/meetings/new", form("title", "AGM", "starts_at", when,
			"link", "javascript:alert(1)"), 422, "f-link", "Enter the online meeting's link in full, starting https://.", true},
		{"a wrong check-in code", sc.moC, meeting, meeting + "/checkin", form("code", "<script>"), 422,
			"f-code", "That is not the code shown in the room. Check it and try again.", true},
		{"an empty check-in code", sc.moC, meeting, meeting + "/checkin", form("code", ""), 422,
			"f-code", "Enter the six-character code shown in the room.", true},
		{"marking present a number that is not one", sc.chair, meeting, meeting + "/present", form("member", "1 OR 1=1"), 422,
			"f-member", "Choose an active member of the co-op.", true},
		{"marking present nobody", sc.chair, meeting, meeting + "/present", form("member", "999999"), 422,
			"f-member", "Choose an active member of the co-op.", true},
		{"putting on the agenda an item of another meeting", sc.chair, meeting, meeting + "/items", form("proposal", itoa(sc.p2)), 422,
			"f-proposal", "Choose a proposal that has not opened for voting.", true},
		{"opening another meeting's item", sc.chair, meeting, fmt.Sprintf("%s/items/%d/open", meeting, sc.p2), nil, 404, "", "", false},
		{"opening an item that does not exist", sc.chair, meeting, meeting + "/items/999999/open", nil, 404, "", "", false},
		{"closing an item not open", sc.chair, meeting, fmt.Sprintf("%s/items/%d/close", meeting, sc.p1), nil, 422,
			"", "This item's ballot is not open.", false},
		{"a member chairing", sc.moC, meeting, fmt.Sprintf("%s/items/%d/open", meeting, sc.p1), nil, 403, "", "", false},
		{"a member calling a meeting", sc.moC, meeting, "/meetings/new", form("title", "Coup", "starts_at", when, "place", "Hall"), 403, "", "", false},
		{"standing aside with no reason", sc.leeC, p2, p2 + "/recuse", form("reason", "  "), 422,
			"f-recuse-reason", "Say what your conflict of interest is: members will see it.", true},
		{"standing aside at length", sc.leeC, p2, p2 + "/recuse", form("reason", strings.Repeat("x", 501)), 422,
			"f-recuse-reason", "Keep the reason to 500 characters.", true},
		{"oneself as proxy", sc.piaC, "/proxies", "/proxies", form("holder", itoa(sc.pia.ID)), 422,
			"f-holder", "Choose another member: you cannot hold your own proxy.", true},
		{"a proxy who is not a member", sc.piaC, "/proxies", "/proxies", form("holder", "999999"), 422,
			"f-holder", "Choose an active member of the co-op.", true},
		{"a proxy with no number", sc.piaC, "/proxies", "/proxies", form("holder", "mo"), 422,
			"f-holder", "Choose a member of the co-op from the list.", true},
		{"a proxy for a ballot already open", sc.piaC, "/proxies", "/proxies", form("holder", itoa(sc.mo.ID), "proposal", itoa(sc.p2)), 422,
			"f-proposal", "Choose a proposal that has not opened for voting yet: an open ballot's proxies are frozen.", true},
		{"voting for someone whose proxy one does not hold", sc.moC, p2, fmt.Sprintf("%s/proxies/%d", p2, sc.pia.ID),
			form("choice", governance.ChoiceYes), 404, "", "", false},
		{"voting as proxy for a number that is not one", sc.moC, p2, p2 + "/proxies/abc", form("choice", governance.ChoiceYes), 404, "", "", false},
		{"revoking an appointment that does not exist", sc.piaC, "/proxies", "/proxies/999999/revoke", nil, 404, "", "", false},
	} {
		t.Run(c.name+" is refused", func(t *testing.T) {
			before := a.snapshot(t)
			res := c.who.submit(t, c.page, c.to, c.body)
			if res.wantStatus(t, c.status) && c.message != "" {
				res.wantFieldError(t, c.field, c.message)
			}
			a.wantUnchanged(t, before)
		})
	}

	t.Run("revoking someone else's appointment is not found, and leaves it", func(t *testing.T) {
		ap, err := a.Gov.Appoint(ctx, sc.pia.Member, governance.ProxyInput{Holder: itoa(sc.mo.ID)})
		if err != nil {
			t.Fatal(err)
		}
		before := a.snapshot(t)
		sc.moC.submit(t, "/proxies", fmt.Sprintf("/proxies/%d/revoke", ap.ID), nil).wantStatus(t, 404)
		a.wantUnchanged(t, before)
		sc.piaC.submit(t, "/proxies", fmt.Sprintf("/proxies/%d/revoke", ap.ID), nil).wantRedirect(t, "/proxies")
	})

	t.Run("logged out, the meeting pages send to the login page", func(t *testing.T) {
		anon := a.client()
		for _, p := range []string{"/meetings", meeting, meeting + "/screen", "/proxies", p2 + "/proxies"} {
			anon.get(t, p).wantRedirect(t, loginRedirect("GET", p))
		}
	})
}

// anonAPI reads a proposal from the public API, as anyone may once it
// has closed.
func anonAPI(t *testing.T, a *app, proposal string) string {
	t.Helper()
	r := a.client().get(t, "/api/v1"+proposal)
	r.wantStatus(t, 200)
	return r.Body
}

// While no kind of proposal allows proxies, the proxies page says so and
// offers no form, and an appointment sent anyway is refused by name.
func TestProxiesOffByDefault(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	c := a.client()
	c.login(t, mo)
	page := c.get(t, "/proxies")
	page.wantText(t, "rules allow no proxies at present")
	if strings.Contains(page.Body, `action="/proxies"`) {
		t.Error("the page offers an appointment the rules do not allow")
	}
	before := a.snapshot(t)
	refused := c.submit(t, "/proxies", "/proxies", form("holder", itoa(ad.ID), "proposal", ""))
	refused.wantStatus(t, 422)
	refused.wantText(t, "rules allow no proxies at present")
	a.wantUnchanged(t, before)
}
