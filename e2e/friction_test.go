package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/fakeclock"
)

// TestFirstDayJourney walks a member's first day on a desktop and on a
// 390-pixel phone (issue 16), finding things by their labels and names as
// a person does: a proposal made from a demand's page, the vote first on
// the page, the receipt kept whole, a shared link read by someone logged
// out, the result in the header, what waits for an admin, filters, the
// home page, the library, the ledger and the join form. Every page is
// checked by axe and photographed at both sizes.
func TestFirstDayJourney(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	s := startSiteWithClock(t, clk.Now)
	ctx := context.Background()
	if _, err := s.Lib.LoadStarter(ctx); err != nil {
		t.Fatal(err)
	}
	people, members := addPeople(t, s, 3)
	// Endorsement votes run for at least 90 minutes here: the form must
	// start at that, not at a week.
	setMinimum(t, s, members[0], governance.KindEndorseDemand, 90)

	ada := newBrowser(t)
	logIn(t, ada, s.URL, people[0].email, people[0].password)
	bea, cai := newIsolatedTab(t, ada), newIsolatedTab(t, ada)
	logIn(t, bea, s.URL, people[1].email, people[1].password)
	logIn(t, cai, s.URL, people[2].email, people[2].password)

	for i, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		demand := fmt.Sprintf("/demands/%d", i+1)
		var proposal string
		public := newIsolatedTab(t, ada)
		for _, tab := range []context.Context{ada, bea, cai, public} {
			do(t, tab, "sizing the window", chromedp.EmulateViewport(size.width, size.height))
		}
		shot := func(tab context.Context, name string) { visit(t, tab, name+"-"+size.name) }

		t.Run(size.name+": a member proposes from a demand's page and meets only that kind's fields", func(t *testing.T) {
			navigate(t, bea, s.URL+demand)
			title := text(t, bea, "h1")
			follow(t, bea, "Propose that the co-op endorses it")
			shot(bea, "new-proposal")
			mustContain(t, bea, "h1", "New proposal: Endorse a demand")
			mustContain(t, bea, ".subject", title)
			for _, absent := range []string{"Demand number", "Resource number", "Demand title", "Addressed to"} {
				if has := run(t, bea, "looking for "+absent, chromedp.Evaluate[bool](labelExists(absent))); has {
					t.Errorf("the endorsement form has a %q field", absent)
				}
			}
			// The length starts at the rule's 90 minutes.
			for label, want := range map[string]string{"Days": "0", "Hours": "1", "Minutes": "30"} {
				if got := run(t, bea, "reading "+label, chromedp.Value(chromedp.CSS(control(t, bea, label)))); got != want {
					t.Errorf("%s starts at %q, want %q", label, got, want)
				}
			}

			follow(t, bea, "Another kind of proposal")
			shot(bea, "kinds")
			follow(t, bea, "Adopt a new demand")
			mustContain(t, bea, "h1", "New proposal: Adopt a new demand")
			if !run(t, bea, "looking for the new demand's title", chromedp.Evaluate[bool](labelExists("Demand title"))) {
				t.Error("the new demand's form has no field for its title")
			}

			navigate(t, bea, s.URL+demand)
			follow(t, bea, "Propose that the co-op endorses it")
			fill(t, bea, control(t, bea, "Why (optional)"), "Our members raise it most.")
			clickButton(t, bea, "Put it to the co-op")
			mustContain(t, bea, ".flash.ok", "open for voting")
			proposal = currentURL(t, bea)
		})

		t.Run(size.name+": the home page shows the demands being voted on and those proposed, marked", func(t *testing.T) {
			navigate(t, public, s.URL+"/")
			shot(public, "home")
			title := strings.TrimPrefix(text(t, bea, "h1"), "Endorse: ")
			for _, heading := range []string{"What we demand", "Being voted on", "Proposed by members"} {
				if !run(t, public, "looking for "+heading, chromedp.Evaluate[bool](fmt.Sprintf(
					`[...document.querySelectorAll("main h2")].some(h => h.innerText.trim() === %s)`, jsString(heading)))) {
					t.Errorf("the home page has no %q", heading)
				}
			}
			voted := run(t, public, "reading what is being voted on", chromedp.Evaluate[string](
				`(() => { const h = [...document.querySelectorAll("main h2")].find(h => h.innerText.trim() === "Being voted on"); return h ? h.closest("section").innerText : "" })()`))
			if !strings.Contains(voted, title) {
				t.Errorf("'Being voted on' reads %q; want the demand %q", voted, title)
			}
		})

		t.Run(size.name+": the vote comes first, the rules and digests fold away", func(t *testing.T) {
			navigate(t, cai, proposal)
			shot(cai, "ballot")
			voteTop := run(t, cai, "placing the vote", chromedp.Evaluate[float64](`document.querySelector("section.vote").getBoundingClientRect().top`))
			subjectTop := run(t, cai, "placing the demand", chromedp.Evaluate[float64](`document.querySelector("section.subject").getBoundingClientRect().top`))
			if voteTop > subjectTop {
				t.Errorf("the vote (at %.0f px) comes after the demand's text (at %.0f px)", voteTop, subjectTop)
			}
			// The choice itself is on the first screen.
			yes := run(t, cai, "placing the choice", chromedp.Evaluate[float64](`document.querySelector("form.ballot input[value=yes]").getBoundingClientRect().bottom`))
			if yes > float64(size.height) {
				t.Errorf("the first choice ends at %.0f px, below the first screen of %d px", yes, size.height)
			}
			main := text(t, cai, "main")
			if strings.Contains(main, "Roll digest") {
				t.Error("the roll digest is shown unasked")
			}
			mustContain(t, cai, "main", "3 members, frozen when voting opened")
			follow(t, cai, "How this ballot is run: rules and digests")
			mustContain(t, cai, "main", "Roll digest")
		})

		t.Run(size.name+": the secret receipt is shown whole, in groups, and can be saved", func(t *testing.T) {
			for _, v := range []context.Context{bea, cai} {
				navigate(t, v, proposal)
				do(t, v, "choosing yes", chromedp.Click(chromedp.CSS(`form.ballot input[value=yes]`)))
				clickButton(t, v, "Cast my vote")
				mustContain(t, v, ".flash.ok", "in the ballot box")
			}
			shot(cai, "receipt")
			code := run(t, cai, "reading the receipt", chromedp.Value(chromedp.CSS("#receipt-code")))
			shown := run(t, cai, "reading the receipt's groups", chromedp.Text(chromedp.CSS(".receipt-groups")))
			if strings.Join(strings.Fields(shown), "-") != code {
				t.Errorf("the receipt reads %q on the page, want the groups of %s", shown, code)
			}
			if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$`).MatchString(strings.Join(strings.Fields(shown), " ")) {
				t.Errorf("the receipt %q is not in groups of four", shown)
			}
			cut := run(t, cai, "measuring the receipt", chromedp.Evaluate[bool](`(() => {
				const e = document.querySelector(".receipt-groups");
				return e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > window.innerWidth;
			})()`))
			if cut {
				t.Error("the receipt is cut off")
			}
			href := run(t, cai, "reading the file link", chromedp.Evaluate[string](
				`[...document.querySelectorAll("a[download]")].find(a => a.textContent.includes("Save the receipt")).href`))
			if !strings.HasPrefix(href, "data:text/plain") || !strings.Contains(href, code) {
				t.Errorf("the receipt's file link is %q, want a text file holding %s", href, code)
			}
		})

		t.Run(size.name+": a shared link tells someone logged out what the ballot is, and logs them in to it", func(t *testing.T) {
			navigate(t, public, proposal)
			shot(public, "shared-link")
			mustContain(t, public, "main", "Voting is open until")
			mustContain(t, public, "main", "will be public on this page when voting closes")
			if strings.Contains(text(t, public, "main"), "Our members raise it most") {
				t.Error("the shared link shows the proposal's text to the public")
			}
			follow(t, public, "Log in to read and vote")
			fill(t, public, "#f-email", people[2].email)
			fill(t, public, "#f-password", people[2].password)
			clickButton(t, public, "Log in")
			if got := currentURL(t, public); !strings.HasSuffix(got, strings.TrimPrefix(proposal, s.URL)) {
				t.Errorf("after logging in the reader is at %s, want the ballot %s", got, proposal)
			}
			mustContain(t, public, "main", "You have voted")
		})

		t.Run(size.name+": a newcomer applies, with errors under their fields and a passphrase that shares a word with the address", func(t *testing.T) {
			newcomer := newIsolatedTab(t, ada)
			do(t, newcomer, "sizing the window", chromedp.EmulateViewport(size.width, size.height))
			navigate(t, newcomer, s.URL+"/")
			tag := run(t, newcomer, "reading the Join link", chromedp.Evaluate[string](
				`(() => { const a = [...document.querySelectorAll("header a")].find(a => a.innerText.trim() === "Join"); return a ? a.tagName + "|" + (a.getAttribute("role") || "") : "" })()`))
			if tag != "A|" {
				t.Errorf("Join is %q, want a link (A) with no other role", tag)
			}
			follow(t, newcomer, "Join")
			clickButton(t, newcomer, "Send application")
			shot(newcomer, "join-errors")
			placed := run(t, newcomer, "placing the errors", chromedp.Evaluate[string](`(() => {
				const out = [];
				for (const e of document.querySelectorAll("main small.error")) {
					const field = e.previousElementSibling;
					const hint = e.nextElementSibling;
					out.push((field && /^(INPUT|TEXTAREA|SELECT)$/.test(field.tagName) ? "under" : "apart") +
						(hint && hint.tagName === "SMALL" && !hint.classList.contains("error") && getComputedStyle(hint).color === getComputedStyle(e).color ? ",red-hint" : ""));
				}
				return out.join(" ");
			})()`))
			if placed == "" || strings.Contains(placed, "apart") || strings.Contains(placed, "red-hint") {
				t.Errorf("the join form's errors are placed %q, want each right under its field, with its hint not in the error's colour", placed)
			}
			email := []string{"admin@example.org", "admin@example.net"}[i]
			fill(t, newcomer, control(t, newcomer, "Your name"), "Sam Newcomer")
			fill(t, newcomer, control(t, newcomer, "Email"), email)
			fill(t, newcomer, control(t, newcomer, "Password"), "admin pass phrase 42")
			fill(t, newcomer, control(t, newcomer, "Why do you want to join?"), "I drive for a delivery co-op.")
			clickButton(t, newcomer, "Send application")
			mustContain(t, newcomer, ".flash.ok", "Thank you for applying")
			navigate(t, newcomer, s.URL+"/join")
			if got := currentURL(t, newcomer); !strings.HasSuffix(got, "/account") {
				t.Errorf("someone logged in who opens /join is at %s, want their account", got)
			}
		})

		t.Run(size.name+": the admin is told what waits, and filters look like filters", func(t *testing.T) {
			navigate(t, ada, s.URL+"/")
			shot(ada, "admin-home")
			applied := fmt.Sprintf("%d application%s to join waiting for a decision", i+1, map[bool]string{true: "s"}[i > 0])
			mustContain(t, ada, ".needs-you", applied)
			if nav := text(t, ada, "header nav"); !regexp.MustCompile(fmt.Sprintf(`Members\s*%d`, i+1)).MatchString(nav) {
				t.Errorf("the navigation reads %q, want Members with %d waiting", nav, i+1)
			}
			for _, page := range []string{"/admin/members", "/demands"} {
				navigate(t, ada, s.URL+page)
				shot(ada, "filters-"+strings.Trim(strings.ReplaceAll(page, "/", "-"), "-"))
				box := run(t, ada, "measuring the filter button", chromedp.Evaluate[[]float64](`(() => {
					const b = [...document.querySelectorAll("main button")].find(b => b.innerText.trim() === "Show");
					const r = b.getBoundingClientRect();
					const field = b.form.querySelector("select, input:not([type=hidden])").getBoundingClientRect();
					return [r.width, r.height, document.querySelector("main").getBoundingClientRect().width, field.height];
				})()`))
				if box[0] > 0.5*box[2] || box[1] > box[3]+2 {
					t.Errorf("%s: the filter button is %.0f×%.0f px in a page %.0f px wide beside fields %.0f px high, want a button of its own size",
						page, box[0], box[1], box[2], box[3])
				}
			}
		})

		t.Run(size.name+": library cards name a publisher once and languages by name", func(t *testing.T) {
			navigate(t, public, s.URL+"/library")
			shot(public, "library")
			main := text(t, public, "main")
			if regexp.MustCompile(`(?m)^\s*(.+) · (.+)$`).FindAllStringSubmatch(main, -1) != nil {
				for _, m := range regexp.MustCompile(`([^\n·]+) · ([^\n·]+)`).FindAllStringSubmatch(main, -1) {
					if strings.TrimSpace(m[1]) == strings.TrimSpace(m[2]) {
						t.Errorf("a card repeats %q", m[0])
					}
				}
			}
			if size.width >= 600 {
				mustContain(t, public, "aside.facets", "English") // on a phone, in the fold (below)
			}
		})

		t.Run(size.name+": on the library page the results come before folded filters", func(t *testing.T) {
			navigate(t, public, s.URL+"/library")
			first := run(t, public, "placing the first result", chromedp.Evaluate[float64](
				`document.querySelector("section.results article, section.results li.card, section.results .card").getBoundingClientRect().top`))
			if first > float64(size.height) {
				t.Errorf("the first result starts at %.0f px, below the first screen of %d px", first, size.height)
			}
			if size.width < 600 {
				if open := run(t, public, "reading the filters' fold", chromedp.Evaluate[bool](`document.querySelector("details.filters").open`)); open {
					t.Error("the filters are unfolded on a phone")
				}
				follow(t, public, "Filters")
				shot(public, "library-filters-open")
				mustContain(t, public, "details.filters", "English")
			}
		})

		t.Run(size.name+": the ledger reads as sentences that link what they are about, the record folded", func(t *testing.T) {
			navigate(t, public, s.URL+"/ledger")
			shot(public, "ledger")
			main := text(t, public, "main")
			if strings.Contains(main, `{"`) {
				t.Error("the ledger shows raw JSON unasked")
			}
			if regexp.MustCompile(`\b1 minutes\b`).MatchString(main) {
				t.Error(`the ledger says "1 minutes"`)
			}
			id := strings.TrimPrefix(proposal, s.URL+"/proposals/")
			link := run(t, public, "finding the proposal's link", chromedp.Evaluate[string](fmt.Sprintf(
				`([...document.querySelectorAll("ol.ledger p.what a")].find(a => a.getAttribute("href") === "/proposals/" + %s) || {}).innerText || ""`, jsString(id))))
			if !strings.EqualFold(link, "proposal "+id) {
				t.Errorf("the ledger's link to proposal %s reads %q", id, link)
			}
			follow(t, public, "Record of entry "+run(t, public, "", chromedp.Evaluate[string](`document.querySelector("ol.ledger li span.seq").innerText.slice(1)`)))
			mustContain(t, public, "ol.ledger li details[open]", `{"`)
		})

		t.Run(size.name+": once closed, the header says the outcome", func(t *testing.T) {
			clk.Advance(91 * time.Minute)
			reader := newIsolatedTab(t, ada)
			do(t, reader, "sizing the window", chromedp.EmulateViewport(size.width, size.height))
			navigate(t, reader, proposal)
			shot(reader, "closed")
			mustContain(t, reader, "main header", "closed: carried")
		})
	}

	t.Run("HEAD is answered where GET is", func(t *testing.T) {
		for _, path := range []string{"/", "/library", "/demands", "/ledger", "/join"} {
			res, err := http.Head(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("HEAD %s: %d", path, res.StatusCode)
			}
		}
	})
}

