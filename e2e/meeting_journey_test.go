package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"plenary/governance"
)

// TestMeetingJourney is issue 15's journey, as people take it in a
// browser: Ada, the secretary, chairs the annual general meeting. Fay
// cannot come and gives Bea her proxy. Five members are present: four
// check in with the code on the screen and Ada marks the fifth. Two items
// are voted live: the accounts, then endorsing a demand, on which Cai
// stands aside with his reason. Bea votes for Fay on both. The projector
// page shows each result as it closes, and the minutes list it all.
func TestMeetingJourney(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	if _, err := s.Lib.LoadStarter(ctx); err != nil {
		t.Fatal(err)
	}
	people, members := addPeople(t, s, 6)
	ada := newBrowser(t)
	logIn(t, ada, s.URL, people[0].email, people[0].password)
	tabs := []context.Context{ada}
	for _, p := range people[1:] {
		tab := newIsolatedTab(t, ada)
		logIn(t, tab, s.URL, p.email, p.password)
		tabs = append(tabs, tab)
	}
	bea, cai, fay := tabs[1], tabs[2], tabs[5]
	screen := newIsolatedTab(t, ada)
	logIn(t, screen, s.URL, people[0].email, people[0].password)

	t.Run("the secretary sets the rules for a meeting: proxies, short votes, quorum on those present", func(t *testing.T) {
		navigate(t, ada, s.URL+"/admin/rules")
		for _, kind := range []string{governance.KindMotion, governance.KindEndorseDemand} {
			fill(t, ada, "#f-"+kind+"-min", "15")
			fill(t, ada, "#f-"+kind+"-proxy-cap", "1")
			do(t, ada, "counting the quorum on those present", chromedp.SetValue(chromedp.CSS("#f-"+kind+"-quorum-on"), governance.QuorumOnPresent))
			submit(t, ada, `form:has(input[value=`+kind+`]) button[type=submit]`)
			mustContain(t, ada, ".flash.ok", "rules saved")
		}
		visit(t, ada, "meeting-rules")
	})

	// The two agenda items, proposed beforehand to open tomorrow: the
	// meeting opens them instead.
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02T15:04")
	accounts, err := s.Gov.Propose(ctx, members[0], governance.ProposalInput{Kind: governance.KindMotion, Title: "Adopt the annual accounts for 2026",
		Body: "That the members adopt the accounts the board circulated.", Opens: "later", OpensAt: tomorrow, Days: "1"})
	if err != nil {
		t.Fatal(err)
	}
	demand, err := s.Lib.Demand(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	endorse, err := s.Gov.Propose(ctx, members[1], governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse: " + demand.Title,
		Body: "We should put our name to this.", DemandID: "1", Opens: "later", OpensAt: tomorrow, Days: "1"})
	if err != nil {
		t.Fatal(err)
	}
	items := []governance.Proposal{accounts, endorse}

	t.Run("Fay cannot come and gives Bea her proxy", func(t *testing.T) {
		navigate(t, fay, s.URL+"/proxies")
		do(t, fay, "choosing Bea", chromedp.SetValue(chromedp.CSS("#f-holder"), strconv.FormatInt(members[1].ID, 10)))
		submit(t, fay, `form[action="/proxies"] button[type=submit]`)
		mustContain(t, fay, ".flash.ok", "Bea Driver")
		mustContain(t, fay, "main", "every ballot")
		visit(t, fay, "proxy-appointed")
	})

	var meetingURL string
	t.Run("Ada calls the meeting and puts both items on its agenda", func(t *testing.T) {
		navigate(t, ada, s.URL+"/meetings")
		submit(t, ada, `a[href="/meetings/new"]`)
		fill(t, ada, "#f-title", "Annual general meeting 2026")
		do(t, ada, "setting the time", chromedp.SetValue(chromedp.CSS("#f-starts_at"), tomorrow))
		fill(t, ada, "#f-place", "The Riverside hall")
		visit(t, ada, "meeting-new")
		submit(t, ada, `main form button[type=submit]`)
		meetingURL = currentURL(t, ada)
		if !strings.Contains(meetingURL, "/meetings/") {
			t.Fatalf("after calling the meeting the browser is at %s", meetingURL)
		}
		for _, p := range items {
			do(t, ada, "choosing an item", chromedp.SetValue(chromedp.CSS("#f-proposal"), strconv.FormatInt(p.ID, 10)))
			submit(t, ada, `form[action$="/items"] button[type=submit]`)
			mustContain(t, ada, "#item-"+strconv.FormatInt(p.ID, 10), p.Title)
		}
		visit(t, ada, "meeting-agenda")
	})

	t.Run("four members check in with the code on the screen, and the chair marks Ada present", func(t *testing.T) {
		navigate(t, screen, meetingURL+"/screen")
		code := text(t, screen, ".screen-code .code")
		mustContain(t, screen, "main", "No vote has opened yet")
		visit(t, screen, "screen-before")
		for _, tab := range tabs[1:5] {
			navigate(t, tab, meetingURL)
			fill(t, tab, "#f-code", strings.ToLower(code))
			submit(t, tab, `form[action$="/checkin"] button[type=submit]`)
			mustContain(t, tab, "main", "You are checked in")
		}
		navigate(t, ada, meetingURL)
		do(t, ada, "choosing Ada", chromedp.SetValue(chromedp.CSS("#f-member"), strconv.FormatInt(members[0].ID, 10)))
		submit(t, ada, `form[action$="/present"] button[type=submit]`)
		mustContain(t, ada, "main", "5 checked in so far")
	})

	vote := func(t *testing.T, tab context.Context, p governance.Proposal, choice string) {
		t.Helper()
		navigate(t, tab, fmt.Sprintf("%s/proposals/%d", s.URL, p.ID))
		do(t, tab, "choosing "+choice, chromedp.Click(chromedp.CSS(`input[name=choice][value=`+choice+`]`)))
		submit(t, tab, "form.ballot button[type=submit]")
		mustContain(t, tab, ".flash.ok", "in the ballot box")
	}
	voteForFay := func(t *testing.T, p governance.Proposal, choice string) {
		t.Helper()
		navigate(t, bea, fmt.Sprintf("%s/proposals/%d", s.URL, p.ID))
		submit(t, bea, ".proxy-link a")
		section := fmt.Sprintf("#principal-%d", members[5].ID)
		mustContain(t, bea, section, "Fay Baker")
		do(t, bea, "choosing "+choice+" for Fay", chromedp.Click(chromedp.CSS(section+` input[name=choice][value=`+choice+`]`)))
		submit(t, bea, section+" button[type=submit]")
		mustContain(t, bea, ".flash.ok", "Fay Baker")
	}
	openItem := func(t *testing.T, p governance.Proposal) {
		t.Helper()
		navigate(t, ada, meetingURL)
		submit(t, ada, fmt.Sprintf("#item-%d form[action$=open] button", p.ID))
		mustContain(t, ada, fmt.Sprintf("#item-%d", p.ID), "0 of")
	}
	closeItem := func(t *testing.T, p governance.Proposal) {
		t.Helper()
		navigate(t, ada, meetingURL)
		submit(t, ada, fmt.Sprintf("#item-%d form[action$=close] button", p.ID))
		mustContain(t, ada, ".flash.ok", "Voting is closed")
	}

	t.Run("the accounts are voted live: the register freezes, Bea votes for Fay, the screen shows the result", func(t *testing.T) {
		openItem(t, accounts)
		mustContain(t, ada, "#register-h + p", "The register froze")
		navigate(t, screen, meetingURL+"/screen")
		mustContain(t, screen, ".screen-status", "Voting open: 0 of 6 have voted")
		visit(t, screen, "screen-voting")
		for i, choice := range []string{"yes", "yes", "no", "yes", "abstain"} {
			vote(t, tabs[i], accounts, choice)
		}
		voteForFay(t, accounts, "yes")
		visit(t, bea, "proxy-ballots")
		navigate(t, fay, fmt.Sprintf("%s/proposals/%d", s.URL, accounts.ID))
		mustContain(t, fay, "main", "Your proxy, Bea Driver, has voted for you")
		visit(t, fay, "principal-told")
		navigate(t, screen, meetingURL+"/screen")
		mustContain(t, screen, ".screen-status", "6 of 6 have voted")
		closeItem(t, accounts)
		// The projector refreshes itself: wait for it rather than reload.
		awaitText(t, screen, ".screen-status", "carried")
		mustContain(t, screen, ".screen-count", "4 yes, 1 no, 1 abstaining. Turnout 6 of 6, 6 present or represented")
		visit(t, screen, "screen-result-accounts")
	})

	t.Run("Cai stands aside on the endorsement; the rest vote, Bea again for Fay; the screen shows the result", func(t *testing.T) {
		openItem(t, endorse)
		navigate(t, cai, fmt.Sprintf("%s/proposals/%d", s.URL, endorse.ID))
		do(t, cai, "opening the conflict of interest", chromedp.Click(chromedp.CSS("details.recuse summary")))
		fill(t, cai, "#f-recuse-reason", "I sit on the council committee this demand is addressed to.")
		visit(t, cai, "recusal-form")
		submit(t, cai, "details.recuse button[type=submit]")
		mustContain(t, cai, "main", "You stood aside")
		if n := run(t, cai, "looking for a ballot", chromedp.Evaluate[int](`document.querySelectorAll('form.ballot').length`)); n != 0 {
			t.Error("the member who stood aside is still offered a ballot")
		}
		for i, choice := range []string{"yes", "yes", "", "yes", "no"} {
			if choice != "" {
				vote(t, tabs[i], endorse, choice)
			}
		}
		voteForFay(t, endorse, "yes")
		closeItem(t, endorse)
		awaitText(t, screen, ".screen-count", "4 yes, 1 no, 0 abstaining. Turnout 5 of 5")
		mustContain(t, screen, ".screen-status", "carried")
		visit(t, screen, "screen-result-endorsement")
		navigate(t, cai, fmt.Sprintf("%s/proposals/%d", s.URL, endorse.ID))
		mustContain(t, cai, "main", "I sit on the council committee")
	})

	t.Run("the chair closes the meeting and the minutes list attendance, both items and their results", func(t *testing.T) {
		navigate(t, ada, meetingURL)
		submit(t, ada, `form[action$="/close"]:not([action*="/items/"]) button[type=submit]`)
		reader := newIsolatedTab(t, ada) // the public, once the meeting is closed
		navigate(t, reader, meetingURL+"/minutes")
		page := text(t, reader, "main")
		for _, want := range []string{"Annual general meeting 2026", "5 present, by member number: 1, 2, 3, 4, 5",
			"1. Adopt the annual accounts for 2026", "4 yes, 1 no, 1 abstaining", "1 proxy held",
			"2. Endorse: " + demand.Title, fmt.Sprintf("Member %d stood aside: I sit on the council committee", members[2].ID),
			"carried", "demand endorsed"} {
			if !strings.Contains(page, want) {
				t.Errorf("the minutes lack %q:\n%s", want, page)
			}
		}
		visit(t, reader, "minutes")
		// Printed, the minutes are the minutes: no navigation, no footer.
		do(t, reader, "printing", media("print"))
		shown := run(t, reader, "looking at the printed page", chromedp.Evaluate[[]string](
			`['header.site', 'footer.site', 'main h1'].map(s => getComputedStyle(document.querySelector(s)).display)`))
		if shown[0] != "none" || shown[1] != "none" || shown[2] == "none" {
			t.Errorf("printed, the header, footer and title show as %v; want none, none and the title", shown)
		}
		screenshot(t, reader, "minutes-printed")
		do(t, reader, "back to the screen", media(""))
		navigate(t, reader, meetingURL+"/minutes.md")
		md := text(t, reader, "body")
		if !strings.Contains(md, "# Minutes: Annual general meeting 2026") || !strings.Contains(md, "### 2. Endorse") {
			t.Errorf("the Markdown minutes read:\n%s", md)
		}
	})

	t.Run("on a phone the meeting, its screen and its minutes fit the width", func(t *testing.T) {
		phone := newIsolatedTab(t, ada)
		logIn(t, phone, s.URL, people[3].email, people[3].password)
		do(t, phone, "turning into a phone", chromedp.EmulateViewport(390, 844))
		for _, page := range []string{meetingURL, meetingURL + "/screen?still=1", meetingURL + "/minutes"} {
			navigate(t, phone, page)
			if w := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
				t.Errorf("%s is %d pixels wide on a 390-pixel phone", page, w)
			}
		}
		visit(t, phone, "minutes-phone")
	})
}

// awaitText waits, up to 15 seconds, for the element's text to contain
// want: a page that refreshes itself (the projector) gets there alone.
func awaitText(t *testing.T, ctx context.Context, selector, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		got = run(t, ctx, "reading "+selector, chromedp.Evaluate[string](fmt.Sprintf(
			`(document.querySelector(%q) || {innerText: ""}).innerText`, selector)))
		if strings.Contains(got, want) {
			return
		}
	}
	t.Fatalf("%s still reads %q after 15 seconds; want it to contain %q", selector, got, want)
}

// media makes the tab lay pages out for the CSS media type ("print"), or
// for the screen again ("").
func media(kind string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: kind})
		return err
	})
}
