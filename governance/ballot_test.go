package governance_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/library"
)

// coop is a ballot test's co-op: the env, the library beside it on the same
// database and clock, and the founding admin.
type coop struct {
	*env
	lib    *library.Service
	admin  governance.Member
	voters int // how many quick members have been made
}

func newCoop(t *testing.T) *coop {
	t.Helper()
	e := newEnv(t)
	return &coop{env: e, lib: library.New(e.d, e.clock.Now), admin: e.admin(t, 0)}
}

// quickMembers adds n active members straight into the members table, all
// with the admin's password hash: hashing one argon2id password costs tens
// of milliseconds, and a roll of hundreds needs no passwords of its own.
// How someone became active does not matter to a roll, which takes every
// active member; tests about admission use e.member.
func (c *coop) quickMembers(t *testing.T, n int) []governance.Member {
	t.Helper()
	var hash string
	if err := c.d.R.GetContext(c.ctx, &hash, `SELECT password_hash FROM members WHERE id = ?`, c.admin.ID); err != nil {
		t.Fatal(err)
	}
	now := c.clock.Now()
	var ids []int64
	err := c.d.WithTx(c.ctx, func(tx *sqlx.Tx) error {
		for range n {
			c.voters++
			id, err := db.InsertID(c.ctx, tx, `INSERT INTO members (name, email, password_hash, role, status, applied_at, joined_at)
				VALUES (?, ?, ?, 'member', 'active', ?, ?)`,
				fmt.Sprintf("Voter %d", c.voters), fmt.Sprintf("voter%d@example.org", c.voters), hash, now, now)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("add %d members: %v", n, err)
	}
	ms := make([]governance.Member, len(ids))
	for i, id := range ids {
		ms[i] = c.get(t, id)
	}
	return ms
}

func motion(title string) governance.ProposalInput {
	return governance.ProposalInput{Kind: governance.KindMotion, Title: title, Body: "That the co-op should do so.", Opens: "now", Days: "7"}
}

func (c *coop) propose(t *testing.T, author governance.Member, in governance.ProposalInput) governance.Proposal {
	t.Helper()
	p, err := c.s.Propose(c.ctx, author, in)
	if err != nil {
		t.Fatalf("propose %q: %v", in.Title, err)
	}
	return p
}

// proposal reads a proposal as the admin sees it (which brings it up to date).
func (c *coop) proposal(t *testing.T, id int64) governance.Proposal {
	t.Helper()
	p, err := c.s.Proposal(c.ctx, &c.admin, id)
	if err != nil {
		t.Fatalf("proposal %d: %v", id, err)
	}
	return p
}

func (c *coop) vote(t *testing.T, m governance.Member, p governance.Proposal, choice string) governance.VoteResult {
	t.Helper()
	res, err := c.s.Vote(c.ctx, m, p.ID, choice, "")
	if err != nil {
		t.Fatalf("member %d votes %s on proposal %d: %v", m.ID, choice, p.ID, err)
	}
	return res
}

// until moves the clock to at (never back).
func (c *coop) until(at time.Time) {
	if d := at.Sub(c.clock.Now()); d > 0 {
		c.clock.Advance(d)
	}
}

// finish moves the clock to the proposal's closing time, runs Advance, and
// returns the closed proposal.
func (c *coop) finish(t *testing.T, p governance.Proposal) governance.Proposal {
	t.Helper()
	c.until(p.ClosesAt)
	if err := c.s.Advance(c.ctx); err != nil {
		t.Fatalf("advance: %v", err)
	}
	got := c.proposal(t, p.ID)
	if got.Status != governance.ProposalClosed {
		t.Fatalf("proposal %d is %s after its closing time, want closed", p.ID, got.Status)
	}
	return got
}

func (c *coop) demand(t *testing.T, author governance.Member, title string) library.Demand {
	t.Helper()
	d, err := c.lib.DraftDemand(c.ctx, library.Viewer{ID: author.ID, Active: true}, library.DemandInput{
		Title: title, Body: "Public bodies should buy from platform co-ops.", Audience: "local government"})
	if err != nil {
		t.Fatalf("draft demand: %v", err)
	}
	return d
}

func (c *coop) getDemand(t *testing.T, id int64) library.Demand {
	t.Helper()
	d, err := c.lib.Demand(c.ctx, id)
	if err != nil {
		t.Fatalf("demand %d: %v", id, err)
	}
	return d
}

// resource adds a resource and lists it.
func (c *coop) resource(t *testing.T, title string) library.Resource {
	t.Helper()
	admin := library.Viewer{ID: c.admin.ID, Active: true, Admin: true}
	r, err := c.lib.SubmitResource(c.ctx, admin, library.ResourceInput{
		Title: title, URL: "https://example.org/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"), Format: "report"})
	if err != nil {
		t.Fatalf("submit resource: %v", err)
	}
	if err := c.lib.SetResourceStatus(c.ctx, admin, r.ID, library.StatusListed); err != nil {
		t.Fatalf("list resource: %v", err)
	}
	return c.getResource(t, r.ID)
}

func (c *coop) getResource(t *testing.T, id int64) library.Resource {
	t.Helper()
	r, err := c.lib.Resource(c.ctx, library.Viewer{Admin: true}, id)
	if err != nil {
		t.Fatalf("resource %d: %v", id, err)
	}
	return r
}

// dump renders every row of every table, so a test can show that a refused
// action changed nothing anywhere.
func (e *env) dump(t *testing.T) string {
	t.Helper()
	var tables []string
	tables = dbtest.Tables(t, e.d)
	var b strings.Builder
	for _, table := range tables {
		rows, err := e.d.R.QueryxContext(e.ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		var lines []string
		for rows.Next() {
			row := map[string]any{}
			if err := rows.MapScan(row); err != nil {
				t.Fatal(err)
			}
			for k, v := range row {
				if bs, ok := v.([]byte); ok {
					row[k] = string(bs)
				}
			}
			lines = append(lines, fmt.Sprint(row))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sort.Strings(lines)
		fmt.Fprintf(&b, "%s:\n%s\n", table, strings.Join(lines, "\n"))
	}
	return b.String()
}

// ids returns the members' numbers.
func ids(ms ...governance.Member) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// wantRollDigest computes the published roll digest by the rule in
// DESIGN.md, independently of the code under test: SHA-256 of the sorted
// member numbers, one per line.
func wantRollDigest(members []int64) string {
	sorted := slices.Clone(members)
	slices.Sort(sorted)
	var b strings.Builder
	for _, m := range sorted {
		fmt.Fprintf(&b, "%d\n", m)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func (c *coop) roll(t *testing.T, p governance.Proposal) []int64 {
	t.Helper()
	var members []int64
	if err := c.d.R.SelectContext(c.ctx, &members, `SELECT member_id FROM roll WHERE proposal_id = ? ORDER BY member_id`, p.ID); err != nil {
		t.Fatal(err)
	}
	return members
}

// entriesOf returns the ledger entries of kind about proposal p.
func (c *coop) entriesOf(t *testing.T, kind string, p governance.Proposal) []governance.Entry {
	t.Helper()
	var out []governance.Entry
	for _, e := range c.entries(t) {
		if got, _ := e.Fields()["proposal"].(float64); e.Kind == kind && int64(got) == p.ID {
			out = append(out, e)
		}
	}
	return out
}

// oneEntry returns the only ledger entry of kind about p.
func (c *coop) oneEntry(t *testing.T, kind string, p governance.Proposal) map[string]any {
	t.Helper()
	es := c.entriesOf(t, kind, p)
	if len(es) != 1 {
		t.Fatalf("%d %s entries for proposal %d, want 1", len(es), kind, p.ID)
	}
	return es[0].Fields()
}

func TestProposeOpensNow(t *testing.T) {
	c := newCoop(t)
	members := c.quickMembers(t, 3)
	suspended := c.quickMembers(t, 1)[0]
	if err := c.s.Suspend(c.ctx, c.admin, suspended.ID, "Pending an inquiry."); err != nil {
		t.Fatal(err)
	}
	applicant := c.member(t, 1, governance.StatusApplicant, c.admin)
	now := c.clock.Now()

	p := c.propose(t, members[0], motion("Adopt a code of conduct"))

	t.Run("voting opens at once", func(t *testing.T) {
		if p.Status != governance.ProposalVoting {
			t.Fatalf("status %q, want voting", p.Status)
		}
		if p.OpenedAt == nil || !p.OpenedAt.Equal(now) || !p.OpensAt.Equal(now) {
			t.Errorf("opened at %v (opens at %v), want %v", p.OpenedAt, p.OpensAt, now)
		}
		if want := now.Add(7 * 24 * time.Hour); !p.ClosesAt.Equal(want) {
			t.Errorf("closes at %v, want %v", p.ClosesAt, want)
		}
	})

	t.Run("the roll is the active members at that instant", func(t *testing.T) {
		want := append([]int64{c.admin.ID}, ids(members...)...)
		if got := c.roll(t, p); !slices.Equal(got, want) {
			t.Errorf("roll %v, want %v (not the suspended %d nor the applicant %d)", got, want, suspended.ID, applicant.ID)
		}
		if p.RollSize == nil || *p.RollSize != 4 {
			t.Errorf("roll size %v, want 4", p.RollSize)
		}
		if p.RollDigest == nil || *p.RollDigest != wantRollDigest(want) {
			t.Errorf("roll digest %v, want %s", p.RollDigest, wantRollDigest(want))
		}
	})

	t.Run("the rules are frozen into the ballot", func(t *testing.T) {
		if p.QuorumPct == nil || *p.QuorumPct != 25 || p.Threshold == nil || *p.Threshold != governance.ThresholdMajority ||
			p.Secret == nil || !*p.Secret {
			t.Errorf("frozen rules: quorum %v threshold %v secret %v; want 25, majority, secret", p.QuorumPct, p.Threshold, p.Secret)
		}
	})

	t.Run("the ledger records the proposal and the opening with the roll's size and digest", func(t *testing.T) {
		submitted := c.oneEntry(t, governance.EventProposed, p)
		if submitted["by"] != float64(members[0].ID) || submitted["kind"] != governance.KindMotion {
			t.Errorf("proposal.submitted = %v", submitted)
		}
		opened := c.oneEntry(t, governance.EventBallotOpened, p)
		if opened["roll_size"] != float64(4) || opened["roll_digest"] != *p.RollDigest {
			t.Errorf("ballot.opened = %v, want roll_size 4 and roll_digest %s", opened, *p.RollDigest)
		}
		es := c.entries(t)
		if last := es[len(es)-1]; last.Kind != governance.EventBallotOpened || es[len(es)-2].Kind != governance.EventProposed {
			t.Errorf("the ledger ends %s, %s; want proposal.submitted then ballot.opened", es[len(es)-2].Kind, last.Kind)
		}
	})
}

func TestProposeOpensLater(t *testing.T) {
	openers := []struct {
		name string
		open func(c *coop, id int64) error
	}{
		{"the ticker's Advance", func(c *coop, id int64) error { return c.s.Advance(c.ctx) }},
		{"a member reading the proposal", func(c *coop, id int64) error {
			_, err := c.s.Proposal(c.ctx, &c.admin, id)
			return err
		}},
		{"the public reading the proposal", func(c *coop, id int64) error {
			_, err := c.s.Proposal(c.ctx, nil, id)
			if errors.Is(err, governance.ErrNotFound) { // a running ballot is for members only
				err = nil
			}
			return err
		}},
		{"a member reading the list of proposals", func(c *coop, id int64) error {
			_, err := c.s.Proposals(c.ctx, &c.admin)
			return err
		}},
		{"the public reading the list of proposals", func(c *coop, id int64) error {
			_, err := c.s.Proposals(c.ctx, nil)
			return err
		}},
		{"a member's list of ballots awaiting their vote", func(c *coop, id int64) error {
			_, err := c.s.AwaitingVote(c.ctx, c.admin)
			return err
		}},
	}
	for _, o := range openers {
		t.Run("opened by "+o.name, func(t *testing.T) {
			c := newCoop(t)
			early := c.quickMembers(t, 2)
			opensAt := c.clock.Now().Add(24 * time.Hour)
			in := motion("Move the AGM to June")
			in.Opens, in.OpensAt = "later", opensAt.Format("2006-01-02T15:04")
			p := c.propose(t, early[0], in)

			if p.Status != governance.ProposalDiscussion || !p.OpensAt.Equal(opensAt) || !p.ClosesAt.Equal(opensAt.Add(7*24*time.Hour)) {
				t.Fatalf("status %s opens %v closes %v; want discussion, %v, a week later", p.Status, p.OpensAt, p.ClosesAt, opensAt)
			}
			if p.RollSize != nil || len(c.roll(t, p)) != 0 || len(c.entriesOf(t, governance.EventBallotOpened, p)) != 0 {
				t.Fatal("a proposal in discussion already has a roll")
			}
			if _, err := c.s.Vote(c.ctx, early[0], p.ID, governance.ChoiceYes, ""); !errors.Is(err, governance.ErrBallotClosed) {
				t.Errorf("vote in discussion: err = %v, want ErrBallotClosed", err)
			}

			// Admitted while the proposal is in discussion: on the roll.
			during := c.member(t, 1, governance.StatusActive, c.admin)
			c.until(opensAt.Add(-time.Second))
			if err := o.open(c, p.ID); err != nil {
				t.Fatal(err)
			}
			if got := c.proposal(t, p.ID); got.Status != governance.ProposalDiscussion {
				t.Fatalf("a second before opening: status %s, want discussion", got.Status)
			}

			c.until(opensAt)
			if err := o.open(c, p.ID); err != nil {
				t.Fatal(err)
			}
			var status string
			if err := c.d.R.GetContext(c.ctx, &status, `SELECT status FROM proposals WHERE id = ?`, p.ID); err != nil {
				t.Fatal(err)
			}
			if status != governance.ProposalVoting {
				t.Fatalf("at opens_at: status %s, want voting", status)
			}
			p = c.proposal(t, p.ID)
			want := append([]int64{c.admin.ID}, append(ids(early...), during.ID)...)
			if got := c.roll(t, p); !slices.Equal(got, want) {
				t.Errorf("roll %v, want %v", got, want)
			}
			if p.OpenedAt == nil || !p.OpenedAt.Equal(opensAt) || *p.RollSize != len(want) || *p.RollDigest != wantRollDigest(want) {
				t.Errorf("opened at %v, roll size %d, digest %s; want %v, %d, %s", p.OpenedAt, *p.RollSize, *p.RollDigest, opensAt, len(want), wantRollDigest(want))
			}
			opened := c.oneEntry(t, governance.EventBallotOpened, p)
			if opened["roll_size"] != float64(len(want)) || opened["roll_digest"] != wantRollDigest(want) {
				t.Errorf("ballot.opened = %v", opened)
			}

			t.Run("a member admitted after opening is not on the roll", func(t *testing.T) {
				late := c.member(t, 2, governance.StatusActive, c.admin)
				if _, err := c.s.Vote(c.ctx, late, p.ID, governance.ChoiceYes, ""); !errors.Is(err, governance.ErrNotOnRoll) {
					t.Errorf("err = %v, want ErrNotOnRoll", err)
				}
				if got := c.roll(t, p); !slices.Equal(got, want) {
					t.Errorf("the roll changed to %v", got)
				}
				if n := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); n != 0 {
					t.Errorf("%d voters recorded, want 0", n)
				}
			})

			t.Run("a member suspended after opening still votes", func(t *testing.T) {
				if err := c.s.Suspend(c.ctx, c.admin, during.ID, "Pending an inquiry."); err != nil {
					t.Fatal(err)
				}
				res, err := c.s.Vote(c.ctx, c.get(t, during.ID), p.ID, governance.ChoiceNo, "")
				if err != nil {
					t.Fatalf("the suspended member votes: %v", err)
				}
				if res.Receipt == "" {
					t.Error("no receipt for a secret ballot")
				}
			})
		})
	}
}

func TestVotingPeriod(t *testing.T) {
	c := newCoop(t)
	author := c.quickMembers(t, 1)[0]

	t.Run("the period must be at least the rule's minimum", func(t *testing.T) {
		before := c.dump(t)
		for _, in := range []governance.ProposalInput{
			{Days: "6"},
			{Days: "6", Hours: "23", Minutes: "59"},
			{Hours: "167"},
		} {
			p := motion("Short vote")
			p.Days, p.Hours, p.Minutes = in.Days, in.Hours, in.Minutes
			_, err := c.s.Propose(c.ctx, author, p)
			wantValidation(t, err, "days", "at least 7 days")
		}
		if after := c.dump(t); after != before {
			t.Error("a refused proposal changed the database")
		}
		p := motion("Just long enough")
		p.Days, p.Hours = "", "168"
		if got := c.propose(t, author, p); !got.ClosesAt.Equal(got.OpensAt.Add(7 * 24 * time.Hour)) {
			t.Errorf("168 hours closes at %v, want a week after %v", got.ClosesAt, got.OpensAt)
		}
	})

	t.Run("only an admin changes the rules", func(t *testing.T) {
		before := c.dump(t)
		err := c.s.SetRule(c.ctx, author, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "25",
			Threshold: governance.ThresholdMajority, MinMinutes: "1", Secret: true})
		if !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("err = %v, want ErrForbidden", err)
		}
		if after := c.dump(t); after != before {
			t.Error("a refused rule change changed the database")
		}
	})

	t.Run("a rule is checked before it is changed", func(t *testing.T) {
		before := c.dump(t)
		for _, tt := range []struct {
			in    governance.RuleInput
			field string
		}{
			{governance.RuleInput{Kind: "referendum", QuorumPct: "25", Threshold: "majority", MinMinutes: "1"}, "kind"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "101", Threshold: "majority", MinMinutes: "1"}, "quorum_pct"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "-1", Threshold: "majority", MinMinutes: "1"}, "quorum_pct"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "a quarter", Threshold: "majority", MinMinutes: "1"}, "quorum_pct"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "25", Threshold: "unanimity", MinMinutes: "1"}, "threshold"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "25", Threshold: "majority", MinMinutes: "0"}, "min_minutes"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "25", Threshold: "majority", MinMinutes: "131401"}, "min_minutes"},
			{governance.RuleInput{Kind: "motion", QuorumPct: "25", Threshold: "majority", MinMinutes: "129601"}, "min_minutes"},
		} {
			wantValidation(t, c.s.SetRule(c.ctx, c.admin, tt.in), tt.field, "")
		}
		if after := c.dump(t); after != before {
			t.Error("a refused rule change changed the database")
		}
	})

	t.Run("an admin can lower the minimum to one minute", func(t *testing.T) {
		err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "25",
			Threshold: governance.ThresholdMajority, MinMinutes: " 1 ", Secret: true})
		if err != nil {
			t.Fatal(err)
		}
		last := c.lastEntry(t)
		f := last.Fields()
		if last.Kind != governance.EventRulesChanged || f["kind"] != governance.KindMotion || f["min_minutes"] != float64(1) ||
			f["by"] != float64(c.admin.ID) || f["quorum_pct"] != float64(25) || f["secret"] != true {
			t.Errorf("last ledger entry %s %s, want rules.changed for motion with min_minutes 1 by %d", last.Kind, last.Body, c.admin.ID)
		}
		rules, err := c.s.Rules(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if r.Kind == governance.KindMotion && r.MinMinutes != 1 {
				t.Errorf("motion rule min_minutes = %d, want 1", r.MinMinutes)
			}
			if r.Kind == governance.KindEndorseDemand && r.MinMinutes != 7*24*60 {
				t.Errorf("another kind's rule changed: %+v", r)
			}
		}
		in := motion("A quick one")
		in.Days, in.Minutes = "", "1"
		p := c.propose(t, author, in)
		if !p.ClosesAt.Equal(p.OpensAt.Add(time.Minute)) {
			t.Errorf("closes at %v, want a minute after %v", p.ClosesAt, p.OpensAt)
		}
		c.vote(t, author, p, governance.ChoiceYes)
		if got := c.finish(t, p); got.ClosedAt == nil || !got.ClosedAt.Equal(p.OpensAt.Add(time.Minute)) {
			t.Errorf("closed at %v, want a minute after opening", got.ClosedAt)
		}
		// Other kinds keep their minimum.
		dem := c.demand(t, author, "Buy from co-ops")
		_, err = c.s.Propose(c.ctx, author, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse it",
			DemandID: fmt.Sprint(dem.ID), Opens: "now", Minutes: "1"})
		wantValidation(t, err, "days", "at least 7 days")
	})
}

