package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

// Every page writes times in the viewer's zone and names it: readers and
// members without a zone of their own in the co-op's, a member who chose
// one in theirs.
func TestTimesAreShownInTheViewersZone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	// A motion that runs a week from 2 March 10:00 UTC, then closes.
	p, err := a.Gov.Propose(ctx, ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: "Meet in Lyon", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	page := "/proposals/" + strconv.FormatInt(p.ID, 10)
	admin, member, reader := a.client(), a.client(), a.client()
	admin.login(t, ad)
	member.login(t, mo)

	admin.get(t, page).wantText(t, "closes 9 Mar 2026 10:00 UTC")
	admin.get(t, "/").wantText(t, "Times are shown in UTC")

	admin.submit(t, "/admin/settings", "/admin/settings", form("time_zone", "Europe/Paris")).wantRedirect(t, "/admin/settings")
	for _, c := range []*client{admin, member} {
		r := c.get(t, page)
		r.wantText(t, "9 Mar 2026 11:00 CET")
		r.wantText(t, "Times are shown in Europe/Paris")
	}
	member.submit(t, "/account", "/account/zone", form("time_zone", "America/New_York")).wantRedirect(t, "/account")
	r := member.get(t, page)
	r.wantText(t, "2 Mar 2026 05:00 EST to 9 Mar 2026 06:00 EDT")
	r.wantText(t, "Times are shown in America/New_York")
	if r := member.get(t, "/account"); !strings.Contains(r.Body, "<dt>Member since</dt><dd>2 Mar 2026</dd>") {
		t.Errorf("the account page does not give the day the member joined, in their zone:\n%s", excerpt(r.Body))
	}
	admin.get(t, page).wantText(t, "9 Mar 2026 11:00 CET")

	a.Clock.Advance(7*24*time.Hour + time.Minute)
	if err := a.Gov.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	// The public page, cached for readers, is in the co-op's zone.
	for range 2 {
		r := reader.get(t, page)
		r.wantText(t, "9 Mar 2026")
		r.wantText(t, "Times are shown in Europe/Paris")
		if strings.Contains(r.Body, "EST") {
			t.Errorf("a reader sees a member's zone")
		}
	}
	reader.get(t, "/ledger").wantText(t, "The co-op's time zone set to Europe/Paris by member 1")
	// Back to the co-op's zone: the empty choice.
	member.submit(t, "/account", "/account/zone", form("time_zone", "")).wantRedirect(t, "/account")
	if m := a.reload(t, mo); m.Member.TimeZone != nil {
		t.Errorf("the member's zone is %q after choosing the co-op's", *m.Member.TimeZone)
	}
}

// A time typed into a form is in the author's zone, and a time the clocks
// skip or repeat resolves by one rule (internal/tz).
func TestFormsTakeTimesInTheAuthorsZone(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	c := a.client()
	c.login(t, ad)
	c.submit(t, "/account", "/account/zone", form("time_zone", "Europe/London")).wantRedirect(t, "/account")
	page := c.get(t, "/proposals/new?kind="+governance.KindMotion)
	page.wantText(t, "Opens at, if later (your time, Europe/London)")
	// The hint is a day from now in the member's zone: 3 March 10:00 GMT.
	page.wantText(t, "e.g. 3 Mar 2026 10:00 GMT")

	for _, tt := range []struct {
		name, wall, want, flash string
	}{
		{"a winter time is GMT", "2026-03-20T18:00", "2026-03-20T18:00:00Z", "Voting opens 20 Mar 2026 18:00 GMT."},
		{"a summer time is BST", "2026-04-20T18:00", "2026-04-20T17:00:00Z", "Voting opens 20 Apr 2026 18:00 BST."},
		{"a time the clocks skip moves on by the gap", "2026-03-29T01:30", "2026-03-29T01:30:00Z", "Voting opens 29 Mar 2026 02:30 BST."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.submit(t, "/proposals/new", "/proposals/new", form("kind", governance.KindMotion, "title", "A motion "+tt.wall,
				"opens", "later", "opens_at", tt.wall, "days", "7", "hours", "0", "minutes", "0"))
			if !r.wantStatus(t, http.StatusSeeOther) {
				return
			}
			id, _ := strconv.ParseInt(strings.TrimPrefix(r.Location(), "/proposals/"), 10, 64)
			p, err := a.Gov.Proposal(context.Background(), &ad.Member, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.OpensAt.UTC().Format(time.RFC3339); got != tt.want {
				t.Errorf("voting opens %s, want %s", got, tt.want)
			}
			c.get(t, r.Location()).wantText(t, tt.flash)
		})
	}
	t.Run("a time that is not one is refused, naming the zone", func(t *testing.T) {
		before := a.snapshot(t)
		r := c.submit(t, "/proposals/new", "/proposals/new", form("kind", governance.KindMotion, "title", "A motion",
			"opens", "later", "opens_at", "2026-03-29 01:30", "days", "7"))
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "f-opens_at", "Enter when voting opens, as a date and time (Europe/London).")
		a.wantUnchanged(t, before)
	})
}

func TestTimeZoneFormsRefuseBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	c := a.client()
	c.login(t, ad)
	for _, tt := range []struct{ name, value, message string }{
		{"not a zone", "Mars/Olympus_Mons", "Choose a time zone from the list, such as Europe/London."},
		{"the server's own zone", "Local", "Choose a time zone from the list, such as Europe/London."},
		{"a path", "../../etc/passwd", "Choose a time zone from the list, such as Europe/London."},
		{"markup", "<script>alert(1)</script>", "Choose a time zone from the list, such as Europe/London."},
		{"too long", strings.Repeat("Europe/", 20), "Choose a time zone from the list."},
		{"not UTF-8", "Europe/\xff", "Choose a time zone from the list, such as Europe/London."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := a.snapshot(t)
			r := c.submit(t, "/account", "/account/zone", form("time_zone", tt.value))
			r.wantStatus(t, http.StatusUnprocessableEntity)
			r.wantFieldError(t, "f-time_zone", tt.message)
			r = c.submit(t, "/admin/settings", "/admin/settings", form("time_zone", tt.value))
			r.wantStatus(t, http.StatusUnprocessableEntity)
			r.wantFieldError(t, "f-time_zone", tt.message)
			a.wantUnchanged(t, before)
		})
	}
	t.Run("the co-op must have a zone", func(t *testing.T) {
		before := a.snapshot(t)
		r := c.submit(t, "/admin/settings", "/admin/settings", form("time_zone", " "))
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "f-time_zone", "Choose the co-op's time zone.")
		a.wantUnchanged(t, before)
	})
	t.Run("a suspended member keeps the zone they had", func(t *testing.T) {
		mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
		a.suspend(t, ad, mo)
		mc := a.client()
		mc.login(t, mo)
		before := a.snapshot(t)
		r := mc.post(t, "/account/zone", form("time_zone", "Europe/Paris", "csrf_token", mc.csrf(t, "/account")))
		r.wantStatus(t, http.StatusForbidden)
		a.wantUnchanged(t, before)
	})
}
