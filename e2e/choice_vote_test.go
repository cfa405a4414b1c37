package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"plenary/governance"
	"plenary/internal/fakeclock"
)

// TestChoiceBallotJourney: members vote in a ranked and an approval ballot
// from Chromium without JavaScript of ours, a refused ballot shows its
// message beside the field, and once the ballots close a reader sees the
// count of each method, at desktop and phone widths, axe clean.
func TestChoiceBallotJourney(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	s := startSiteWithClock(t, clk.Now)
	ctx := context.Background()
	people, members := addPeople(t, s, 5)
	propose := func(in governance.ProposalInput, labels ...string) governance.Proposal {
		t.Helper()
		for _, l := range labels {
			o := governance.OptionInput{Label: l}
			if in.Kind == governance.KindElect {
				o.Statement = "I have kept the co-op's books for " + fmt.Sprint(len(l)) + " months and would like to help it grow. " +
					strings.Repeat("I will publish the board's minutes within a week of each meeting. ", len(l)%5)
			}
			in.Options = append(in.Options, o)
		}
		p, err := s.Gov.Propose(ctx, members[0], in)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	places := []string{"The library hall", "The bakery upstairs", "Riverside park", "The union office"}
	ranked := propose(governance.ProposalInput{Kind: governance.KindPoll, Title: "Where we meet next year", Opens: "now", Days: "3",
		Method: governance.MethodSchulze}, places...)
	approval := propose(governance.ProposalInput{Kind: governance.KindPoll, Title: "Which evenings suit", Opens: "now", Days: "3",
		Method: governance.MethodApproval, MaxApprovals: "2"}, "Monday", "Tuesday", "Wednesday", "Thursday")
	irv := propose(governance.ProposalInput{Kind: governance.KindPoll, Title: "Which logo", Opens: "now", Days: "3",
		Method: governance.MethodIRV}, "Acorn", "Beehive", "Cog")
	stv := propose(governance.ProposalInput{Kind: governance.KindElect, Title: "Elect two board members", Opens: "now", Days: "7",
		Method: governance.MethodSTV, Seats: "2", Office: "Board member"}, "Bea Driver", "Cai Rider", "Quin Outsider", "Rae Outsider")
	page := func(p governance.Proposal) string { return fmt.Sprintf("%s/proposals/%d", s.URL, p.ID) }

	browser := newBrowser(t)
	bea := newIsolatedTab(t, browser)
	logIn(t, bea, s.URL, people[1].email, people[1].password)

	t.Run("a member ranks the options, and a ballot with a rank twice is refused beside the fields", func(t *testing.T) {
		navigate(t, bea, page(ranked))
		mustContain(t, bea, "#ballot legend", "rank the options")
		atBothWidths(t, bea, "ranked-ballot")
		do(t, bea, "ranking two options first", chromedp.SetValue(chromedp.CSS("#f-rank_0"), "1"), chromedp.SetValue(chromedp.CSS("#f-rank_2"), "1"))
		submit(t, bea, "#ballot button[type=submit]")
		mustContain(t, bea, "#f-rank_2-error", "Rank 1 is given twice")
		visit(t, bea, "ranked-ballot-refused")
		do(t, bea, "ranking again", chromedp.SetValue(chromedp.CSS("#f-rank_1"), "1"), chromedp.SetValue(chromedp.CSS("#f-rank_0"), "2"),
			chromedp.SetValue(chromedp.CSS("#f-rank_2"), "3"))
		submit(t, bea, "#ballot button[type=submit]")
		mustContain(t, bea, ".flash.ok", "Your ballot is recorded")
		mustContain(t, bea, "#ballot button[type=submit]", "Change my ballot")
		if v := run(t, bea, "reading the stored rank", chromedp.Value(chromedp.CSS("#f-rank_1"))); v != "1" {
			t.Errorf("the open ballot shows rank %q for the option ranked first", v)
		}
	})

	t.Run("a member ticks options on an approval ballot", func(t *testing.T) {
		navigate(t, bea, page(approval))
		mustContain(t, bea, "#ballot", "Tick up to 2.")
		atBothWidths(t, bea, "approval-ballot")
		do(t, bea, "ticking two evenings", chromedp.Click(chromedp.CSS("#f-approve-1")), chromedp.Click(chromedp.CSS("#f-approve-3")))
		submit(t, bea, "#ballot button[type=submit]")
		mustContain(t, bea, ".flash.ok", "Your ballot is recorded")
	})

	t.Run("a member casts a secret ranked ballot and gets a receipt", func(t *testing.T) {
		navigate(t, bea, page(stv))
		mustContain(t, bea, "#ballot", "2 seats to fill")
		atBothWidths(t, bea, "election-ballot")
		do(t, bea, "ranking candidates", chromedp.SetValue(chromedp.CSS("#f-rank_0"), "1"), chromedp.SetValue(chromedp.CSS("#f-rank_1"), "2"))
		submit(t, bea, "#ballot button[type=submit]")
		mustContain(t, bea, ".flash.ok", "in the ballot box")
		if code := run(t, bea, "reading the receipt", chromedp.Value(chromedp.CSS("#receipt-code"))); len(code) < 20 {
			t.Errorf("receipt %q", code)
		}
		mustContain(t, bea, "#ballot", "Your receipt")
	})

	// The others vote through the service.
	vote := func(p governance.Proposal, m governance.Member, in governance.ChoiceInput) {
		t.Helper()
		if _, err := s.Gov.VoteChoice(ctx, m, p.ID, in, ""); err != nil {
			t.Fatalf("%s votes in %d: %v", m.Name, p.ID, err)
		}
	}
	ranks := func(r ...string) governance.ChoiceInput {
		in := governance.ChoiceInput{Ranks: map[int]string{}}
		for i, v := range r {
			in.Ranks[i] = v
		}
		return in
	}
	for i, m := range members[2:] {
		vote(ranked, m, ranks("1", "2", "", fmt.Sprint(3+i%2)))
		vote(approval, m, governance.ChoiceInput{Approve: []string{"0", fmt.Sprint(1 + i)}})
		vote(stv, m, ranks("", "1", fmt.Sprint(2+i%2), ""))
	}
	vote(irv, members[0], ranks("1"))
	vote(irv, members[1], ranks("1"))
	vote(irv, members[2], ranks("", "1"))
	vote(irv, members[3], ranks("2", "1"))
	vote(irv, members[4], ranks("", "2", "1"))

	clk.Advance(8 * 24 * time.Hour)
	reader := newIsolatedTab(t, browser)
	for _, r := range []struct {
		name  string
		p     governance.Proposal
		wants []string
	}{
		{"approval", approval, []string{"Approvals", "Share of ballots"}},
		{"schulze", ranked, []string{"Head to head", "Strongest paths", "Condorcet winner"}},
		{"irv", irv, []string{"Rounds", "Winner: Beehive", "Exhausted"}},
		{"stv", stv, []string{"Stages", "Quota", "Elected as Board member"}},
	} {
		t.Run("a reader sees the "+r.name+" count", func(t *testing.T) {
			navigate(t, reader, page(r.p))
			for _, want := range r.wants {
				mustContain(t, reader, "#result", want)
			}
			if n := run(t, reader, "counting charts", chromedp.Evaluate[int](`document.querySelectorAll('#result svg[role=img]').length`)); n == 0 {
				t.Error("the count has no chart")
			}
			mustContain(t, reader, "#box-h", "")
			atBothWidths(t, reader, "result-"+r.name)
		})
	}
}

// atBothWidths checks the page with axe and takes its screenshot at 1280
// and at 390 pixels wide, where it must not scroll sideways.
func atBothWidths(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	visit(t, ctx, name+"-1280")
	do(t, ctx, "emulating a phone", chromedp.EmulateViewport(390, 844))
	if w := run(t, ctx, "measuring the page", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the %s page is %dpx wide on a 390px phone: it scrolls sideways", name, w)
	}
	visit(t, ctx, name+"-390")
	do(t, ctx, "back to the desktop", chromedp.EmulateViewport(1280, 900))
}