func TestRunningBallotKeepsItsRules(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 3) // a roll of 4 with the admin
	p := c.propose(t, ms[0], motion("Open a second office"))
	c.vote(t, ms[0], p, governance.ChoiceYes) // 1 of 4: exactly the 25 % quorum

	err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "100",
		Threshold: governance.ThresholdTwoThirds, MinMinutes: "60", Secret: false})
	if err != nil {
		t.Fatal(err)
	}
	// A vote cast after the change goes in the same secret box.
	res := c.vote(t, ms[1], p, governance.ChoiceAbstain)
	if res.Receipt == "" {
		t.Error("the ballot turned open mid-vote: no receipt")
	}

	got := c.finish(t, p)
	if *got.QuorumPct != 25 || *got.Threshold != governance.ThresholdMajority || !*got.Secret {
		t.Errorf("closed with quorum %d, %s, secret %t; want the rules it opened with: 25, majority, secret", *got.QuorumPct, *got.Threshold, *got.Secret)
	}
	tally, ok := got.Tally()
	if !ok || tally.Outcome != governance.OutcomeCarried || !tally.QuorumMet || *got.Outcome != governance.OutcomeCarried {
		t.Errorf("tally %+v (ok %t), stored outcome %s; want carried under the old rules (the new 100 %% quorum would make it inquorate)", tally, ok, *got.Outcome)
	}
	closed := c.oneEntry(t, governance.EventBallotClosed, p)
	if closed["outcome"] != governance.OutcomeCarried || closed["quorum_met"] != true {
		t.Errorf("ballot.closed = %v", closed)
	}

	next := c.propose(t, ms[0], func() governance.ProposalInput { in := motion("Close it again"); in.Days = "1"; return in }())
	if *next.QuorumPct != 100 || *next.Threshold != governance.ThresholdTwoThirds || *next.Secret {
		t.Errorf("a ballot opened after the change has quorum %d, %s, secret %t; want 100, two_thirds, open", *next.QuorumPct, *next.Threshold, *next.Secret)
	}
}

