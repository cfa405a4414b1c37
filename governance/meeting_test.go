package governance_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
)

// setRule sets the motion rule with the meeting options.
func (c *coop) setRule(t *testing.T, quorum, minMinutes string, secret bool, proxyCap string, early bool, quorumOn string) {
	t.Helper()
	err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: quorum, Threshold: governance.ThresholdMajority,
		MinMinutes: minMinutes, Secret: secret, ProxyCap: proxyCap, EarlyClose: early, QuorumOn: quorumOn})
	if err != nil {
		t.Fatalf("set rule: %v", err)
	}
}

// later is a motion that opens in an hour, so proxies can be appointed
// for it while it is in discussion.
func (c *coop) later(t *testing.T, title string) governance.Proposal {
	t.Helper()
	in := motion(title)
	in.Opens, in.OpensAt = "later", c.clock.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04")
	return c.propose(t, c.admin, in)
}

// open moves the clock to p's opening and brings it up to date.
func (c *coop) open(t *testing.T, p governance.Proposal) governance.Proposal {
	t.Helper()
	c.until(p.OpensAt)
	got := c.proposal(t, p.ID)
	if got.Status != governance.ProposalVoting {
		t.Fatalf("proposal %d is %s at its opening time", p.ID, got.Status)
	}
	return got
}

