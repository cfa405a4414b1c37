package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/fakeclock"
)

// TestChoiceJourney is issue 14's journey, as people take it in a browser:
// a member puts five of the starter demands to the co-op to rank, picking
// them by title; the members rank them in secret, one changes their
// ranking with the receipt; the ballot closes and a reader sees the
// pairwise table and the new priority list on /demands. Then a two-seat
// board election by single transferable vote, whose winners the officers
// page lists.
func TestChoiceJourney(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	s := startSiteWithClock(t, clk.Now)
	ctx := context.Background()
	if _, err := s.Lib.LoadStarter(ctx); err != nil {
		t.Fatal(err)
	}
	people, _ := addPeople(t, s, 5)
	admin := newBrowser(t)
	logIn(t, admin, s.URL, people[0].email, people[0].password)
	tabs := []context.Context{admin}
	for _, p := range people[1:] {
		tab := newIsolatedTab(t, admin)
		logIn(t, tab, s.URL, p.email, p.password)
		tabs = append(tabs, tab)
	}
	titles := make([]string, 5) // the five demands put to the co-op, A to E
	for i := range titles {
		d, err := s.Lib.Demand(ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		titles[i] = d.Title
	}

	t.Run("an admin lets choices be held in minutes, for a meeting", func(t *testing.T) {
		navigate(t, admin, s.URL+"/admin/rules")
		for _, kind := range []string{governance.KindPrioritise, governance.KindElect} {
			fill(t, admin, "#f-"+kind+"-min", "1")
			submit(t, admin, `form:has(input[value=`+kind+`]) button[type=submit]`)
			mustContain(t, admin, ".flash.ok", "rules saved")
		}
	})

	var priorityURL string
	t.Run("a member puts five demands to the co-op to rank, picking them by title", func(t *testing.T) {
		bea := tabs[1]
		navigate(t, bea, s.URL+"/proposals/new")
		submit(t, bea, `a[href="/proposals/new?kind=`+governance.KindPrioritise+`"]`)
		visit(t, bea, "prioritise-form")
		fill(t, bea, "#f-title", "Which demands do we push first this year?")
		fill(t, bea, "#f-body", "We can carry three demands to the council this year. Rank all five.")
		for _, title := range titles {
			tick(t, bea, title)
		}
		fill(t, bea, "#f-days", "0")
		fill(t, bea, "#f-hours", "0")
		fill(t, bea, "#f-minutes", "5")
		submit(t, bea, `main form[method=post] button[type=submit]:not([name=more])`)
		mustContain(t, bea, ".flash.ok", "open for voting")
		priorityURL = currentURL(t, bea)
		for _, title := range titles {
			mustContain(t, bea, "#ballot", title)
		}
	})

	// Each member's ranking, by demand (A to E); Cai's first ranking is
	// changed with the receipt to the second. C is every member's first or
	// second choice and beats each other demand pairwise: the Condorcet
	// winner, so it must head the priority list.
	rankings := [][]int{
		{2, 3, 1, 4, 5}, // Ada: C > A > B > D > E
		{1, 2, 3, 4, 5}, // Bea: A > B > C > D > E
		{5, 4, 3, 2, 1}, // Cai, first: E > D > C > B > A
		{3, 4, 1, 5, 2}, // Dee: C > E > A > B > D
		{2, 5, 1, 3, 4}, // Eve: C > A > D > E > B
	}
	changed := []int{2, 1, 3, 4, 5} // Cai, after: B > A > C > D > E
	var receipt string
	t.Run("the members rank the demands in secret; one changes their ranking with the receipt", func(t *testing.T) {
		for i, ranks := range rankings {
			v := tabs[i]
			navigate(t, v, priorityURL)
			if n := run(t, v, "looking for a result", chromedp.Evaluate[int](`document.querySelectorAll('#result').length`)); n != 0 {
				t.Fatal("the open ballot shows a result")
			}
			rank(t, v, titles, ranks)
			if i == 2 {
				visit(t, v, "prioritise-ballot")
			}
			submit(t, v, "#ballot button[type=submit]")
			mustContain(t, v, ".flash.ok", "in the ballot box")
			code := run(t, v, "reading the receipt", chromedp.Value(chromedp.CSS("#receipt-code")))
			if !regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$`).MatchString(code) {
				t.Fatalf("receipt %q does not look like a receipt", code)
			}
			if i == 2 {
				receipt = code
			}
		}
		cai := tabs[2]
		navigate(t, cai, priorityURL)
		rank(t, cai, titles, changed)
		fill(t, cai, "#f-receipt", strings.ToLower(receipt))
		submit(t, cai, "#ballot button[type=submit]")
		mustContain(t, cai, ".flash.ok", "changed")
		visit(t, cai, "prioritise-ballot-changed")
	})

	t.Run("a phone shows the ranked ballot without sideways scrolling", func(t *testing.T) {
		phone := newIsolatedTab(t, admin)
		logIn(t, phone, s.URL, people[3].email, people[3].password)
		do(t, phone, "emulating a phone", chromedp.EmulateViewport(390, 844))
		navigate(t, phone, priorityURL)
		if width := run(t, phone, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
			t.Errorf("the ranked ballot is %dpx wide on a 390px phone", width)
		}
		visit(t, phone, "prioritise-ballot-phone")
	})

	t.Run("the ballot closes; a reader sees the pairwise table and the new priority list", func(t *testing.T) {
		clk.Advance(6 * time.Minute)
		reader := newIsolatedTab(t, admin)
		navigate(t, reader, priorityURL)
		mustContain(t, reader, "#result", titles[2])
		if n := run(t, reader, "counting the pairwise table's rows", chromedp.Evaluate[int](`document.querySelectorAll('#result table tbody tr').length`)); n < 5 {
			t.Errorf("the result's tables have %d rows; want the pairwise table's 5 at least", n)
		}
		visit(t, reader, "prioritise-result")
		navigate(t, reader, s.URL+"/demands")
		list := text(t, reader, "#priorities")
		first := strings.Index(list, titles[2])
		if first < 0 {
			t.Fatalf("the priority list does not name the Condorcet winner %q:\n%s", titles[2], list)
		}
		for _, other := range []int{0, 1, 3, 4} {
			if at := strings.Index(list, titles[other]); at < first {
				t.Errorf("the priority list puts %q (at %d) before the Condorcet winner:\n%s", titles[other], at, list)
			}
		}
		visit(t, reader, "demands-with-priorities")
		do(t, reader, "emulating a phone", chromedp.EmulateViewport(390, 844))
		navigate(t, reader, priorityURL)
		visit(t, reader, "prioritise-result-phone")
	})

	t.Run("anyone recounts the box and gets what was published", func(t *testing.T) {
		bin := buildPlenary(t)
		id := priorityURL[strings.LastIndex(priorityURL, "/")+1:]
		if out, err := exec.Command(bin, "tally", "verify", "-db", s.Path, id).CombinedOutput(); err != nil {
			t.Fatalf("plenary tally verify %s: %v\n%s", id, err, out)
		}
	})

	candidates := []string{"Farah Okafor", "Gus Lindqvist", "Hana Mori", "Ivo Petrov"}
	var electionURL string
	t.Run("an admin calls a two-seat board election by single transferable vote", func(t *testing.T) {
		navigate(t, admin, s.URL+"/proposals/new?kind="+governance.KindElect)
		fill(t, admin, "#f-title", "Elect two directors to the board")
		fill(t, admin, "#f-office", "Board of directors")
		fill(t, admin, "#f-seats", "2")
		do(t, admin, "choosing STV", chromedp.SetValue(chromedp.ID("f-method"), governance.MethodSTV))
		for i, name := range candidates {
			fill(t, admin, fmt.Sprintf("#f-label-%d", i), name)
			fill(t, admin, fmt.Sprintf("#f-statement-%d", i), "I have driven for the co-op for "+fmt.Sprint(i+2)+" years.")
		}
		fill(t, admin, "#f-days", "0")
		fill(t, admin, "#f-hours", "0")
		fill(t, admin, "#f-minutes", "5")
		visit(t, admin, "election-form")
		submit(t, admin, `main form[method=post] button[type=submit]:not([name=more])`)
		mustContain(t, admin, ".flash.ok", "open for voting")
		electionURL = currentURL(t, admin)
	})

	t.Run("five members rank the candidates; two reach the quota", func(t *testing.T) {
		// The quota is 5/3 + 1, rounded down: 2. Farah and Gus each have
		// two first preferences and are elected at the first stage.
		ballots := [][]int{
			{1, 2, 0, 0}, // Farah > Gus
			{1, 0, 2, 0}, // Farah > Hana
			{2, 1, 0, 0}, // Gus > Farah
			{0, 1, 2, 0}, // Gus > Hana
			{0, 0, 1, 2}, // Hana > Ivo
		}
		for i, ranks := range ballots {
			v := tabs[i]
			navigate(t, v, electionURL)
			rank(t, v, candidates, ranks)
			if i == 4 {
				visit(t, v, "election-ballot")
			}
			submit(t, v, "#ballot button[type=submit]")
			mustContain(t, v, ".flash.ok", "in the ballot box")
		}
	})

	t.Run("the election closes; the result shows its stages and the officers page the two elected", func(t *testing.T) {
		clk.Advance(6 * time.Minute)
		reader := newIsolatedTab(t, admin)
		navigate(t, reader, electionURL)
		result := text(t, reader, "#result")
		for _, want := range []string{"elected", candidates[0], candidates[1], "2"} {
			if !strings.Contains(result, want) {
				t.Errorf("the election's result does not say %q:\n%s", want, result)
			}
		}
		visit(t, reader, "election-result")
		navigate(t, reader, s.URL+"/officers")
		officers := text(t, reader, "main")
		for _, want := range []string{"Board of directors", candidates[0], candidates[1]} {
			if !strings.Contains(officers, want) {
				t.Errorf("the officers page does not say %q:\n%s", want, officers)
			}
		}
		for _, loser := range candidates[2:] {
			if strings.Contains(officers, loser) {
				t.Errorf("the officers page names %q, who was not elected:\n%s", loser, officers)
			}
		}
		if n := run(t, reader, "finding the link to the ballot", chromedp.Evaluate[int](
			fmt.Sprintf(`document.querySelectorAll('main a[href$=%q]').length`, electionURL[strings.LastIndex(electionURL, "/"):]))); n == 0 {
			t.Error("the officers page does not link the ballot that elected them")
		}
		visit(t, reader, "officers")
	})
}

// tick ticks the checkbox whose label reads title, as a person finds it.
func tick(t *testing.T, ctx context.Context, title string) {
	t.Helper()
	id := labelled(t, ctx, "input[type=checkbox]", title)
	do(t, ctx, "ticking "+title, chromedp.Click(chromedp.ID(id)))
}

// rank chooses ranks[i] for the option labelled labels[i] (0 leaves it
// unranked), in the select that the option's label names.
func rank(t *testing.T, ctx context.Context, labels []string, ranks []int) {
	t.Helper()
	for i, label := range labels {
		value := ""
		if ranks[i] > 0 {
			value = fmt.Sprint(ranks[i])
		}
		id := labelled(t, ctx, "#ballot select", label)
		do(t, ctx, fmt.Sprintf("ranking %s %s", label, value), chromedp.SetValue(chromedp.ID(id), value))
	}
}

// labelled returns the id of the one control matched by selector whose
// label contains text.
func labelled(t *testing.T, ctx context.Context, selector, text string) string {
	t.Helper()
	sel, _ := json.Marshal(selector)
	want, _ := json.Marshal(text)
	ids := run(t, ctx, "finding the control labelled "+text, chromedp.Evaluate[[]string](fmt.Sprintf(
		`[...document.querySelectorAll(%s)].filter(c => [...c.labels].some(l => l.textContent.includes(%s))).map(c => c.id)`, sel, want)))
	if len(ids) != 1 || ids[0] == "" {
		t.Fatalf("%d controls %s labelled %q; want one with an id", len(ids), selector, text)
	}
	return ids[0]
}