func TestWithdrawAndCancel(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 2)
	author, other := ms[0], ms[1]
	later := func(title string) governance.ProposalInput {
		in := motion(title)
		in.Opens, in.OpensAt = "later", c.clock.Now().Add(48*time.Hour).Format("2006-01-02T15:04")
		return in
	}

	t.Run("only the author withdraws, while in discussion", func(t *testing.T) {
		p := c.propose(t, author, later("Hire a bookkeeper"))
		before := c.dump(t)
		if err := c.s.Withdraw(c.ctx, other, p.ID); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("another member withdraws: err = %v, want ErrForbidden", err)
		}
		if err := c.s.Withdraw(c.ctx, c.admin, p.ID); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("an admin withdraws: err = %v, want ErrForbidden", err)
		}
		if after := c.dump(t); after != before {
			t.Error("a refused withdrawal changed the database")
		}
		if err := c.s.Withdraw(c.ctx, author, p.ID); err != nil {
			t.Fatal(err)
		}
		if got := c.proposal(t, p.ID); got.Status != governance.ProposalWithdrawn || got.CancelReason != nil {
			t.Errorf("status %s reason %v, want withdrawn without a reason", got.Status, got.CancelReason)
		}
		f := c.oneEntry(t, governance.EventWithdrawn, p)
		if f["by"] != float64(author.ID) {
			t.Errorf("proposal.withdrawn = %v, want by %d", f, author.ID)
		}
		if _, err := c.s.Proposal(c.ctx, nil, p.ID); err != nil {
			t.Errorf("the public cannot see a withdrawn proposal: %v", err)
		}
		wantValidation(t, c.s.Withdraw(c.ctx, author, p.ID), "", "still in discussion")
		if err := c.s.AddComment(c.ctx, author, p.ID, "Never mind."); err == nil {
			t.Error("a withdrawn proposal takes comments")
		}
	})

	t.Run("only an admin cancels, with a reason, while in discussion", func(t *testing.T) {
		p := c.propose(t, author, later("Rename the co-op"))
		before := c.dump(t)
		if err := c.s.Cancel(c.ctx, author, p.ID, "I changed my mind."); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("the author cancels: err = %v, want ErrForbidden", err)
		}
		wantValidation(t, c.s.Cancel(c.ctx, c.admin, p.ID, "   "), "reason", "Give the reason")
		wantValidation(t, c.s.Cancel(c.ctx, c.admin, p.ID, strings.Repeat("x", 501)), "reason", "")
		if after := c.dump(t); after != before {
			t.Error("a refused cancellation changed the database")
		}
		if err := c.s.Cancel(c.ctx, c.admin, p.ID, " Duplicate of proposal 1. "); err != nil {
			t.Fatal(err)
		}
		got := c.proposal(t, p.ID)
		if got.Status != governance.ProposalCancelled || got.CancelReason == nil || *got.CancelReason != "Duplicate of proposal 1." {
			t.Errorf("status %s reason %v, want cancelled with the reason", got.Status, got.CancelReason)
		}
		f := c.oneEntry(t, governance.EventCancelled, p)
		if f["by"] != float64(c.admin.ID) || f["reason"] != "Duplicate of proposal 1." {
			t.Errorf("proposal.cancelled = %v", f)
		}
	})

	t.Run("once voting has opened it can be neither withdrawn nor cancelled", func(t *testing.T) {
		p := c.propose(t, author, motion("Buy a van"))
		before := c.dump(t)
		wantValidation(t, c.s.Withdraw(c.ctx, author, p.ID), "", "voting has opened")
		wantValidation(t, c.s.Cancel(c.ctx, c.admin, p.ID, "Too expensive."), "", "voting has opened")
		if after := c.dump(t); after != before {
			t.Error("a refused withdrawal changed the database")
		}
	})

	t.Run("once opens_at has passed it is too late, even before anything opened the ballot", func(t *testing.T) {
		p := c.propose(t, author, later("Sell the van"))
		c.until(p.OpensAt)
		wantValidation(t, c.s.Withdraw(c.ctx, author, p.ID), "", "voting has opened")
		wantValidation(t, c.s.Cancel(c.ctx, c.admin, p.ID, "Changed plans."), "", "voting has opened")
		if got := c.proposal(t, p.ID); got.Status != governance.ProposalVoting {
			t.Errorf("status %s, want voting", got.Status)
		}
		if len(c.entriesOf(t, governance.EventWithdrawn, p))+len(c.entriesOf(t, governance.EventCancelled, p)) != 0 {
			t.Error("the ledger records an ending that was refused")
		}
	})

	t.Run("an unknown proposal is not found", func(t *testing.T) {
		if err := c.s.Withdraw(c.ctx, author, 9999); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("withdraw: err = %v, want ErrNotFound", err)
		}
		if err := c.s.Cancel(c.ctx, c.admin, 9999, "Because."); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("cancel: err = %v, want ErrNotFound", err)
		}
	})
}

func TestComments(t *testing.T) {
	c := newCoop(t)
	m := c.quickMembers(t, 1)[0]
	in := motion("Publish our accounts")
	in.Opens, in.OpensAt = "later", c.clock.Now().Add(24*time.Hour).Format("2006-01-02T15:04")
	p := c.propose(t, m, in)

	t.Run("members comment while in discussion and while voting", func(t *testing.T) {
		if err := c.s.AddComment(c.ctx, m, p.ID, "  Yes, quarterly.\r\nWith notes.  "); err != nil {
			t.Fatal(err)
		}
		c.until(p.OpensAt)
		if err := c.s.AddComment(c.ctx, c.admin, p.ID, "Seconded."); err != nil {
			t.Fatal(err)
		}
		if got := c.proposal(t, p.ID); got.Status != governance.ProposalVoting {
			t.Fatalf("status %s, want voting", got.Status)
		}
		cs, err := c.s.Comments(c.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].Body != "Yes, quarterly.\nWith notes." || cs[0].MemberID != m.ID || cs[1].Body != "Seconded." {
			t.Errorf("comments = %+v", cs)
		}
	})

	t.Run("a bad comment is refused", func(t *testing.T) {
		before := c.dump(t)
		wantValidation(t, c.s.AddComment(c.ctx, m, p.ID, " \n "), "body", "Write something")
		wantValidation(t, c.s.AddComment(c.ctx, m, p.ID, strings.Repeat("é", 5001)), "body", "under 5000")
		wantValidation(t, c.s.AddComment(c.ctx, m, p.ID, "bad \xff byte"), "body", "invalid")
		if err := c.s.AddComment(c.ctx, m, 9999, "Hello?"); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("comment on an unknown proposal: err = %v, want ErrNotFound", err)
		}
		if after := c.dump(t); after != before {
			t.Error("a refused comment changed the database")
		}
	})

	t.Run("comments stop at the closing time, even before anything closed the ballot", func(t *testing.T) {
		c.until(p.ClosesAt)
		before := c.count(t, `SELECT count(*) FROM comments`)
		wantValidation(t, c.s.AddComment(c.ctx, m, p.ID, "Too late?"), "body", "Discussion has ended")
		if after := c.count(t, `SELECT count(*) FROM comments`); after != before {
			t.Errorf("%d comments, want %d", after, before)
		}
	})
}