// setMinimum sets kind's shortest voting period, keeping the rest of its
// rule, as the rules page does.
func setMinimum(t *testing.T, s site, admin governance.Member, kind string, minutes int) {
	t.Helper()
	ctx := context.Background()
	rules, err := s.Gov.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Kind == kind {
			err := s.Gov.SetRule(ctx, admin, governance.RuleInput{Kind: kind, QuorumPct: fmt.Sprint(r.QuorumPct), Threshold: r.Threshold,
				MinMinutes: fmt.Sprint(minutes), Secret: r.Secret, Methods: r.AllowedMethods()})
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no rule for %s", kind)
}

// follow clicks the link, button or summary whose visible text is name, as
// a person finds it, and waits for the page it leads to (a summary opens
// in place).
func follow(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	press(t, ctx, "a, button, summary", name)
}

// clickButton presses the button named name, in main.
func clickButton(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	press(t, ctx, "main button", name)
}

// press clicks the first visible element matched by selector whose text is
// name.
func press(t *testing.T, ctx context.Context, selector, name string) {
	t.Helper()
	target := fmt.Sprintf(`[...document.querySelectorAll(%s)].find(e => e.textContent.replace(/\s+/g, " ").trim() === %s && e.getClientRects().length)`,
		jsString(selector), jsString(name))
	if !run(t, ctx, "looking for "+name, chromedp.Evaluate[bool]("!!("+target+")")) {
		t.Fatalf("no link or button named %q on %s", name, currentURL(t, ctx))
	}
	if run(t, ctx, "", chromedp.Evaluate[bool](target+".tagName === 'SUMMARY'")) {
		do(t, ctx, "opening "+name, chromedp.Evaluate[chromedp.Void](target+".click()"))
		return
	}
	actx, cancel := context.WithTimeout(ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(actx, chromedp.Evaluate[chromedp.Void](target+".click()")); err != nil {
		t.Fatalf("following %q: %v", name, err)
	}
}

// control is a CSS selector for the form control labelled label.
func control(t *testing.T, ctx context.Context, label string) string {
	t.Helper()
	id := run(t, ctx, "finding the field "+label, chromedp.Evaluate[string](fmt.Sprintf(
		`(([...document.querySelectorAll("label")].find(l => l.innerText.trim() === %s) || {}).control || {}).id || ""`, jsString(label))))
	if id == "" {
		t.Fatalf("no field labelled %q on %s", label, currentURL(t, ctx))
	}
	return "#" + id
}

// labelExists is a script that says whether a label starts with text.
func labelExists(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("label, legend")].some(l => l.innerText.trim().startsWith(%s))`, jsString(text))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
