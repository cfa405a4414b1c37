package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/ical"
)

var calendarLink = regexp.MustCompile(`id="calendar-link" type="text" readonly value="([^"]+)"`)

// makeCalendarLink presses the account page's button and returns the path
// of the link shown once.
func makeCalendarLink(t *testing.T, c *client) string {
	t.Helper()
	r := c.submit(t, "/account", "/account/calendar", nil)
	r.wantRedirect(t, "/account#calendar-h")
	page := c.get(t, "/account")
	m := calendarLink.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("the account page shows no calendar link:\n%s", excerpt(page.Body))
	}
	if again := c.get(t, "/account"); calendarLink.MatchString(again.Body) {
		t.Error("the calendar link is shown a second time")
	}
	return strings.TrimPrefix(m[1], c.app.URL)
}

// events lists the UIDs and summaries of a calendar's events.
func events(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	var uid string
	for _, line := range strings.Split(ical.Unfold(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "UID:"); ok {
			uid = v
		}
		if v, ok := strings.CutPrefix(line, "SUMMARY:"); ok {
			out[uid] = v
		}
	}
	return out
}

func TestCalendarFeedListsOnlyTheMembersBallots(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	propose := func(title, opens string) governance.Proposal {
		in := governance.ProposalInput{Kind: governance.KindMotion, Title: title, Opens: opens, Days: "7"}
		if opens == "later" {
			in.OpensAt = a.Clock.Now().Add(48 * time.Hour).Format("2006-01-02T15:04")
		}
		p, err := a.Gov.Propose(ctx, ad.Member, in)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := propose("Opened before Mo joined", "now")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	onRoll := propose("Mo is on this roll", "now")
	later := propose("Still in discussion", "later")
	if err := a.Gov.SetTimeZone(ctx, mo.ID, "Europe/Paris"); err != nil {
		t.Fatal(err)
	}

	c := a.client()
	c.login(t, mo)
	link := makeCalendarLink(t, c)
	if !regexp.MustCompile(`^/calendar/[A-Za-z0-9_-]{43}\.ics$`).MatchString(link) {
		t.Fatalf("calendar link %q", link)
	}
	// The feed needs no login: a calendar app sends no cookie.
	feed := a.client().get(t, link)
	feed.wantStatus(t, http.StatusOK)
	if ct := feed.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := feed.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
	host := strings.TrimPrefix(a.URL, "http://")
	uid := func(p governance.Proposal) string { return "proposal-" + strconv.FormatInt(p.ID, 10) + "@" + host }
	got := events(t, feed.Body)
	if got[uid(onRoll)] != "Vote: Mo is on this roll" || len(got) != 1 {
		t.Errorf("the feed lists %v; want only %s, the ballot Mo is on the roll for", got, uid(onRoll))
	}
	// Not the ballot whose roll was frozen before Mo joined, nor one whose
	// roll is not frozen yet.
	for _, p := range []governance.Proposal{before, later} {
		if strings.Contains(feed.Body, p.Title) {
			t.Errorf("the feed lists %q, whose roll Mo is not on", p.Title)
		}
	}
	// The event's times are UTC; its description, in Mo's zone.
	if !strings.Contains(feed.Body, "DTEND:"+ical.Time(onRoll.ClosesAt)+"\r\n") ||
		!strings.Contains(ical.Unfold(feed.Body), "Voting is open until 9 Mar 2026 11:00 CET.") {
		t.Errorf("the feed's event:\n%s", feed.Body)
	}
	for _, line := range strings.Split(feed.Body, "\r\n") {
		if len(line) > 75 {
			t.Errorf("a line of %d octets: %q", len(line), line)
		}
	}

	t.Run("the ballot page's download is the same event", func(t *testing.T) {
		page := "/proposals/" + strconv.FormatInt(onRoll.ID, 10)
		c.get(t, page).wantText(t, "Add to calendar (.ics)")
		r := c.get(t, page+"/calendar.ics")
		r.wantStatus(t, http.StatusOK)
		if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="proposal-`+strconv.FormatInt(onRoll.ID, 10)+`.ics"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if got := events(t, r.Body); got[uid(onRoll)] == "" {
			t.Errorf("the download holds %v, want the UID %s", got, uid(onRoll))
		}
	})

	t.Run("a closed ballot stays a while, marked closed, then goes", func(t *testing.T) {
		a.Clock.Advance(7*24*time.Hour + time.Minute)
		got := events(t, a.client().get(t, link).Body)
		if !strings.HasPrefix(got[uid(onRoll)], "Ballot closed: ") {
			t.Errorf("after the close: %v", got)
		}
		// The motion that was in discussion opened two days in, Mo on its
		// roll by then: it is in the feed now, until a month after its
		// own close.
		if got[uid(later)] != "Vote: Still in discussion" {
			t.Errorf("the ballot that opened after Mo joined: %v", got)
		}
		a.Clock.Advance(governance.CalendarWindow + 3*24*time.Hour)
		if got := events(t, a.client().get(t, link).Body); len(got) != 0 {
			t.Errorf("a month after the closes: %v", got)
		}
	})

	t.Run("a new link revokes the old", func(t *testing.T) {
		fresh := makeCalendarLink(t, c)
		if fresh == link {
			t.Fatal("the new link is the old one")
		}
		a.client().get(t, link).wantStatus(t, http.StatusNotFound)
		a.client().get(t, fresh).wantStatus(t, http.StatusOK)
		if !strings.Contains(c.get(t, "/account").Body, "Make a new calendar link") {
			t.Error("the account page does not offer a new link")
		}
		link = fresh
	})

	t.Run("a member who has left has no feed", func(t *testing.T) {
		if err := a.Gov.MarkLeft(ctx, ad.Member, mo.ID); err != nil {
			t.Fatal(err)
		}
		a.client().get(t, link).wantStatus(t, http.StatusNotFound)
	})

	t.Run("a made-up or mangled address finds nothing", func(t *testing.T) {
		for _, p := range []string{"/calendar/" + strings.Repeat("A", 43) + ".ics", strings.TrimSuffix(link, ".ics"),
			link + ".ics", "/calendar/%00.ics", "/calendar/" + strings.Repeat("x", 5000) + ".ics"} {
			a.client().get(t, p).wantStatus(t, http.StatusNotFound)
		}
	})
}

// Anyone on a roll, suspended since or not, gets the ballots of their
// rolls; a member who joined after every ballot opened gets none.
func TestCalendarFeedFollowsTheRollNotTheStatus(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	sam := a.addMember(t, ad, "Sam Suspended", "sam@example.org")
	p, err := a.Gov.Propose(ctx, ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: "Before the suspension", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	newcomer := a.addMember(t, ad, "Nia Newcomer", "nia@example.org")
	samToken, err := a.Gov.NewCalendarToken(ctx, sam.ID)
	if err != nil {
		t.Fatal(err)
	}
	niaToken, err := a.Gov.NewCalendarToken(ctx, newcomer.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.suspend(t, ad, sam)
	if r := a.client().get(t, "/calendar/"+samToken+".ics"); !strings.Contains(r.Body, p.Title) {
		t.Errorf("a suspended member on the roll: the feed lacks the ballot:\n%s", r.Body)
	}
	if r := a.client().get(t, "/calendar/"+niaToken+".ics"); r.wantStatus(t, http.StatusOK) && strings.Contains(r.Body, "BEGIN:VEVENT") {
		t.Errorf("a member not on any roll gets events:\n%s", r.Body)
	}
}