func TestProposeValidation(t *testing.T) {
	c := newCoop(t)
	author := c.quickMembers(t, 1)[0]
	proposed := c.demand(t, author, "Open procurement to co-ops")
	busyDemand := c.demand(t, author, "Fund co-op development agencies")
	endorsedDemand := c.demand(t, author, "Recognise platform co-ops in law")
	listed := c.resource(t, "Ours to Share")
	busyResource := c.resource(t, "Platform Co-op Toolkit")
	endorsedResource := c.resource(t, "Owning the Future")
	pending, err := c.lib.SubmitResource(c.ctx, library.Viewer{ID: author.ID, Active: true},
		library.ResourceInput{Title: "A draft", URL: "https://example.org/draft", Format: "report"})
	if err != nil {
		t.Fatal(err)
	}
	// Endorse a demand and a resource through ballots, the only way.
	for _, in := range []governance.ProposalInput{
		{Kind: governance.KindEndorseDemand, Title: "Endorse the law", DemandID: fmt.Sprint(endorsedDemand.ID), Opens: "now", Days: "7"},
		{Kind: governance.KindEndorseResource, Title: "Endorse the book", ResourceID: fmt.Sprint(endorsedResource.ID), Opens: "now", Days: "7"},
	} {
		p := c.propose(t, author, in)
		c.vote(t, author, p, governance.ChoiceYes)
		c.vote(t, c.admin, p, governance.ChoiceYes)
		c.finish(t, p)
	}
	if d := c.getDemand(t, endorsedDemand.ID); d.Status != library.DemandEndorsed {
		t.Fatalf("set-up: demand %d is %s", d.ID, d.Status)
	}
	if r := c.getResource(t, endorsedResource.ID); !r.Endorsed() {
		t.Fatal("set-up: resource not endorsed")
	}
	// Proposals in progress about busyDemand and busyResource.
	c.propose(t, author, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse agencies",
		DemandID: fmt.Sprint(busyDemand.ID), Opens: "later", OpensAt: c.clock.Now().Add(time.Hour).Format("2006-01-02T15:04"), Days: "7"})
	c.propose(t, author, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse the toolkit",
		ResourceID: fmt.Sprint(busyResource.ID), Opens: "now", Days: "7"})

	now := c.clock.Now()
	at := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04") }
	base := func(kind string) governance.ProposalInput {
		in := governance.ProposalInput{Kind: kind, Title: "A proposal", Body: "Because.", Opens: "now", Days: "7"}
		switch kind {
		case governance.KindEndorseDemand:
			in.DemandID = fmt.Sprint(proposed.ID)
		case governance.KindEndorseResource:
			in.ResourceID = fmt.Sprint(listed.ID)
		case governance.KindWithdraw:
			in.DemandID = fmt.Sprint(endorsedDemand.ID)
		case governance.KindAdoptDemand:
			in.NewTitle, in.NewBody, in.NewAudience = "Tax relief for co-ops", "Extend relief to co-ops.", "National government"
		case governance.KindPrioritise:
			in.Options = []governance.OptionInput{{DemandID: fmt.Sprint(proposed.ID)}, {DemandID: fmt.Sprint(endorsedDemand.ID)}}
		case governance.KindChoose:
			in.Options = []governance.OptionInput{{ResourceID: fmt.Sprint(listed.ID)}, {ResourceID: fmt.Sprint(busyResource.ID)}}
		case governance.KindElect:
			in.Options = []governance.OptionInput{{MemberID: fmt.Sprint(author.ID)}, {MemberID: fmt.Sprint(c.admin.ID)}}
			in.Seats, in.Office = "1", "Secretary"
		case governance.KindPoll:
			in.Options = []governance.OptionInput{{Label: "Soup"}, {Label: "Bread"}}
		}
		return in
	}
	tests := []struct {
		name   string
		kind   string
		change func(*governance.ProposalInput)
		field  string
		want   string
	}{
		{"a missing kind", "", nil, "kind", "Choose what kind"},
		{"an unknown kind", "referendum", nil, "kind", "Choose what kind"},
		{"an empty title", governance.KindMotion, func(in *governance.ProposalInput) { in.Title = "  \t " }, "title", "Give the proposal a title"},
		{"a title over 200 characters", governance.KindMotion, func(in *governance.ProposalInput) { in.Title = strings.Repeat("é", 201) }, "title", "under 200"},
		{"a title with a line break", governance.KindMotion, func(in *governance.ProposalInput) { in.Title = "One\nTwo" }, "title", "invalid characters"},
		{"a title with invalid UTF-8", governance.KindMotion, func(in *governance.ProposalInput) { in.Title = "Bad \xff" }, "title", "invalid characters"},
		{"a body over 10000 characters", governance.KindMotion, func(in *governance.ProposalInput) { in.Body = strings.Repeat("a", 10001) }, "body", "under 10000"},
		{"a body with a NUL", governance.KindMotion, func(in *governance.ProposalInput) { in.Body = "a\x00b" }, "body", "invalid characters"},
		{"a missing demand number", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = "" }, "demand_id", "Choose the demand."},
		{"a demand number that is not a number", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = "one" }, "demand_id", "Enter its number"},
		{"a demand number of zero", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = "0" }, "demand_id", "Enter its number"},
		{"a negative demand number", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = "-2" }, "demand_id", "Enter its number"},
		{"a demand number with SQL in it", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = "1 OR 1=1" }, "demand_id", "Enter its number"},
		{"an unknown demand", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = "#9999" }, "demand_id", "no demand number 9999"},
		{"a demand already endorsed", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = fmt.Sprint(endorsedDemand.ID) }, "demand_id", "only a proposed or rejected demand"},
		{"a second proposal about a demand in discussion", governance.KindEndorseDemand, func(in *governance.ProposalInput) { in.DemandID = fmt.Sprint(busyDemand.ID) }, "", "Another proposal about this"},
		{"a resource number that is not a number", governance.KindEndorseResource, func(in *governance.ProposalInput) { in.ResourceID = "x" }, "resource_id", "Enter its number"},
		{"an unknown resource", governance.KindEndorseResource, func(in *governance.ProposalInput) { in.ResourceID = "9999" }, "resource_id", "no listed resource number 9999"},
		{"a resource not listed yet", governance.KindEndorseResource, func(in *governance.ProposalInput) { in.ResourceID = fmt.Sprint(pending.ID) }, "resource_id", "no listed resource"},
		{"a resource already endorsed", governance.KindEndorseResource, func(in *governance.ProposalInput) { in.ResourceID = fmt.Sprint(endorsedResource.ID) }, "resource_id", "already endorsed"},
		{"a second proposal about a resource being voted on", governance.KindEndorseResource, func(in *governance.ProposalInput) { in.ResourceID = fmt.Sprint(busyResource.ID) }, "", "Another proposal about this"},
		{"a withdrawal naming both a demand and a resource", governance.KindWithdraw, func(in *governance.ProposalInput) { in.ResourceID = fmt.Sprint(endorsedResource.ID) }, "demand_id", "one endorsement at a time"},
		{"a withdrawal naming nothing", governance.KindWithdraw, func(in *governance.ProposalInput) { in.DemandID = " " }, "demand_id", "Choose the endorsed demand or resource to withdraw."},
		{"a withdrawal of a demand not endorsed", governance.KindWithdraw, func(in *governance.ProposalInput) { in.DemandID = fmt.Sprint(proposed.ID) }, "demand_id", "not endorsed"},
		{"a withdrawal of a resource not endorsed", governance.KindWithdraw, func(in *governance.ProposalInput) { in.DemandID, in.ResourceID = "", fmt.Sprint(listed.ID) }, "resource_id", "not endorsed"},
		{"a new demand without a title", governance.KindAdoptDemand, func(in *governance.ProposalInput) { in.NewTitle = "" }, "new_title", "Enter a short title"},
		{"a new demand with an overlong title", governance.KindAdoptDemand, func(in *governance.ProposalInput) { in.NewTitle = strings.Repeat("t", 201) }, "new_title", "under 200"},
		{"a new demand without text", governance.KindAdoptDemand, func(in *governance.ProposalInput) { in.NewBody = "  " }, "new_body", "Say what the demand asks for"},
		{"a new demand with overlong text", governance.KindAdoptDemand, func(in *governance.ProposalInput) { in.NewBody = strings.Repeat("b", 10001) }, "new_body", "under 10000"},
		{"a new demand to an unknown audience", governance.KindAdoptDemand, func(in *governance.ProposalInput) { in.NewAudience = "martians" }, "new_audience", "Choose who"},
		{"opening neither now nor later", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens = "whenever" }, "opens", "Choose now or later"},
		{"opening later without a time", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens = "later" }, "opens_at", "Enter when voting opens"},
		{"opening later at an unparsable time", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens, in.OpensAt = "later", "next Tuesday" }, "opens_at", "Enter when voting opens"},
		{"opening later at an impossible date", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens, in.OpensAt = "later", "2026-02-30T10:00" }, "opens_at", "Enter when voting opens"},
		{"opening later in the past", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens, in.OpensAt = "later", at(-time.Hour) }, "opens_at", "in the future"},
		{"opening later at this very minute", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens, in.OpensAt = "later", at(0) }, "opens_at", "in the future"},
		{"opening more than 90 days ahead", governance.KindMotion, func(in *governance.ProposalInput) { in.Opens, in.OpensAt = "later", at(90*24*time.Hour+time.Minute) }, "opens_at", "at most 90 days"},
		{"a period of zero", governance.KindMotion, func(in *governance.ProposalInput) { in.Days, in.Hours, in.Minutes = "0", "0", "0" }, "days", "Say how long"},
		{"no period at all", governance.KindMotion, func(in *governance.ProposalInput) { in.Days = "" }, "days", "Say how long"},
		{"a period that is not a number", governance.KindMotion, func(in *governance.ProposalInput) { in.Days = "seven" }, "days", "whole numbers"},
		{"a fractional period", governance.KindMotion, func(in *governance.ProposalInput) { in.Days = "7.5" }, "days", "whole numbers"},
		{"a negative part of a period", governance.KindMotion, func(in *governance.ProposalInput) { in.Days, in.Hours = "8", "-1" }, "days", "whole numbers"},
		{"a period over 90 days", governance.KindMotion, func(in *governance.ProposalInput) { in.Days = "91" }, "days", "at most 90 days"},
		{"a period under the kind's minimum", governance.KindEndorseResource, func(in *governance.ProposalInput) { in.Days, in.Hours = "2", "23" }, "days", "at least 3 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused, changing nothing", func(t *testing.T) {
			in := base(tt.kind)
			in.Kind = tt.kind
			if tt.change != nil {
				tt.change(&in)
			}
			before := c.dump(t)
			_, err := c.s.Propose(c.ctx, author, in)
			wantValidation(t, err, tt.field, tt.want)
			if after := c.dump(t); after != before {
				t.Errorf("the database changed")
			}
		})
	}

	t.Run("the limits themselves are accepted", func(t *testing.T) {
		in := base(governance.KindMotion)
		in.Title, in.Body = strings.Repeat("é", 200), strings.Repeat("é", 10000)
		in.Opens, in.OpensAt = "later", at(90*24*time.Hour)
		in.Days = "90"
		p := c.propose(t, author, in)
		if p.Status != governance.ProposalDiscussion || !p.ClosesAt.Equal(p.OpensAt.Add(90*24*time.Hour)) {
			t.Errorf("status %s opens %v closes %v", p.Status, p.OpensAt, p.ClosesAt)
		}
	})

	t.Run("each valid kind is accepted", func(t *testing.T) {
		for _, kind := range governance.Kinds {
			if kind == governance.KindAmendDemand || kind == governance.KindAmendResource {
				continue // an amendment needs an endorsed item of its own: amend_test.go
			}
			in := base(kind)
			in.Title = "Valid " + kind
			if kind == governance.KindEndorseResource {
				in.Days = "3"
			}
			p := c.propose(t, author, in)
			if p.Kind != kind || p.Status != governance.ProposalVoting {
				t.Errorf("%s: kind %s status %s", kind, p.Kind, p.Status)
			}
		}
	})

	t.Run("a member who is not active cannot propose", func(t *testing.T) {
		for _, status := range []string{governance.StatusSuspended, governance.StatusLeft} {
			m := c.quickMembers(t, 1)[0]
			var err error
			if status == governance.StatusSuspended {
				err = c.s.Suspend(c.ctx, c.admin, m.ID, "")
			} else {
				err = c.s.MarkLeft(c.ctx, c.admin, m.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			before := c.dump(t)
			// Even with the stale copy of the member from when they were active.
			if _, err := c.s.Propose(c.ctx, m, motion("Let me in")); !errors.Is(err, governance.ErrForbidden) {
				t.Errorf("%s member: err = %v, want ErrForbidden", status, err)
			}
			if after := c.dump(t); after != before {
				t.Errorf("%s member: the database changed", status)
			}
		}
	})
}

func TestProposeAdoptDemandFromAForm(t *testing.T) {
	// Browsers send textarea line ends as CRLF. A new demand's text near the
	// length limit must be counted and stored as the library will keep it.
	c := newCoop(t)
	author := c.quickMembers(t, 1)[0]
	lines := make([]string, 100)
	for i := range lines {
		lines[i] = strings.Repeat("w", 99)
	}
	body := strings.Join(lines, "\r\n") // 9999 characters once the line ends are LF
	p, err := c.s.Propose(c.ctx, author, governance.ProposalInput{Kind: governance.KindAdoptDemand, Title: "A long demand",
		NewTitle: "Co-op tax relief", NewBody: body, NewAudience: "national government", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatalf("propose: %v", err)
	}
	want := strings.Join(lines, "\n")
	if p.NewBody == nil || *p.NewBody != want {
		t.Errorf("stored text is %d characters with CR %t, want the %d-character text with LF line ends",
			len(*p.NewBody), strings.Contains(*p.NewBody, "\r"), len(want))
	}
	c.vote(t, author, p, governance.ChoiceYes)
	c.vote(t, c.admin, p, governance.ChoiceYes)
	got := c.finish(t, p)
	if d := c.getDemand(t, *got.DemandID); d.Body != want {
		t.Errorf("adopted demand's text differs from the proposal's")
	}
}

func TestCloseAppliesTheDecision(t *testing.T) {
	type subject struct {
		demand, resource int64
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject)
		choices []string // cast by the roll in order: admin, then 3 members
		outcome string
		check   func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any)
	}{
		{
			name: "a carried endorse_demand ballot endorses the demand with its tally",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				d := c.demand(t, author, "Open procurement")
				return governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"}, subject{demand: d.ID}
			},
			choices: []string{"yes", "yes", "no", "abstain"}, outcome: governance.OutcomeCarried,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				d := c.getDemand(t, s.demand)
				tally, _ := p.Tally()
				if d.Status != library.DemandEndorsed || d.EndorsedBy == nil || *d.EndorsedBy != p.ID ||
					d.EndorsedAt == nil || !d.EndorsedAt.Equal(*p.ClosedAt) || d.Tally == nil || *d.Tally != tally.JSON() {
					t.Errorf("demand = %+v (tally %v), want endorsed by %d at %v with %s", d, d.Tally, p.ID, p.ClosedAt, tally.JSON())
				}
				if effect["demand"] != float64(s.demand) || effect["effect"] != "demand endorsed" {
					t.Errorf("effect.applied = %v", effect)
				}
			},
		},
		{
			name: "a defeated endorse_demand ballot marks the demand rejected",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				d := c.demand(t, author, "Open procurement")
				return governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"}, subject{demand: d.ID}
			},
			choices: []string{"yes", "no", "yes", "no"}, outcome: governance.OutcomeDefeated,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if d := c.getDemand(t, s.demand); d.Status != library.DemandRejected || d.EndorsedBy != nil {
					t.Errorf("demand status %s endorsed by %v, want rejected", d.Status, d.EndorsedBy)
				}
				if effect["effect"] != "demand rejected" {
					t.Errorf("effect.applied = %v", effect)
				}
			},
		},
		{
			name: "an inquorate endorse_demand ballot leaves the demand proposed",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				d := c.demand(t, author, "Open procurement")
				return governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"}, subject{demand: d.ID}
			},
			choices: nil, outcome: governance.OutcomeInquorate,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if d := c.getDemand(t, s.demand); d.Status != library.DemandProposed || d.Tally != nil {
					t.Errorf("demand status %s, want proposed", d.Status)
				}
				if effect != nil {
					t.Errorf("an inquorate ballot had an effect: %v", effect)
				}
			},
		},
		{
			name: "a carried endorse_resource ballot endorses the resource",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				r := c.resource(t, "Ours to Share")
				return governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse", ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"}, subject{resource: r.ID}
			},
			choices: []string{"yes"}, outcome: governance.OutcomeCarried,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if r := c.getResource(t, s.resource); !r.Endorsed() || r.EndorsedBy == nil || *r.EndorsedBy != p.ID {
					t.Errorf("resource endorsed at %v by %v, want by %d", r.EndorsedAt, r.EndorsedBy, p.ID)
				}
				if effect["resource"] != float64(s.resource) || effect["effect"] != "resource endorsed" {
					t.Errorf("effect.applied = %v", effect)
				}
			},
		},
		{
			name: "a defeated endorse_resource ballot leaves the resource as it was",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				r := c.resource(t, "Ours to Share")
				return governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse", ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"}, subject{resource: r.ID}
			},
			choices: []string{"no"}, outcome: governance.OutcomeDefeated,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if r := c.getResource(t, s.resource); r.Endorsed() {
					t.Error("a defeated ballot endorsed the resource")
				}
				if effect != nil {
					t.Errorf("effect = %v", effect)
				}
			},
		},
		{
			name: "a carried withdraw_endorsement ballot un-endorses a demand",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				d := c.demand(t, author, "Open procurement")
				first := c.propose(t, author, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"})
				c.vote(t, author, first, governance.ChoiceYes)
				c.finish(t, first)
				return governance.ProposalInput{Kind: governance.KindWithdraw, Title: "Withdraw", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"}, subject{demand: d.ID}
			},
			choices: []string{"yes", "yes"}, outcome: governance.OutcomeCarried,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if d := c.getDemand(t, s.demand); d.Status != library.DemandWithdrawn || d.EndorsedBy != nil || d.EndorsedAt != nil || d.Tally != nil {
					t.Errorf("demand = %+v, want withdrawn with no endorsement", d)
				}
				if effect["effect"] != "demand endorsement withdrawn" {
					t.Errorf("effect.applied = %v", effect)
				}
			},
		},
		{
			name: "a carried withdraw_endorsement ballot un-endorses a resource",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				r := c.resource(t, "Ours to Share")
				first := c.propose(t, author, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse", ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"})
				c.vote(t, author, first, governance.ChoiceYes)
				c.finish(t, first)
				return governance.ProposalInput{Kind: governance.KindWithdraw, Title: "Withdraw", ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "7"}, subject{resource: r.ID}
			},
			choices: []string{"yes", "yes", "yes"}, outcome: governance.OutcomeCarried,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if r := c.getResource(t, s.resource); r.Endorsed() || r.EndorsedBy != nil {
					t.Errorf("resource still endorsed by %v", r.EndorsedBy)
				}
				if effect["effect"] != "resource endorsement withdrawn" {
					t.Errorf("effect.applied = %v", effect)
				}
			},
		},
		{
			name: "a carried adopt_demand ballot creates an endorsed demand linked back to it",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				return governance.ProposalInput{Kind: governance.KindAdoptDemand, Title: "Adopt", NewTitle: " Co-op tax relief ",
					NewBody: "Extend relief\r\nto co-ops.", NewAudience: " National Government ", Opens: "now", Days: "7"}, subject{}
			},
			choices: []string{"yes", "yes", "yes", "no"}, outcome: governance.OutcomeCarried,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if p.DemandID == nil {
					t.Fatal("the proposal is not linked to the demand it adopted")
				}
				d := c.getDemand(t, *p.DemandID)
				tally, _ := p.Tally()
				if d.Status != library.DemandEndorsed || d.EndorsedBy == nil || *d.EndorsedBy != p.ID || d.Tally == nil || *d.Tally != tally.JSON() {
					t.Errorf("demand = %+v, want endorsed by %d", d, p.ID)
				}
				if d.Title != "Co-op tax relief" || d.Body != "Extend relief\nto co-ops." || d.Audience != "national government" || d.AddedBy == nil || *d.AddedBy != p.AuthorID {
					t.Errorf("demand title %q body %q audience %q added by %v", d.Title, d.Body, d.Audience, d.AddedBy)
				}
				if effect["demand"] != float64(d.ID) || effect["effect"] != "demand adopted and endorsed" {
					t.Errorf("effect.applied = %v", effect)
				}
			},
		},
		{
			name: "a defeated adopt_demand ballot creates nothing",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				return governance.ProposalInput{Kind: governance.KindAdoptDemand, Title: "Adopt", NewTitle: "Co-op tax relief",
					NewBody: "Extend relief to co-ops.", NewAudience: "national government", Opens: "now", Days: "7"}, subject{}
			},
			choices: []string{"yes", "no"}, outcome: governance.OutcomeDefeated,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if p.DemandID != nil || c.count(t, `SELECT count(*) FROM demands`) != 0 || effect != nil {
					t.Errorf("demand %v, %d demands, effect %v; want none", p.DemandID, c.count(t, `SELECT count(*) FROM demands`), effect)
				}
			},
		},
		{
			name: "a carried motion is recorded and changes nothing else",
			setup: func(t *testing.T, c *coop, author governance.Member) (governance.ProposalInput, subject) {
				c.demand(t, author, "Open procurement")
				c.resource(t, "Ours to Share")
				return motion("Thank the founders"), subject{}
			},
			choices: []string{"yes", "yes"}, outcome: governance.OutcomeCarried,
			check: func(t *testing.T, c *coop, p governance.Proposal, s subject, effect map[string]any) {
				if effect != nil {
					t.Errorf("a motion had an effect: %v", effect)
				}
				if n := c.count(t, `SELECT count(*) FROM demands WHERE status <> 'proposed'`) + c.count(t, `SELECT count(*) FROM resources WHERE endorsed_at IS NOT NULL`); n != 0 {
					t.Errorf("a motion changed %d library items", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCoop(t)
			members := append([]governance.Member{c.admin}, c.quickMembers(t, 3)...)
			in, subj := tt.setup(t, c, members[1])
			p := c.propose(t, members[1], in)
			for i, choice := range tt.choices {
				c.vote(t, members[i], p, choice)
			}
			libraryBefore := c.libraryRows(t)
			c.until(p.ClosesAt.Add(-time.Second))
			if err := c.s.Advance(c.ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.libraryRows(t); got != libraryBefore {
				t.Fatal("the effect came before the close")
			}
			got := c.finish(t, p)

			tally, ok := got.Tally()
			if !ok || tally.Outcome != tt.outcome || *got.Outcome != tt.outcome {
				t.Fatalf("outcome %v (tally %+v), want %s", got.Outcome, tally, tt.outcome)
			}
			// The result is stored in the row, once, at the closing time.
			if got.QuorumMet == nil || *got.QuorumMet != tally.QuorumMet || got.BoxDigest == nil || len(*got.BoxDigest) != 64 ||
				got.ClosedAt == nil || !got.ClosedAt.Equal(p.ClosesAt) || *got.Yes+*got.No+*got.Abstain != len(tt.choices) {
				t.Errorf("stored: quorum met %v, box digest %v, closed at %v, %v/%v/%v; want %t, a digest, %v, %d ballots",
					got.QuorumMet, got.BoxDigest, got.ClosedAt, *got.Yes, *got.No, *got.Abstain, tally.QuorumMet, p.ClosesAt, len(tt.choices))
			}
			closed := c.oneEntry(t, governance.EventBallotClosed, p)
			if closed["outcome"] != tt.outcome || closed["turnout"] != float64(len(tt.choices)) || closed["box_digest"] != *got.BoxDigest ||
				closed["yes"] != float64(*got.Yes) || closed["no"] != float64(*got.No) || closed["abstain"] != float64(*got.Abstain) ||
				closed["quorum_met"] != *got.QuorumMet || closed["roll_size"] != float64(4) {
				t.Errorf("ballot.closed = %v", closed)
			}
			var effect map[string]any
			if es := c.entriesOf(t, governance.EventEffectApplied, p); len(es) > 1 {
				t.Fatalf("%d effect.applied entries", len(es))
			} else if len(es) == 1 {
				effect = es[0].Fields()
				// The effect lands with the close: the very next entry, at the same instant.
				all := c.entries(t)
				closeSeq := c.entriesOf(t, governance.EventBallotClosed, p)[0].Seq
				if es[0].Seq != closeSeq+1 || all[es[0].Seq-1].At != all[closeSeq-1].At {
					t.Errorf("effect.applied is entry %d at %s; ballot.closed is %d at %s", es[0].Seq, all[es[0].Seq-1].At, closeSeq, all[closeSeq-1].At)
				}
			}
			if n := len(c.entriesOf(t, governance.EventEffectSkipped, p)); n != 0 {
				t.Errorf("%d effect.skipped entries", n)
			}
			tt.check(t, c, got, subj, effect)
			if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
				t.Errorf("VerifyTally: %v", err)
			}
		})
	}
}

