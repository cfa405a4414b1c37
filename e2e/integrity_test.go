package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/fakeclock"
)

// What a ballot decided stays decided, in a real browser: an admin finds
// an endorsed demand closed to edits and told why, a member proposes an
// amendment from its page, sees the change field by field, and once the
// ballot carries every reader sees the amended text with a digest that
// matches the ledger; a change made in the file behind Plenary's back is
// then found by `plenary endorsement verify`.
func TestAmendmentJourney(t *testing.T) {
	clk := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	s := startSiteWithClock(t, clk.Now)
	ctx := context.Background()
	if _, err := s.Lib.LoadStarter(ctx); err != nil {
		t.Fatal(err)
	}
	ada, err := s.Gov.AddMember(ctx, governance.Details{Name: "Ada Secretary", Email: "ada@riverside.coop", Password: "correct horse battery staple"}, governance.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	bea, err := s.Gov.AddMember(ctx, governance.Details{Name: "Bea Driver", Email: "bea@example.org", Password: "a lighthouse keeper's long walk"}, governance.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	// A meeting votes live: the co-op lets demand ballots last a minute.
	for _, kind := range []string{governance.KindEndorseDemand, governance.KindAmendDemand} {
		if err := s.Gov.SetRule(ctx, ada, governance.RuleInput{Kind: kind, QuorumPct: "25", Threshold: governance.ThresholdTwoThirds, MinMinutes: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	carry := func(p governance.Proposal) {
		t.Helper()
		for _, m := range []governance.Member{ada, bea} {
			if _, err := s.Gov.Vote(ctx, m, p.ID, governance.ChoiceYes, ""); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(p.ClosesAt.Sub(clk.Now()))
		if err := s.Gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.Gov.Propose(ctx, ada, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse demand 1", DemandID: "1",
		Opens: "now", Minutes: "5"})
	if err != nil {
		t.Fatal(err)
	}
	carry(p)

	admin := newBrowser(t)
	logIn(t, admin, s.URL, "ada@riverside.coop", "correct horse battery staple")
	member := newIsolatedTab(t, admin)
	logIn(t, member, s.URL, "bea@example.org", "a lighthouse keeper's long walk")
	var proposalURL string

	t.Run("the endorsed demand shows its digest, and an admin cannot edit it", func(t *testing.T) {
		navigate(t, admin, s.URL+"/demands/1")
		mustContain(t, admin, ".digest", "it matches the digest recorded on the ledger")
		visit(t, admin, "endorsed-demand")
		navigate(t, admin, s.URL+"/demands/1/edit")
		mustContain(t, admin, "main", "This demand was endorsed by ballot; to change it, propose an amendment")
		visit(t, admin, "edit-refused")
	})

	t.Run("a member proposes an amendment and sees it field by field", func(t *testing.T) {
		navigate(t, member, s.URL+"/demands/1")
		submit(t, member, `a[href^="/proposals/amend?demand=1"]`)
		visit(t, member, "amend-form")
		fill(t, member, "#f-to_title", "Open routes for investment into digital co-ops, now")
		fill(t, member, "#f-days", "0")
		fill(t, member, "#f-minutes", "5")
		submit(t, member, "main button[type=submit]")
		mustContain(t, member, ".flash.ok", "Amendment proposed")
		proposalURL = currentURL(t, member)
		mustContain(t, member, "table.diff", "Open routes for investment into digital co-ops, now")
		mustContain(t, member, "table.diff", "changed")
		visit(t, member, "amendment-proposal")
	})

	t.Run("the ballot carries and every reader sees the amended text, matching the ledger", func(t *testing.T) {
		id := proposalURL[strings.LastIndex(proposalURL, "/")+1:]
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			t.Fatalf("proposal URL %s: %v", proposalURL, err)
		}
		p, err := s.Gov.Proposal(ctx, &ada, n)
		if err != nil {
			t.Fatal(err)
		}
		carry(p)
		reader := newIsolatedTab(t, admin)
		navigate(t, reader, s.URL+"/demands/1")
		mustContain(t, reader, "h1", "Open routes for investment into digital co-ops, now")
		mustContain(t, reader, ".digest", "it matches the digest recorded on the ledger")
		visit(t, reader, "amended-demand")
		navigate(t, reader, s.URL+"/ledger")
		mustContain(t, reader, "main", "demand amended; content digest")
	})

	t.Run("endorsement verify passes, and fails once the text is changed in the file", func(t *testing.T) {
		bin := buildPlenary(t)
		if out, err := exec.Command(bin, "endorsement", "verify", "-db", s.Path, "demand", "1").CombinedOutput(); err != nil {
			t.Fatalf("endorsement verify: %v\n%s", err, out)
		}
		editOutside(t, s.Path, []string{"demands.demands_endorsed_frozen"}, `UPDATE demands SET body = body || ' (quietly extended)' WHERE id = 1;`)
		out, err := exec.Command(bin, "endorsement", "verify", "-db", s.Path, "demand", "1").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "changed outside a ballot") {
			t.Errorf("endorsement verify after the edit: %v\n%s", err, out)
		}
		out, err = exec.Command(bin, "ledger", "verify", "-db", s.Path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "FAILED") {
			t.Errorf("ledger verify after the edit: %v\n%s", err, out)
		}
	})
}