func (c *coop) appoint(t *testing.T, principal, holder governance.Member, proposal int64) governance.Appointment {
	t.Helper()
	in := governance.ProxyInput{Holder: itoa(holder.ID)}
	if proposal != 0 {
		in.Proposal = itoa(proposal)
	}
	a, err := c.s.Appoint(c.ctx, principal, in)
	if err != nil {
		t.Fatalf("member %d appoints %d: %v", principal.ID, holder.ID, err)
	}
	return a
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Fifty members appoint the same holder at once, for every ballot and for
// one: exactly the cap succeed each time, and the rest are told why.
func TestProxyCapUnderConcurrentAppointments(t *testing.T) {
	c := newCoop(t)
	c.setRule(t, "10", "60", false, "3", false, "")
	ms := c.quickMembers(t, 52)
	holder, principals := ms[0], ms[1:]
	for _, scope := range []string{"every ballot", "one ballot"} {
		var proposal int64
		if scope == "one ballot" {
			proposal = c.later(t, "Adopt the new rules").ID
			// The standing appointments already made count against the
			// cap in this ballot too: revoke them so the race starts empty.
			for _, p := range principals {
				lists, err := c.s.MyProxies(c.ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range lists.Given {
					if err := c.s.Revoke(c.ctx, p, a.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		var mu sync.Mutex
		passed, refused := 0, 0
		var wg sync.WaitGroup
		for _, p := range principals[:50] {
			wg.Go(func() {
				in := governance.ProxyInput{Holder: itoa(holder.ID)}
				if proposal != 0 {
					in.Proposal = itoa(proposal)
				}
				_, err := c.s.Appoint(c.ctx, p, in)
				mu.Lock()
				defer mu.Unlock()
				switch _, ok := isValidation(err, "holder"); {
				case err == nil:
					passed++
				case ok:
					refused++
				default:
					t.Errorf("appointment: %v", err)
				}
			})
		}
		wg.Wait()
		if passed != 3 || refused != 47 {
			t.Errorf("%s: %d appointments passed and %d were refused, want 3 and 47", scope, passed, refused)
		}
		live := c.count(t, `SELECT count(*) FROM proxies WHERE holder_id = ? AND revoked_at IS NULL`, holder.ID)
		if live != 3 {
			t.Errorf("%s: %d live appointments held, want 3", scope, live)
		}
		if n := c.count(t, `SELECT count(*) FROM ledger WHERE kind = 'proxy.appointed'`); n < 3 {
			t.Errorf("%d appointments on the ledger", n)
		}
	}
	// A cap of 0 turns proxies off.
	c.setRule(t, "10", "60", false, "0", false, "")
	p := c.later(t, "No proxies here")
	_, err := c.s.Appoint(c.ctx, principals[50], governance.ProxyInput{Holder: itoa(ms[0].ID), Proposal: itoa(p.ID)})
	if _, ok := isValidation(err, "holder"); !ok {
		t.Errorf("appointment with a cap of 0: %v, want refused", err)
	}
}

// A holder votes for a principal; the principal's own vote replaces it,
// in an open ballot and a secret one, and the holder can then no longer
// vote for them. The count has one ballot per member either way.
func TestProxyVoteReplacedByPrincipal(t *testing.T) {
	for _, secret := range []bool{false, true} {
		t.Run(map[bool]string{false: "open", true: "secret"}[secret], func(t *testing.T) {
			c := newCoop(t)
			c.setRule(t, "10", "60", secret, "2", false, "")
			ms := c.quickMembers(t, 4)
			holder, ana, ben, other := ms[0], ms[1], ms[2], ms[3]
			c.appoint(t, ana, holder, 0)
			c.appoint(t, ben, holder, 0)
			p := c.open(t, c.later(t, "Buy the building"))
			if n := c.count(t, `SELECT count(*) FROM roll_proxies WHERE proposal_id = ? AND holder_id = ?`, p.ID, holder.ID); n != 2 {
				t.Fatalf("%d proxies frozen with the roll, want 2", n)
			}
			for _, principal := range []governance.Member{ana, ben} {
				res, err := c.s.VoteAsProxy(c.ctx, holder, principal.ID, p.ID, governance.ChoiceYes)
				if err != nil {
					t.Fatalf("proxy vote for %d: %v", principal.ID, err)
				}
				if secret != (res.Receipt != "") {
					t.Errorf("proxy vote's receipt %q in a secret=%t ballot", res.Receipt, secret)
				}
			}
			// The holder changes their vote for Ben.
			if res, err := c.s.VoteAsProxy(c.ctx, holder, ben.ID, p.ID, governance.ChoiceNo); err != nil || !res.Changed {
				t.Fatalf("holder changes Ben's vote: %+v, %v", res, err)
			}
			// Ana votes herself: her vote replaces the holder's.
			res, err := c.s.Vote(c.ctx, ana, p.ID, governance.ChoiceNo, "")
			if err != nil || !res.ReplacedProxy {
				t.Fatalf("Ana's own vote: %+v, %v; want it to replace her proxy's", res, err)
			}
			if secret != (res.Receipt != "") {
				t.Errorf("Ana's receipt %q in a secret=%t ballot", res.Receipt, secret)
			}
			if _, err := c.s.VoteAsProxy(c.ctx, holder, ana.ID, p.ID, governance.ChoiceYes); !errors.Is(err, governance.ErrVotedInPerson) {
				t.Errorf("holder votes for Ana after she voted: %v, want ErrVotedInPerson", err)
			}
			// Nobody else votes as Ana's proxy.
			if _, err := c.s.VoteAsProxy(c.ctx, other, ben.ID, p.ID, governance.ChoiceYes); !errors.Is(err, governance.ErrNotProxy) {
				t.Errorf("another member votes for Ben: %v, want ErrNotProxy", err)
			}
			c.vote(t, holder, p, governance.ChoiceYes)
			p = c.finish(t, p)
			tally, _ := p.Tally()
			if tally.Yes != 1 || tally.No != 2 || tally.Turnout() != 3 {
				t.Errorf("tally %+v, want 1 yes (the holder), 2 no (Ana herself, Ben by proxy)", tally)
			}
			if n := c.count(t, `SELECT count(*) FROM proxy_votes WHERE proposal_id = ? AND receipt_hash IS NOT NULL`, p.ID); n != 0 {
				t.Errorf("%d proxy ballots still linked to the box after close", n)
			}
			if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
}

// An appointment revoked before a ballot opens is not frozen into it; one
// revoked after still is, for that ballot (its roll is frozen), but not
// for the next.
func TestProxyRevocationBeforeAndAfterOpening(t *testing.T) {
	c := newCoop(t)
	c.setRule(t, "10", "60", false, "1", false, "")
	ms := c.quickMembers(t, 2)
	holder, principal := ms[0], ms[1]
	before := c.later(t, "Before")
	a := c.appoint(t, principal, holder, 0)
	if err := c.s.Revoke(c.ctx, principal, a.ID); err != nil {
		t.Fatal(err)
	}
	before = c.open(t, before)
	if _, err := c.s.VoteAsProxy(c.ctx, holder, principal.ID, before.ID, governance.ChoiceYes); !errors.Is(err, governance.ErrNotProxy) {
		t.Errorf("vote on an appointment revoked before opening: %v, want ErrNotProxy", err)
	}
	after := c.later(t, "After")
	a = c.appoint(t, principal, holder, 0)
	after = c.open(t, after)
	if err := c.s.Revoke(c.ctx, principal, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.VoteAsProxy(c.ctx, holder, principal.ID, after.ID, governance.ChoiceYes); err != nil {
		t.Errorf("vote on an appointment revoked after opening: %v, want it frozen into the ballot", err)
	}
	next := c.open(t, c.later(t, "Next"))
	if _, err := c.s.VoteAsProxy(c.ctx, holder, principal.ID, next.ID, governance.ChoiceYes); !errors.Is(err, governance.ErrNotProxy) {
		t.Errorf("vote in the next ballot: %v, want ErrNotProxy", err)
	}
	if err := c.s.Revoke(c.ctx, principal, a.ID); !errors.Is(err, governance.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}
	if n := c.count(t, `SELECT count(*) FROM ledger WHERE kind = 'proxy.revoked'`); n != 2 {
		t.Errorf("%d revocations on the ledger, want 2", n)
	}
}

// Recusals leave the quorum a share of the roll less them: with 10 on
// the roll and a 25% quorum, 2 ballots fall short, and meet it once two
// members stand aside. A member who stood aside cannot vote, and one
// who voted cannot stand aside.
func TestRecusalChangesQuorum(t *testing.T) {
	c := newCoop(t)
	c.setRule(t, "25", "60", true, "0", false, "")
	ms := c.quickMembers(t, 9) // the admin makes 10
	short := c.propose(t, c.admin, motion("Without recusals"))
	met := c.propose(t, c.admin, motion("With recusals"))
	for _, p := range []governance.Proposal{short, met} {
		c.vote(t, ms[0], p, governance.ChoiceYes)
		c.vote(t, ms[1], p, governance.ChoiceAbstain)
	}
	for _, m := range ms[2:4] {
		if err := c.s.Recuse(c.ctx, m, met.ID, governance.RecusalInput{Reason: "I work for the seller."}); err != nil {
			t.Fatalf("recuse: %v", err)
		}
	}
	if _, err := c.s.Vote(c.ctx, ms[2], met.ID, governance.ChoiceYes, ""); !errors.Is(err, governance.ErrRecused) {
		t.Errorf("vote after standing aside: %v, want ErrRecused", err)
	}
	err := c.s.Recuse(c.ctx, ms[0], met.ID, governance.RecusalInput{Reason: "Too late."})
	wantValidation(t, err, "reason", "You have voted")
	wantValidation(t, c.s.Recuse(c.ctx, ms[4], met.ID, governance.RecusalInput{Reason: "  "}), "reason", "")
	wantValidation(t, c.s.Recuse(c.ctx, ms[4], met.ID, governance.RecusalInput{Reason: strings.Repeat("x", 501)}), "reason", "")
	short, met = c.finish(t, short), c.finish(t, met)
	if *short.Outcome != governance.OutcomeInquorate {
		t.Errorf("2 of 10 with a 25%% quorum: %s, want inquorate", *short.Outcome)
	}
	tally, _ := met.Tally()
	if *met.Outcome != governance.OutcomeCarried || tally.Recused != 2 || tally.QuorumBase() != 8 {
		t.Errorf("2 of 10 less 2 who stood aside: %s, %+v; want carried, counted on 8", *met.Outcome, tally)
	}
	rs, err := c.s.Recusals(c.ctx, met.ID)
	if err != nil || len(rs) != 2 || rs[0].Reason != "I work for the seller." {
		t.Errorf("recusals %+v, %v", rs, err)
	}
	if n := c.count(t, `SELECT count(*) FROM ledger WHERE kind = 'ballot.recusal'`); n != 2 {
		t.Errorf("%d recusals on the ledger, want 2", n)
	}
	for _, p := range []governance.Proposal{short, met} {
		if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
			t.Errorf("verify %d: %v", p.ID, err)
		}
	}
}

// A ballot that closes early closes exactly once, however many of the
// last votes race, and counts them all.
func TestEarlyCloseExactlyOnce(t *testing.T) {
	c := newCoop(t)
	c.setRule(t, "10", "1440", true, "0", true, "")
	ms := c.quickMembers(t, 39)
	p := c.propose(t, c.admin, motion("Close when all have voted"))
	if err := c.s.Recuse(c.ctx, ms[0], p.ID, governance.RecusalInput{Reason: "Conflict."}); err != nil {
		t.Fatal(err)
	}
	c.vote(t, c.admin, p, governance.ChoiceYes)
	var wg sync.WaitGroup
	for _, m := range ms[1:] {
		wg.Go(func() {
			if _, err := c.s.Vote(c.ctx, m, p.ID, governance.ChoiceYes, ""); err != nil {
				t.Errorf("vote: %v", err)
			}
		})
	}
	wg.Wait()
	got := c.proposal(t, p.ID)
	if got.Status != governance.ProposalClosed {
		t.Fatalf("status %s after everyone voted, want closed early", got.Status)
	}
	if n := c.count(t, `SELECT count(*) FROM ledger WHERE kind = 'ballot.closed'`); n != 1 {
		t.Errorf("%d close entries, want 1", n)
	}
	tally, _ := got.Tally()
	if tally.Yes != 39 || tally.Recused != 1 {
		t.Errorf("tally %+v, want 39 yes and 1 stood aside", tally)
	}
	if !got.ClosedAt.Before(got.ClosesAt) {
		t.Errorf("closed at %v, not before its closing time %v", got.ClosedAt, got.ClosesAt)
	}
	if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// At a meeting whose rule counts the quorum on attendance, those present
// (and those whose proxy is present) must reach it. The register freezes
// when the first vote opens; the chair closes once everyone present has
// voted; the minutes record it all.
func TestMeetingAttendanceQuorum(t *testing.T) {
	c := newCoop(t)
	c.setRule(t, "30", "30", true, "1", false, governance.QuorumOnPresent)
	ms := c.quickMembers(t, 9) // 10 on the roll with the admin
	g, err := c.s.CallMeeting(c.ctx, c.admin, governance.MeetingInput{Title: "Annual general meeting",
		StartsAt: c.clock.Now().Add(2 * time.Hour).UTC().Format("2006-01-02T15:04"), Place: "The Co-op Hall"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.CallMeeting(c.ctx, ms[0], governance.MeetingInput{Title: "Mine", StartsAt: "2026-03-03T10:00", Place: "Here"}); !errors.Is(err, governance.ErrForbidden) {
		t.Errorf("a member calls a meeting: %v, want ErrForbidden", err)
	}
	met := c.later(t, "Met by those present")
	missed := c.later(t, "Missed when one present stands aside")
	for _, p := range []governance.Proposal{met, missed} {
		if err := c.s.AddItem(c.ctx, c.admin, g.ID, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.s.AddItem(c.ctx, c.admin, g.ID, met.ID); err == nil {
		t.Error("the same proposal added twice")
	}
	// ms[0] and ms[1] check in; the chair marks ms[2]; ms[3] holds ms[4]'s proxy.
	for _, m := range ms[:2] {
		if err := c.s.CheckIn(c.ctx, m, g.ID, strings.ToLower(g.CheckinCode)); err != nil {
			t.Fatalf("check in: %v", err)
		}
	}
	wantValidation(t, c.s.CheckIn(c.ctx, ms[5], g.ID, "WRONG1"), "code", "")
	if err := c.s.MarkPresent(c.ctx, c.admin, g.ID, ms[2].ID); err != nil {
		t.Fatal(err)
	}
	c.appoint(t, ms[4], ms[2], 0)
	// Past the agenda items' own opening time: they wait for the chair.
	c.until(met.OpensAt.Add(time.Minute))
	if got := c.proposal(t, met.ID); got.Status != governance.ProposalDiscussion {
		t.Fatalf("agenda item is %s before the chair opens it", got.Status)
	}
	if err := c.s.OpenItem(c.ctx, c.admin, g.ID, met.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.s.CheckIn(c.ctx, ms[6], g.ID, g.CheckinCode); !errors.Is(err, governance.ErrRegisterFrozen) {
		t.Errorf("check-in after the register froze: %v", err)
	}
	if err := c.s.OpenItem(c.ctx, c.admin, g.ID, missed.ID); err != nil {
		t.Fatal(err)
	}
	// Present: ms[0], ms[1], ms[2], and ms[4] represented: 4 of 10 ≥ 30%.
	for _, m := range ms[:2] {
		c.vote(t, m, c.proposal(t, met.ID), governance.ChoiceYes)
	}
	wantValidation(t, c.s.CloseItem(c.ctx, c.admin, g.ID, met.ID), "proposal", "1 member present has not voted")
	c.vote(t, ms[2], c.proposal(t, met.ID), governance.ChoiceYes)
	if err := c.s.CloseItem(c.ctx, c.admin, g.ID, met.ID); err != nil {
		t.Fatalf("chair closes: %v", err)
	}
	got := c.proposal(t, met.ID)
	tally, _ := got.Tally()
	if *got.Outcome != governance.OutcomeCarried || tally.Present == nil || *tally.Present != 4 {
		t.Errorf("met: %s, %+v; want carried with 4 present or represented", *got.Outcome, tally)
	}
	// On the second item two present members stand aside: 2 present of 8 < 30%.
	for _, m := range ms[:2] {
		if err := c.s.Recuse(c.ctx, m, missed.ID, governance.RecusalInput{Reason: "Related to the buyer."}); err != nil {
			t.Fatal(err)
		}
	}
	c.vote(t, ms[2], c.proposal(t, missed.ID), governance.ChoiceYes)
	if err := c.s.CloseItem(c.ctx, c.admin, g.ID, missed.ID); err != nil {
		t.Fatalf("chair closes: %v", err)
	}
	got = c.proposal(t, missed.ID)
	tally, _ = got.Tally()
	if *got.Outcome != governance.OutcomeInquorate || *tally.Present != 2 || tally.QuorumBase() != 8 {
		t.Errorf("missed: %s, %+v; want inquorate, 2 present of 8", *got.Outcome, tally)
	}
	for _, p := range []governance.Proposal{met, missed} {
		if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
			t.Errorf("verify %d: %v", p.ID, err)
		}
	}
	// While it runs, the minutes are the members'.
	if _, err := c.s.MeetingMinutes(c.ctx, nil, g.ID); !errors.Is(err, governance.ErrNotFound) {
		t.Errorf("the public reads the minutes of a meeting still running: %v", err)
	}
	if _, err := c.s.MeetingMinutes(c.ctx, &ms[5], g.ID); err != nil {
		t.Errorf("a member reads the minutes of a meeting running: %v", err)
	}
	if err := c.s.CloseMeeting(c.ctx, c.admin, g.ID); err != nil {
		t.Fatal(err)
	}
	min, err := c.s.MeetingMinutes(c.ctx, nil, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The ledger says each step in words.
	var said []string
	for _, e := range c.entries(t) {
		said = append(said, e.Summary())
	}
	all := strings.Join(said, "\n")
	for _, want := range []string{
		fmt.Sprintf("Proxy 1 appointed: member %d holds member %d's vote for every ballot", ms[2].ID, ms[4].ID),
		fmt.Sprintf("Meeting %d, Annual general meeting, called by member %d", g.ID, c.admin.ID),
		fmt.Sprintf("Proposal %d put on the agenda of meeting %d as item 2", missed.ID, g.ID),
		fmt.Sprintf("Attendance register of meeting %d frozen by member %d: 3 members present", g.ID, c.admin.ID),
		fmt.Sprintf("by the chair of meeting %d; proxies (holder for principal): %d for %d", g.ID, ms[2].ID, ms[4].ID),
		fmt.Sprintf("On proposal %d, member %d stood aside: Related to the buyer.", missed.ID, ms[0].ID),
		fmt.Sprintf("closed by the chair, member %d; 2 stood aside; 2 present or represented", c.admin.ID),
		fmt.Sprintf("Meeting %d closed by member %d", g.ID, c.admin.ID),
		"up to 1 proxy a member, quorum at a meeting counted on those present",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the ledger's summaries do not say %q:\n%s", want, all)
		}
	}
	md := min.Markdown()
	for _, want := range []string{"# Minutes: Annual general meeting", "3 members present, by member number: ",
		"### 1. Met by those present", "3 yes, 0 no, 0 abstaining (turnout 3 of 10, 4 present or represented, quorum met): carried",
		"stood aside: Related to the buyer.", "quorum not met): inquorate", "by the chair"} {
		if !strings.Contains(md, want) {
			t.Errorf("minutes lack %q:\n%s", want, md)
		}
	}
}

// A holder ranks the options of a secret choice for a principal; the
// principal's own ranking replaces it; the count has one ballot each, and
// a ballot that is not one of this choice's is refused for the principal
// as for anyone.
func TestProxyChoiceBallot(t *testing.T) {
	c := newCoop(t)
	if _, err := c.d.W.ExecContext(c.ctx, `UPDATE rules SET secret = 1, proxy_cap = 1 WHERE kind = 'poll'`); err != nil {
		t.Fatal(err)
	}
	ms := c.quickMembers(t, 3)
	holder, principal, other := ms[0], ms[1], ms[2]
	c.appoint(t, principal, holder, 0)
	in := choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread", "Rice")...)
	in.Method = governance.MethodSchulze
	p := c.propose(t, holder, in)
	res, err := c.s.VoteChoiceAsProxy(c.ctx, holder, principal.ID, p.ID, ranked("", "1", "2"))
	if err != nil || res.Receipt == "" {
		t.Fatalf("the holder's ranking for the principal: %+v, %v", res, err)
	}
	_, err = c.s.VoteChoiceAsProxy(c.ctx, holder, principal.ID, p.ID, ranked("1", "1", ""))
	refusedAt(t, err, "rank_0", "twice")
	if _, err := c.s.VoteChoiceAsProxy(c.ctx, other, principal.ID, p.ID, ranked("1", "", "")); !errors.Is(err, governance.ErrNotProxy) {
		t.Errorf("another member ranks for the principal: %v, want ErrNotProxy", err)
	}
	if res := c.voteChoice(t, principal, p, ranked("1", "", "")); !res.ReplacedProxy || res.Receipt == "" {
		t.Errorf("the principal's own ranking: %+v, want it to replace the proxy's, with a receipt of its own", res)
	}
	c.voteChoice(t, holder, p, ranked("1", "2", "3"))
	c.voteChoice(t, other, p, ranked("2", "1", ""))
	p = c.finish(t, p)
	r, ok := p.ChoiceResult()
	if !ok || r.Ballots != 3 || r.Order[0] != 0 {
		t.Errorf("result %+v: want 3 ballots and Soup first (the principal's own ranking counted, not the proxy's)", r)
	}
	if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// A member who stood aside is in no part of the threshold: under a
// two-thirds rule 2 yes and 1 no carry with the fourth member aside, who
// is counted neither no nor abstaining.
func TestRecusalLeavesTheThreshold(t *testing.T) {
	c := newCoop(t)
	if err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "75", Threshold: governance.ThresholdTwoThirds,
		MinMinutes: "60", Secret: true}); err != nil {
		t.Fatal(err)
	}
	ms := c.quickMembers(t, 3) // 4 on the roll with the admin
	p := c.propose(t, c.admin, motion("Two thirds of those not aside"))
	if err := c.s.Recuse(c.ctx, ms[2], p.ID, governance.RecusalInput{Reason: "My sister is the supplier."}); err != nil {
		t.Fatal(err)
	}
	c.vote(t, c.admin, p, governance.ChoiceYes)
	c.vote(t, ms[0], p, governance.ChoiceYes)
	c.vote(t, ms[1], p, governance.ChoiceNo)
	p = c.finish(t, p)
	tally, _ := p.Tally()
	if *p.Outcome != governance.OutcomeCarried || tally.Abstain != 0 || tally.Turnout() != 3 || tally.QuorumBase() != 3 {
		t.Errorf("%s, %+v: want carried, 3 of 3 (the fourth aside, not abstaining)", *p.Outcome, tally)
	}
	if !strings.Contains(tally.JSON(), `"recused":1`) {
		t.Errorf("the tally as endorsed and published does not say who stood aside: %s", tally.JSON())
	}
}

// A ballot every member has voted in, but which a crash left open before
// the vote writer closed it early, is closed by the next Advance.
func TestEarlyCloseAfterACrash(t *testing.T) {
	c := newCoop(t)
	c.setRule(t, "10", "1440", false, "0", false, "")
	ms := c.quickMembers(t, 2)
	p := c.propose(t, c.admin, motion("Left open by a crash"))
	for _, m := range append(ms, c.admin) {
		c.vote(t, m, p, governance.ChoiceYes)
	}
	if got := c.proposal(t, p.ID); got.Status != governance.ProposalVoting {
		t.Fatalf("status %s without early close, want voting", got.Status)
	}
	// As if the rule had closed it early and the process died before the close.
	if _, err := c.d.W.ExecContext(c.ctx, `UPDATE proposals SET early_close = 1 WHERE id = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	if got := c.proposal(t, p.ID); got.Status != governance.ProposalClosed || got.ClosedAt == nil || !got.ClosedAt.Before(got.ClosesAt) {
		t.Errorf("status %s after the next read, want closed early", got.Status)
	}
	if n := c.count(t, `SELECT count(*) FROM ledger WHERE kind = 'ballot.closed'`); n != 1 {
		t.Errorf("%d close entries, want 1", n)
	}
}