func (c *coop) libraryRows(t *testing.T) string {
	t.Helper()
	var rows []string
	if err := c.d.R.SelectContext(c.ctx, &rows, `SELECT id || ' ' || status || ' ' || coalesce(CAST(endorsed_by AS TEXT), '') FROM demands
		UNION ALL SELECT 'r' || id || ' ' || coalesce(CAST(endorsed_by AS TEXT), '') FROM resources ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	return strings.Join(rows, "\n")
}

func TestCloseAndEffectAreOneTransaction(t *testing.T) {
	c := newCoop(t)
	author := c.quickMembers(t, 1)[0]
	d := c.demand(t, author, "Open procurement")
	p := c.propose(t, author, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"})
	c.vote(t, author, p, governance.ChoiceYes)
	c.vote(t, c.admin, p, governance.ChoiceYes)

	// Make endorsing the demand fail, as a full disk or a bug would.
	if c.d.IsPostgres() {
		tamperDB(t, c.d, `CREATE FUNCTION test_no_endorse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'test: endorsement refused'; END $$;
			CREATE TRIGGER test_no_endorse BEFORE UPDATE OF status ON demands FOR EACH ROW
			WHEN (NEW.status = 'endorsed') EXECUTE FUNCTION test_no_endorse();`)
	} else {
		tamperDB(t, c.d, `CREATE TRIGGER test_no_endorse BEFORE UPDATE OF status ON demands WHEN NEW.status = 'endorsed'
			BEGIN SELECT RAISE(ABORT, 'test: endorsement refused'); END;`)
	}
	ledgerBefore := len(c.entries(t))
	c.until(p.ClosesAt)
	if err := c.s.Advance(c.ctx); err == nil || !strings.Contains(err.Error(), "test: endorsement refused") {
		t.Fatalf("advance with the effect failing: err = %v, want the trigger's error", err)
	}
	var status string
	if err := c.d.R.GetContext(c.ctx, &status, `SELECT status FROM proposals WHERE id = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	if status != governance.ProposalVoting || len(c.entries(t)) != ledgerBefore || c.getDemand(t, d.ID).Status != library.DemandProposed {
		t.Errorf("after a failed effect: proposal %s, %d new ledger entries, demand %s; want nothing closed",
			status, len(c.entries(t))-ledgerBefore, c.getDemand(t, d.ID).Status)
	}

	if c.d.IsPostgres() {
		tamperDB(t, c.d, `DROP TRIGGER test_no_endorse ON demands;`)
	} else {
		tamperDB(t, c.d, `DROP TRIGGER test_no_endorse;`)
	}
	got := c.finish(t, p)
	if *got.Outcome != governance.OutcomeCarried || c.getDemand(t, d.ID).Status != library.DemandEndorsed {
		t.Errorf("once the effect can apply: outcome %s, demand %s", *got.Outcome, c.getDemand(t, d.ID).Status)
	}
}

func TestVoteWhenNotOpen(t *testing.T) {
	c := newCoop(t)
	m := c.quickMembers(t, 1)[0]
	p := c.propose(t, m, motion("Adopt the budget"))

	t.Run("a bad choice or receipt is refused", func(t *testing.T) {
		before := c.dump(t)
		_, err := c.s.Vote(c.ctx, m, p.ID, "maybe", "")
		wantValidation(t, err, "choice", "Choose yes, no or abstain")
		_, err = c.s.Vote(c.ctx, m, p.ID, "YES", "")
		wantValidation(t, err, "choice", "")
		_, err = c.s.Vote(c.ctx, m, p.ID, governance.ChoiceYes, strings.Repeat("A", 101))
		wantValidation(t, err, "receipt", "")
		if _, err := c.s.Vote(c.ctx, m, 9999, governance.ChoiceYes, ""); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("an unknown proposal: err = %v, want ErrNotFound", err)
		}
		if after := c.dump(t); after != before {
			t.Error("a refused vote changed the database")
		}
	})

	t.Run("a vote at the closing time closes the ballot first, and is refused", func(t *testing.T) {
		c.vote(t, c.admin, p, governance.ChoiceYes)
		c.until(p.ClosesAt)
		if before := c.dump(t); !strings.Contains(before, "status:voting") {
			t.Fatal("the ballot was closed before the vote came: the test proves nothing")
		}
		if _, err := c.s.Vote(c.ctx, m, p.ID, governance.ChoiceNo, ""); !errors.Is(err, governance.ErrBallotClosed) {
			t.Errorf("err = %v, want ErrBallotClosed", err)
		}
		if n := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); n != 1 {
			t.Errorf("%d members recorded as voting, want only the admin", n)
		}
		if n := c.count(t, `SELECT count(*) FROM proposals WHERE id = ? AND status = 'closed' AND yes + no + abstain = 1`, p.ID); n != 1 {
			t.Error("the ballot did not close with the one vote cast in time")
		}
	})

	t.Run("a vote after close is refused", func(t *testing.T) {
		got := c.finish(t, p)
		if _, err := c.s.Vote(c.ctx, m, p.ID, governance.ChoiceNo, ""); !errors.Is(err, governance.ErrBallotClosed) {
			t.Errorf("err = %v, want ErrBallotClosed", err)
		}
		if *got.Yes != 1 || *got.No != 0 {
			t.Errorf("result %d yes %d no, want 1 yes", *got.Yes, *got.No)
		}
	})
}

