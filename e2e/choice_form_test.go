package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/fakeclock"
	"plenary/library"
)

// TestChoiceFormJourney: an admin opens each of the four forms that put a
// choice among options to the co-op, at a desk and on a phone, puts a
// poll; and, once ballots on priorities and an election have closed, the
// priority list and the officers are shown.
func TestChoiceFormJourney(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	s := startSiteWithClock(t, clk.Now)
	ctx := context.Background()
	ada, err := s.Gov.AddMember(ctx, governance.Details{Name: "Ada Secretary", Email: "ada@riverside.coop",
		Password: "correct horse battery staple"}, governance.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	bea, err := s.Gov.AddMember(ctx, governance.Details{Name: "Bea Driver", Email: "bea@example.org",
		Password: "a lighthouse keeper's long walk"}, governance.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	av := library.Viewer{ID: ada.ID, Active: true, Admin: true}
	var demands []int64
	for i, title := range []string{"A public procurement route for platform co-ops", "Co-op conversion on retirement",
		"Open data for gig workers"} {
		r, err := s.Lib.SubmitResource(ctx, av, library.ResourceInput{Title: fmt.Sprintf("Report on %s", title),
			URL: fmt.Sprintf("https://example.org/report/%d", i), Format: "report"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Lib.SetResourceStatus(ctx, av, r.ID, library.StatusListed); err != nil {
			t.Fatal(err)
		}
		d, err := s.Lib.DraftDemand(ctx, av, library.DemandInput{Title: title, Body: "Ask it.", Audience: library.Audiences[0],
			Resources: fmt.Sprint(r.ID)})
		if err != nil {
			t.Fatal(err)
		}
		demands = append(demands, d.ID)
	}

	admin := newBrowser(t)
	logIn(t, admin, s.URL, "ada@riverside.coop", "correct horse battery staple")
	phone := newIsolatedTab(t, admin)
	do(t, phone, "emulating a phone", chromedp.EmulateViewport(390, 844))
	logIn(t, phone, s.URL, "ada@riverside.coop", "correct horse battery staple")
	both := func(path, name string) {
		t.Helper()
		navigate(t, admin, s.URL+path)
		visit(t, admin, name)
		navigate(t, phone, s.URL+path)
		width := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if width > 390 {
			t.Errorf("%s is %dpx wide on a 390px phone: it scrolls sideways", path, width)
		}
		visit(t, phone, name+"-phone")
	}

	t.Run("the rules show each choice's methods and the approval threshold", func(t *testing.T) {
		both("/admin/rules", "rules")
		mustContain(t, admin, `form:has(input[value=choose_resources])`, "Approval threshold")
	})

	t.Run("each form opens, at a desk and on a phone", func(t *testing.T) {
		for _, kind := range []string{governance.KindPrioritise, governance.KindChoose, governance.KindElect, governance.KindPoll} {
			both("/proposals/new?kind="+kind, kind)
		}
	})

	t.Run("a poll is put to the co-op", func(t *testing.T) {
		navigate(t, admin, s.URL+"/proposals/new?kind=poll")
		fill(t, admin, "#f-title", "Which evening suits the general meeting?")
		fill(t, admin, "#f-label-0", "Tuesday")
		fill(t, admin, "#f-label-2", "Thursday")
		submit(t, admin, `main button[type=submit]:not([name=more])`)
		mustContain(t, admin, ".flash.ok", "open for voting")
	})

	t.Run("a refused form shows why beside the field", func(t *testing.T) {
		navigate(t, admin, s.URL+"/proposals/new?kind=elect")
		fill(t, admin, "#f-title", "Board election")
		fill(t, admin, "#f-label-0", "Rosa Outsider")
		submit(t, admin, `main button[type=submit]:not([name=more])`)
		mustContain(t, admin, "#f-office-error", "Name the office")
		visit(t, admin, "elect-refused")
	})

	t.Run("the priority list and the officers, once their ballots close", func(t *testing.T) {
		closed := func(in governance.ProposalInput, ranks ...string) {
			t.Helper()
			in.Opens, in.Days = "now", "7"
			p, err := s.Gov.Propose(ctx, ada, in)
			if err != nil {
				t.Fatal(err)
			}
			ranked := map[int]string{}
			for i, r := range ranks {
				ranked[i] = r
			}
			for _, m := range []governance.Member{ada, bea} {
				if _, err := s.Gov.VoteChoice(ctx, m, p.ID, governance.ChoiceInput{Ranks: ranked}, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		closed(governance.ProposalInput{Kind: governance.KindPrioritise, Title: "Our priorities for 2027", Method: governance.MethodSchulze,
			Options: []governance.OptionInput{{DemandID: fmt.Sprint(demands[0])}, {DemandID: fmt.Sprint(demands[1])},
				{DemandID: fmt.Sprint(demands[2])}}}, "2", "3", "1")
		closed(governance.ProposalInput{Kind: governance.KindElect, Title: "Board election 2027", Method: governance.MethodSTV, Seats: "2",
			Office: "Board of directors", Options: []governance.OptionInput{{MemberID: fmt.Sprint(bea.ID), Statement: "I keep the books."},
				{Label: "Rosa Outsider"}, {Label: "Sam Elsewhere"}}}, "1", "2", "3")
		clk.Advance(8 * 24 * time.Hour)
		both("/demands", "demands-priorities")
		mustContain(t, admin, "#priorities ol", "Open data for gig workers")
		both("/officers", "officers")
		mustContain(t, admin, "main", "Bea Driver")
		both("/", "home-priorities")
	})
}