func TestOpenBallot(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 2)
	r := c.resource(t, "Ours to Share")
	p := c.propose(t, ms[0], governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse it",
		ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"})
	if *p.Secret {
		t.Fatal("resource endorsements are open ballots by default")
	}

	first := c.vote(t, ms[0], p, governance.ChoiceYes)
	if first.Changed || first.Receipt != "" {
		t.Errorf("first vote = %+v, want not changed and no receipt", first)
	}
	second := c.vote(t, ms[0], p, governance.ChoiceNo)
	if !second.Changed || second.Receipt != "" {
		t.Errorf("second vote = %+v, want changed and no receipt", second)
	}
	c.vote(t, ms[1], p, governance.ChoiceYes)
	part, err := c.s.Participation(c.ctx, ms[0], c.proposal(t, p.ID))
	if err != nil {
		t.Fatal(err)
	}
	if !part.OnRoll || !part.Voted || part.Choice != governance.ChoiceNo || part.Turnout != 2 {
		t.Errorf("participation = %+v, want on roll, voted no, turnout 2", part)
	}
	if n := c.count(t, `SELECT count(*) FROM votes WHERE proposal_id = ? AND member_id = ?`, p.ID, ms[0].ID); n != 1 {
		t.Errorf("%d votes rows for the member, want 1", n)
	}
	if n := c.count(t, `SELECT count(*) FROM ballot_box`); n != 0 {
		t.Errorf("an open ballot put %d rows in the secret box", n)
	}

	got := c.finish(t, p)
	if *got.Yes != 1 || *got.No != 1 || *got.Abstain != 0 || *got.Outcome != governance.OutcomeDefeated {
		t.Errorf("result %d yes %d no %d abstain %s; want 1, 1, 0 defeated (only the last choice counts)", *got.Yes, *got.No, *got.Abstain, *got.Outcome)
	}
	box, err := c.s.Box(c.ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	want := []governance.BoxEntry{{Key: fmt.Sprint(ms[0].ID), Choice: "no"}, {Key: fmt.Sprint(ms[1].ID), Choice: "yes"}}
	if !slices.Equal(box, want) {
		t.Errorf("roll-call %v, want %v", box, want)
	}
}

func TestSecretBallot(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 3)
	p := c.propose(t, ms[0], motion("Join the federation"))
	other := c.propose(t, ms[0], motion("Leave the federation"))
	if !*p.Secret {
		t.Fatal("motions are secret ballots by default")
	}
	boxOf := func(t *testing.T, p governance.Proposal) map[string]string {
		t.Helper()
		var rows []governance.BoxEntry
		if err := c.d.R.SelectContext(c.ctx, &rows, `SELECT receipt_hash AS key, choice FROM ballot_box WHERE proposal_id = ?`, p.ID); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.Key] = r.Choice
		}
		return out
	}

	first := c.vote(t, ms[0], p, governance.ChoiceYes)
	receipt := first.Receipt
	if first.Changed || receipt == "" {
		t.Fatalf("first vote = %+v, want a receipt", first)
	}
	if got := boxOf(t, p); len(got) != 1 || got[governance.ReceiptHash(receipt)] != governance.ChoiceYes {
		t.Fatalf("box = %v, want the receipt's hash with yes", got)
	}

	t.Run("a second vote without the receipt is refused", func(t *testing.T) {
		before := c.dump(t)
		if _, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceNo, ""); !errors.Is(err, governance.ErrAlreadyVoted) {
			t.Errorf("err = %v, want ErrAlreadyVoted", err)
		}
		if _, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceNo, "   "); !errors.Is(err, governance.ErrAlreadyVoted) {
			t.Errorf("blank receipt: err = %v, want ErrAlreadyVoted", err)
		}
		if after := c.dump(t); after != before {
			t.Error("the database changed")
		}
	})

	t.Run("a wrong receipt is refused and changes nothing", func(t *testing.T) {
		before := c.dump(t)
		last := "A"
		if strings.HasSuffix(receipt, last) {
			last = "B"
		}
		for _, wrong := range []string{"AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", receipt[:len(receipt)-1] + last, "not a receipt", "' OR 1=1 --"} {
			_, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceNo, wrong)
			wantValidation(t, err, "receipt", "not a receipt from this ballot")
		}
		if after := c.dump(t); after != before {
			t.Error("the database changed")
		}
	})

	t.Run("a receipt from another ballot changes neither", func(t *testing.T) {
		otherReceipt := c.vote(t, ms[0], other, governance.ChoiceAbstain).Receipt
		before := c.dump(t)
		_, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceNo, otherReceipt)
		wantValidation(t, err, "receipt", "not a receipt from this ballot")
		_, err = c.s.Vote(c.ctx, ms[0], other.ID, governance.ChoiceNo, receipt)
		wantValidation(t, err, "receipt", "not a receipt from this ballot")
		if after := c.dump(t); after != before {
			t.Error("the database changed")
		}
		if got := boxOf(t, other); got[governance.ReceiptHash(otherReceipt)] != governance.ChoiceAbstain {
			t.Errorf("other box = %v", got)
		}
	})

	t.Run("a member who has not voted cannot use a receipt", func(t *testing.T) {
		before := c.dump(t)
		_, err := c.s.Vote(c.ctx, ms[1], p.ID, governance.ChoiceNo, receipt)
		wantValidation(t, err, "receipt", "You have not voted")
		if after := c.dump(t); after != before {
			t.Error("the database changed")
		}
	})

	t.Run("the receipt changes the choice, typed in any case, with or without dashes", func(t *testing.T) {
		for _, tt := range []struct{ typed, choice string }{
			{receipt, governance.ChoiceNo},
			{strings.ToLower(receipt), governance.ChoiceAbstain},
			{strings.ReplaceAll(receipt, "-", ""), governance.ChoiceYes},
			{" " + strings.ToLower(strings.ReplaceAll(receipt, "-", " ")) + "\n", governance.ChoiceNo},
		} {
			res, err := c.s.Vote(c.ctx, ms[0], p.ID, tt.choice, tt.typed)
			if err != nil {
				t.Fatalf("change with %q: %v", tt.typed, err)
			}
			if !res.Changed || res.Receipt != "" {
				t.Errorf("change = %+v, want changed and no new receipt", res)
			}
			if got := boxOf(t, p); len(got) != 1 || got[governance.ReceiptHash(receipt)] != tt.choice {
				t.Errorf("box = %v, want one ballot, %s", got, tt.choice)
			}
		}
		if n := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); n != 1 {
			t.Errorf("%d voters, want 1", n)
		}
	})

	t.Run("the count reflects only the last choice", func(t *testing.T) {
		c.vote(t, ms[1], p, governance.ChoiceYes)
		got := c.finish(t, p)
		if *got.Yes != 1 || *got.No != 1 || *got.Abstain != 0 {
			t.Errorf("result %d yes %d no %d abstain, want 1 1 0", *got.Yes, *got.No, *got.Abstain)
		}
		box, err := c.s.Box(c.ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, b := range box {
			if b.Key == governance.ReceiptHash(receipt) {
				found = b.Choice == governance.ChoiceNo
			}
		}
		if len(box) != 2 || !found {
			t.Errorf("published box %v: the voter cannot find their ballot (no) by their receipt's hash", box)
		}
		if _, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceYes, receipt); !errors.Is(err, governance.ErrBallotClosed) {
			t.Errorf("change after close: err = %v, want ErrBallotClosed", err)
		}
	})
}

func TestVerifyTally(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 5) // a roll of 6 with the admin
	voters := ms[:4]           // ms[4] and the admin never vote

	type tamper struct {
		name   string
		script func(p governance.Proposal) string
		want   string
	}
	secret := []tamper{
		{"a secret ballot's choice is edited", func(p governance.Proposal) string {
			return fmt.Sprintf(`UPDATE ballot_box SET choice = CASE choice WHEN 'yes' THEN 'no' ELSE 'yes' END
				WHERE proposal_id = %d AND receipt_hash = (SELECT min(receipt_hash) FROM ballot_box WHERE proposal_id = %d);`, p.ID, p.ID)
		}, "the ballot box does not match the digest"},
		{"the stored result is edited", func(p governance.Proposal) string {
			return fmt.Sprintf(`UPDATE proposals SET yes = yes + 1 WHERE id = %d;`, p.ID)
		}, "recount gives"},
		{"the stored outcome is edited", func(p governance.Proposal) string {
			return fmt.Sprintf(`UPDATE proposals SET outcome = 'defeated' WHERE id = %d;`, p.ID)
		}, "stored outcome differs"},
		{"a roll row is deleted", func(p governance.Proposal) string {
			return fmt.Sprintf(`DROP TRIGGER IF EXISTS roll_frozen_delete; DELETE FROM roll WHERE proposal_id = %d AND member_id = %d;`, p.ID, ms[4].ID)
		}, "the roll does not match"},
		{"a member is added to the roll", func(p governance.Proposal) string {
			return fmt.Sprintf(`INSERT INTO members (name, email, password_hash, status, applied_at) VALUES ('Ghost', 'ghost@example.org', 'x', 'active', '2026-01-01');
				DROP TRIGGER IF EXISTS roll_frozen_insert; INSERT INTO roll (proposal_id, member_id) VALUES (%d, (SELECT max(id) FROM members));`, p.ID)
		}, "the roll does not match"},
		{"a ballot is stuffed into the box", func(p governance.Proposal) string {
			return fmt.Sprintf(`INSERT INTO ballot_box (proposal_id, receipt_hash, choice) VALUES (%d, 'stuffed', 'yes');`, p.ID)
		}, "the box holds"},
		{"a voter is struck off", func(p governance.Proposal) string {
			return fmt.Sprintf(`DROP TRIGGER IF EXISTS roll_vote_once; UPDATE roll SET voted = 0 WHERE proposal_id = %d AND member_id = %d;`, p.ID, voters[0].ID)
		}, "the box holds"},
	}
	// The open ballot is tampered with through its roll-call.
	open := tamper{"an open ballot's vote is edited", func(p governance.Proposal) string {
		return fmt.Sprintf(`UPDATE votes SET choice = 'abstain' WHERE proposal_id = %d AND member_id = %d;`, p.ID, voters[0].ID)
	}, "the ballot box does not match the digest"}

	var ps []governance.Proposal
	for _, tt := range secret {
		ps = append(ps, c.propose(t, ms[0], motion(tt.name)))
	}
	if err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "25",
		Threshold: governance.ThresholdMajority, MinMinutes: "60", Secret: false}); err != nil {
		t.Fatal(err)
	}
	ps = append(ps, c.propose(t, ms[0], motion(open.name)))
	tampers := append(secret, open)
	for _, p := range ps {
		for i, m := range voters {
			c.vote(t, m, p, []string{"yes", "yes", "no", "abstain"}[i])
		}
	}
	running := ps[0]
	var te *governance.TallyError
	if _, err := c.s.VerifyTally(c.ctx, running.ID); !errors.As(err, &te) || !strings.Contains(te.Problem, "has not closed") {
		t.Errorf("verify a running ballot: err = %v, want a TallyError saying it has not closed", err)
	}
	c.until(ps[len(ps)-1].ClosesAt)
	if err := c.s.Advance(c.ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("every closed ballot verifies", func(t *testing.T) {
		for _, p := range ps {
			tally, err := c.s.VerifyTally(c.ctx, p.ID)
			if err != nil {
				t.Fatalf("proposal %d: %v", p.ID, err)
			}
			if tally.Yes != 2 || tally.No != 1 || tally.Abstain != 1 || tally.RollSize != 6 || tally.Outcome != governance.OutcomeCarried {
				t.Errorf("proposal %d: tally %+v", p.ID, tally)
			}
		}
	})

	for i, tt := range tampers {
		t.Run("it fails when "+tt.name, func(t *testing.T) {
			p := ps[i]
			tamperDB(t, c.d, tt.script(p))
			_, err := c.s.VerifyTally(c.ctx, p.ID)
			var te *governance.TallyError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TallyError", err)
			}
			if te.Proposal != p.ID || !strings.Contains(te.Problem, tt.want) {
				t.Errorf("TallyError{%d, %q}, want proposal %d and a problem containing %q", te.Proposal, te.Problem, p.ID, tt.want)
			}
			// The others are untouched and still verify.
			for _, q := range ps[i+1:] {
				if _, err := c.s.VerifyTally(c.ctx, q.ID); err != nil {
					t.Errorf("untouched proposal %d: %v", q.ID, err)
				}
			}
		})
	}

	if _, err := c.s.VerifyTally(c.ctx, 9999); !errors.Is(err, governance.ErrNotFound) {
		t.Errorf("unknown proposal: err = %v, want ErrNotFound", err)
	}
}

func TestLedgerAfterABallotsLife(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 3)
	start := len(c.entries(t))
	if err := c.s.SetRule(c.ctx, c.admin, governance.RuleInput{Kind: governance.KindAdoptDemand, QuorumPct: "50",
		Threshold: governance.ThresholdTwoThirds, MinMinutes: "60", Secret: true}); err != nil {
		t.Fatal(err)
	}
	in := governance.ProposalInput{Kind: governance.KindAdoptDemand, Title: "Adopt", NewTitle: "Data co-ops",
		NewBody: "Support data co-operatives.", NewAudience: "funders and investors",
		Opens: "later", OpensAt: c.clock.Now().Add(2 * time.Hour).Format("2006-01-02T15:04"), Hours: "1"}
	p := c.propose(t, ms[0], in)
	if err := c.s.AddComment(c.ctx, ms[1], p.ID, "Good idea."); err != nil {
		t.Fatal(err)
	}
	c.until(p.OpensAt)
	p = c.proposal(t, p.ID)
	r := c.vote(t, ms[0], p, governance.ChoiceNo)
	c.vote(t, ms[1], p, governance.ChoiceYes)
	c.vote(t, ms[2], p, governance.ChoiceYes)
	if _, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceYes, r.Receipt); err != nil {
		t.Fatal(err)
	}
	p = c.finish(t, p)

	var kinds []string
	for _, e := range c.entries(t)[start:] {
		kinds = append(kinds, e.Kind)
	}
	want := []string{governance.EventRulesChanged, governance.EventProposed, governance.EventBallotOpened,
		governance.EventBallotClosed, governance.EventEffectApplied}
	if !slices.Equal(kinds, want) {
		t.Errorf("ledger entries %v, want %v (no entry per vote or comment)", kinds, want)
	}
	n, head, err := c.s.VerifyLedger(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := c.lastEntry(t)
	if n != last.Seq || head != last.Hash {
		t.Errorf("VerifyLedger = %d, %s; want %d, %s", n, head, last.Seq, last.Hash)
	}
	if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
		t.Errorf("VerifyTally: %v", err)
	}
	es, _, err := c.s.Ledger(c.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s := es[1].Summary(); !strings.Contains(s, "carried (3 yes, 0 no, 0 abstain; 3 of 4 voted)") {
		t.Errorf("ballot.closed summary %q", s)
	}
}

func TestAdvanceIsExactlyOnce(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 3)
	d := c.demand(t, ms[0], "Open procurement")
	in := governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse", DemandID: fmt.Sprint(d.ID),
		Opens: "later", OpensAt: c.clock.Now().Add(time.Hour).Format("2006-01-02T15:04"), Days: "7"}
	p := c.propose(t, ms[0], in)

	// Half the callers go through a second opening of the database, as a
	// second Plenary process on the same file or PostgreSQL database
	// would: exactly once must hold across processes too.
	d2, err := db.Open(c.ctx, c.d.Path, dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d2.Close() })
	services := []*governance.Service{c.s, governance.New(d2, c.clock.Now)}

	race := func(t *testing.T, n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs <- services[i%2].Advance(c.ctx)
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("advance: %v", err)
			}
		}
	}

	t.Run("ten callers at the opening time open it once", func(t *testing.T) {
		c.until(p.OpensAt)
		race(t, 10)
		if n := len(c.entriesOf(t, governance.EventBallotOpened, p)); n != 1 {
			t.Errorf("%d ballot.opened entries, want 1", n)
		}
		if got := c.roll(t, p); len(got) != 4 {
			t.Errorf("roll %v, want 4 members", got)
		}
	})

	for _, m := range ms {
		c.vote(t, m, p, governance.ChoiceYes)
	}

	t.Run("ten callers after the closing time close it once and apply the effect once", func(t *testing.T) {
		c.until(p.ClosesAt.Add(time.Minute))
		race(t, 10)
		if n := len(c.entriesOf(t, governance.EventBallotClosed, p)); n != 1 {
			t.Errorf("%d ballot.closed entries, want 1", n)
		}
		if n := len(c.entriesOf(t, governance.EventEffectApplied, p)) + len(c.entriesOf(t, governance.EventEffectSkipped, p)); n != 1 {
			t.Errorf("%d effect entries, want 1", n)
		}
		got := c.proposal(t, p.ID)
		if got.Status != governance.ProposalClosed || *got.Yes != 3 || *got.Outcome != governance.OutcomeCarried {
			t.Errorf("status %s, %v yes, %v", got.Status, *got.Yes, *got.Outcome)
		}
		if dd := c.getDemand(t, d.ID); dd.Status != library.DemandEndorsed || *dd.EndorsedBy != p.ID {
			t.Errorf("demand %s by %v", dd.Status, dd.EndorsedBy)
		}
		if _, _, err := c.s.VerifyLedger(c.ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestConcurrentVotes(t *testing.T) {
	t.Run("fifty simultaneous secret votes by one member store one ballot", func(t *testing.T) {
		c := newCoop(t)
		m := c.quickMembers(t, 1)[0]
		p := c.propose(t, m, motion("Buy the building"))
		results := castAtOnce(c, p, repeat(m, 50))
		var receipts, already int
		for _, r := range results {
			switch {
			case r.err == nil && r.res.Receipt != "" && !r.res.Changed:
				receipts++
			case errors.Is(r.err, governance.ErrAlreadyVoted):
				already++
			default:
				t.Errorf("unexpected result %+v, %v", r.res, r.err)
			}
		}
		if receipts != 1 || already != 49 {
			t.Errorf("%d receipts and %d ErrAlreadyVoted, want 1 and 49", receipts, already)
		}
		if v, b := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID), c.count(t, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, p.ID); v != 1 || b != 1 {
			t.Errorf("%d voters rows and %d ballot_box rows, want 1 and 1", v, b)
		}
	})

	t.Run("fifty simultaneous secret votes by one member through two processes store one ballot", func(t *testing.T) {
		c := newCoop(t)
		m := c.quickMembers(t, 1)[0]
		p := c.propose(t, m, motion("Buy the building"))
		d2, err := db.Open(c.ctx, c.d.Path, dbtest.Schema(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d2.Close() })
		results := castAtOnceVia(c, []*governance.Service{c.s, governance.New(d2, c.clock.Now)}, p, repeat(m, 50))
		var receipts, already int
		for _, r := range results {
			switch {
			case r.err == nil && r.res.Receipt != "" && !r.res.Changed:
				receipts++
			case errors.Is(r.err, governance.ErrAlreadyVoted):
				already++
			default:
				t.Errorf("unexpected result %+v, %v", r.res, r.err)
			}
		}
		if receipts != 1 || already != 49 {
			t.Errorf("%d receipts and %d ErrAlreadyVoted, want 1 and 49", receipts, already)
		}
		if v, b := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID), c.count(t, `SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, p.ID); v != 1 || b != 1 {
			t.Errorf("%d voters rows and %d ballot_box rows, want 1 and 1", v, b)
		}
	})

	t.Run("fifty simultaneous open votes by one member store one vote", func(t *testing.T) {
		c := newCoop(t)
		m := c.quickMembers(t, 1)[0]
		r := c.resource(t, "Ours to Share")
		p := c.propose(t, m, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse",
			ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"})
		results := castAtOnce(c, p, repeat(m, 50))
		var firsts, changes int
		for _, r := range results {
			switch {
			case r.err != nil:
				t.Errorf("vote: %v", r.err)
			case r.res.Changed:
				changes++
			default:
				firsts++
			}
		}
		if firsts != 1 || changes != 49 {
			t.Errorf("%d first votes and %d changes, want 1 and 49", firsts, changes)
		}
		if v, n := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID), c.count(t, `SELECT count(*) FROM votes WHERE proposal_id = ?`, p.ID); v != 1 || n != 1 {
			t.Errorf("%d voters rows and %d votes rows, want 1 and 1", v, n)
		}
	})

	t.Run("two hundred members voting at once are all counted", func(t *testing.T) {
		c := newCoop(t)
		ms := c.quickMembers(t, 200)
		r := c.resource(t, "Ours to Share")
		secret := c.propose(t, ms[0], motion("Federate"))
		open := c.propose(t, ms[0], governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse",
			ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "7"})
		var wg sync.WaitGroup
		var secretResults, openResults []castResult
		wg.Go(func() { secretResults = castAtOnce(c, secret, ms) })
		wg.Go(func() { openResults = castAtOnce(c, open, ms) })
		wg.Wait()
		receipts := map[string]bool{}
		for i, r := range secretResults {
			if r.err != nil || r.res.Receipt == "" {
				t.Fatalf("secret vote %d: %+v %v", i, r.res, r.err)
			}
			receipts[r.res.Receipt] = true
		}
		for i, r := range openResults {
			if r.err != nil || r.res.Changed {
				t.Fatalf("open vote %d: %+v %v", i, r.res, r.err)
			}
		}
		if len(receipts) != 200 {
			t.Errorf("%d distinct receipts, want 200", len(receipts))
		}
		for _, q := range []struct {
			query string
			id    int64
		}{
			{`SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, secret.ID},
			{`SELECT count(*) FROM ballot_box WHERE proposal_id = ?`, secret.ID},
			{`SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, open.ID},
			{`SELECT count(*) FROM votes WHERE proposal_id = ?`, open.ID},
		} {
			if n := c.count(t, q.query, q.id); n != 200 {
				t.Errorf("%s (%d) = %d, want 200", q.query, q.id, n)
			}
		}
		got := c.finish(t, secret)
		if tally, _ := got.Tally(); tally.Turnout() != 200 || tally.RollSize != 201 {
			t.Errorf("turnout %d of %d, want 200 of 201", tally.Turnout(), tally.RollSize)
		}
		if _, err := c.s.VerifyTally(c.ctx, secret.ID); err != nil {
			t.Error(err)
		}
	})
}

type castResult struct {
	res governance.VoteResult
	err error
}

func repeat(m governance.Member, n int) []governance.Member {
	out := make([]governance.Member, n)
	for i := range out {
		out[i] = m
	}
	return out
}

// castAtOnce has each member vote on p from a goroutine of their own, all
// released together; the choice cycles through yes, no, abstain.
func castAtOnce(c *coop, p governance.Proposal, ms []governance.Member) []castResult {
	return castAtOnceVia(c, []*governance.Service{c.s}, p, ms)
}

// castAtOnceVia is castAtOnce with the votes shared out among services,
// each over its own opening of the database, as several processes.
func castAtOnceVia(c *coop, services []*governance.Service, p governance.Proposal, ms []governance.Member) []castResult {
	out := make([]castResult, len(ms))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() {
			<-start
			res, err := services[i%len(services)].Vote(c.ctx, m, p.ID, governance.Choices[i%3], "")
			out[i] = castResult{res, err}
		})
	}
	close(start)
	wg.Wait()
	return out
}

func TestNextDue(t *testing.T) {
	c := newCoop(t)
	members := c.quickMembers(t, 2)
	due := func() (time.Time, bool) {
		t.Helper()
		at, ok, err := c.s.NextDue(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return at, ok
	}
	if at, ok := due(); ok {
		t.Fatalf("no proposals, yet something is due at %v", at)
	}

	now := c.propose(t, members[0], motion("Open now"))
	if at, ok := due(); !ok || !at.Equal(now.ClosesAt) {
		t.Fatalf("one ballot voting: due %v %v, want its close %v", at, ok, now.ClosesAt)
	}
	later := motion("Open tomorrow")
	later.Opens, later.OpensAt = "later", c.clock.Now().Add(24*time.Hour).Format("2006-01-02T15:04")
	l := c.propose(t, members[1], later)
	if at, ok := due(); !ok || !at.Equal(l.OpensAt) {
		t.Fatalf("a ballot opening tomorrow: due %v %v, want its opening %v", at, ok, l.OpensAt)
	}

	// Once it has opened, the earlier of the two closes is next; once both
	// have closed, nothing is.
	c.until(l.OpensAt)
	if err := c.s.Advance(c.ctx); err != nil {
		t.Fatal(err)
	}
	if at, ok := due(); !ok || !at.Equal(now.ClosesAt) {
		t.Fatalf("both voting: due %v %v, want the first close %v", at, ok, now.ClosesAt)
	}
	c.until(l.ClosesAt)
	if err := c.s.Advance(c.ctx); err != nil {
		t.Fatal(err)
	}
	if at, ok := due(); ok {
		t.Fatalf("both closed, yet something is due at %v", at)
	}
}

// A vote is the first thing to reach a ballot whose opening time has
// passed: it opens the ballot and counts, with no tick in between.
func TestAVoteOpensADueBallot(t *testing.T) {
	c := newCoop(t)
	ms := c.quickMembers(t, 2)
	in := motion("Open at noon")
	in.Opens, in.OpensAt = "later", c.clock.Now().Add(time.Hour).Format("2006-01-02T15:04")
	p := c.propose(t, ms[0], in)
	if _, err := c.s.Vote(c.ctx, ms[1], p.ID, governance.ChoiceYes, ""); !errors.Is(err, governance.ErrBallotClosed) {
		t.Fatalf("a vote before opening: %v, want ErrBallotClosed", err)
	}
	c.until(p.OpensAt)
	if _, err := c.s.Vote(c.ctx, ms[1], p.ID, governance.ChoiceYes, ""); err != nil {
		t.Fatalf("the first vote after the opening time: %v", err)
	}
	if got := c.proposal(t, p.ID); got.Status != governance.ProposalVoting {
		t.Errorf("status %s, want voting", got.Status)
	}
	c.until(p.ClosesAt)
	if _, err := c.s.Vote(c.ctx, ms[0], p.ID, governance.ChoiceNo, ""); !errors.Is(err, governance.ErrBallotClosed) {
		t.Errorf("a vote at the closing time: %v, want ErrBallotClosed", err)
	}
	if got := c.proposal(t, p.ID); got.Status != governance.ProposalClosed {
		t.Errorf("after a vote at the closing time the ballot is %s, want closed", got.Status)
	}
}
