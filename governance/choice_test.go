package governance_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"plenary/governance"
	"plenary/library"
)

// choiceInput is a choice of kind among opts, open for a week.
func choiceInput(kind, title string, opts ...governance.OptionInput) governance.ProposalInput {
	return governance.ProposalInput{Kind: kind, Title: title, Body: "Which first?", Opens: "now", Days: "7", Options: opts}
}

func texts(labels ...string) []governance.OptionInput {
	out := make([]governance.OptionInput, len(labels))
	for i, l := range labels {
		out[i] = governance.OptionInput{Label: l}
	}
	return out
}

// ranked is a ranked ballot: ranks[i] for option i ("" unranked).
func ranked(ranks ...string) governance.ChoiceInput {
	m := map[int]string{}
	for i, r := range ranks {
		m[i] = r
	}
	return governance.ChoiceInput{Ranks: m}
}

// ticked is an approval ballot ticking positions.
func ticked(positions ...int) governance.ChoiceInput {
	in := governance.ChoiceInput{Approve: []string{}}
	for _, p := range positions {
		in.Approve = append(in.Approve, fmt.Sprint(p))
	}
	return in
}

func (c *coop) voteChoice(t *testing.T, m governance.Member, p governance.Proposal, in governance.ChoiceInput) governance.VoteResult {
	t.Helper()
	res, err := c.s.VoteChoice(c.ctx, m, p.ID, in, "")
	if err != nil {
		t.Fatalf("member %d votes %v on proposal %d: %v", m.ID, in, p.ID, err)
	}
	return res
}

// refusedAt checks that err is a ValidationError with a message at field
// containing want.
func refusedAt(t *testing.T, err error, field, want string) {
	t.Helper()
	var v governance.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("err = %v, want a ValidationError at %s", err, field)
	}
	if !strings.Contains(v[field], want) {
		t.Errorf("%s: %q (all: %v), want it to say %q", field, v[field], v, want)
	}
}

func TestProposeChoice(t *testing.T) {
	c := newCoop(t)
	author := c.quickMembers(t, 1)[0]
	d1, d2, d3 := c.demand(t, author, "Public procurement"), c.demand(t, author, "Fair data"), c.demand(t, author, "Co-op banks")
	r1, r2 := c.resource(t, "Platform co-ops now"), c.resource(t, "Ours to hack")

	t.Run("each kind is stored with its options, labels and default method", func(t *testing.T) {
		for _, tt := range []struct {
			in     governance.ProposalInput
			method string
			labels []string
		}{
			{choiceInput(governance.KindPrioritise, "Our priorities", governance.OptionInput{DemandID: fmt.Sprint(d2.ID)},
				governance.OptionInput{DemandID: "#" + fmt.Sprint(d1.ID)}, governance.OptionInput{DemandID: fmt.Sprint(d3.ID)}),
				governance.MethodSchulze, []string{"Fair data", "Public procurement", "Co-op banks"}},
			{choiceInput(governance.KindChoose, "What we recommend", governance.OptionInput{ResourceID: fmt.Sprint(r1.ID)},
				governance.OptionInput{ResourceID: fmt.Sprint(r2.ID)}),
				governance.MethodApproval, []string{"Platform co-ops now", "Ours to hack"}},
			{func() governance.ProposalInput {
				in := choiceInput(governance.KindElect, "The board", governance.OptionInput{MemberID: fmt.Sprint(author.ID), Statement: "I will."},
					governance.OptionInput{Label: "Rosa Luxemburg", Statement: "Not a member yet.\r\nBut keen."},
					governance.OptionInput{MemberID: fmt.Sprint(c.admin.ID)})
				in.Seats, in.Office = "2", "Board of directors"
				return in
			}(), governance.MethodSTV, []string{author.Name, "Rosa Luxemburg", c.admin.Name}},
			{choiceInput(governance.KindPoll, "Lunch", texts("<b>Soup</b>", "'); DROP TABLE proposals; --", "Bread & butter")...),
				governance.MethodApproval, []string{"<b>Soup</b>", "'); DROP TABLE proposals; --", "Bread & butter"}},
		} {
			p := c.propose(t, author, tt.in)
			if !p.IsChoice() || *p.Method != tt.method || p.Status != governance.ProposalVoting {
				t.Errorf("%s: method %v status %s, want %s and voting", tt.in.Kind, p.Method, p.Status, tt.method)
			}
			opts, err := c.s.Options(c.ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for i, o := range opts {
				labels = append(labels, o.Label)
				if o.Position != i {
					t.Errorf("%s: option %d at position %d", tt.in.Kind, i, o.Position)
				}
			}
			if !slices.Equal(labels, tt.labels) {
				t.Errorf("%s: options %q, want %q", tt.in.Kind, labels, tt.labels)
			}
			if tt.in.Kind == governance.KindElect {
				if *p.Seats != 2 || *p.Office != "Board of directors" || opts[1].Statement != "Not a member yet.\nBut keen." || *opts[0].MemberID != author.ID {
					t.Errorf("election: seats %d office %q options %+v", *p.Seats, *p.Office, opts)
				}
			}
		}
		// The markup and SQL are text like any other: every table is still there.
		if n := c.count(t, `SELECT count(*) FROM proposals`); n != 4 {
			t.Errorf("%d proposals, want 4", n)
		}
	})

	t.Run("what the options name is frozen while the choice runs", func(t *testing.T) {
		for _, q := range []string{`UPDATE demands SET title = 'Changed' WHERE id = ?`, `UPDATE resources SET title = 'Changed' WHERE id = ?`} {
			id := d1.ID
			if strings.Contains(q, "resources") {
				id = r1.ID
			}
			if _, err := c.d.W.ExecContext(c.ctx, q, id); err == nil || !strings.Contains(err.Error(), "under ballot") {
				t.Errorf("%s: %v, want refused under ballot", q, err)
			}
		}
		if _, err := c.d.W.ExecContext(c.ctx, `UPDATE proposal_options SET label = 'Changed' WHERE position = 0`); err == nil {
			t.Error("an option changed")
		}
	})

	t.Run("the options and method are on the ledger", func(t *testing.T) {
		es := c.entries(t)
		var found bool
		for _, e := range es {
			if e.Kind == governance.EventProposed && strings.Contains(e.Body, `"method":"schulze"`) && strings.Contains(e.Body, `"options_digest":"`) {
				found = true
			}
		}
		if !found {
			t.Error("no proposal entry carries the method and the options' digest")
		}
	})

	suspended := c.quickMembers(t, 1)[0]
	if err := c.s.Suspend(c.ctx, c.admin, suspended.ID, "Unpaid dues."); err != nil {
		t.Fatal(err)
	}
	applicant := c.member(t, 3, governance.StatusApplicant, c.admin)
	withdrawnDemand := c.demand(t, author, "Withdrawn one")
	if _, err := c.d.W.ExecContext(c.ctx, `UPDATE demands SET status = 'withdrawn' WHERE id = ?`, withdrawnDemand.ID); err != nil {
		t.Fatal(err)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("Option %d", i+1)
	}
	election := func(seats string, opts ...governance.OptionInput) governance.ProposalInput {
		in := choiceInput(governance.KindElect, "The board", opts...)
		in.Seats, in.Office = seats, "Board"
		return in
	}
	two := []governance.OptionInput{{MemberID: fmt.Sprint(author.ID)}, {MemberID: fmt.Sprint(c.admin.ID)}}
	for _, tt := range []struct {
		name  string
		in    governance.ProposalInput
		field string
		want  string
	}{
		{"one option", choiceInput(governance.KindPoll, "Lunch", texts("Soup")...), "options", "between 2 and 50"},
		{"no options", choiceInput(governance.KindPoll, "Lunch"), "options", "between 2 and 50"},
		{"51 options", choiceInput(governance.KindPoll, "Lunch", texts(many...)...), "options", "between 2 and 50"},
		{"the same text twice", choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread", "soup ")...), "option_2", "option 1 again"},
		{"an empty text", choiceInput(governance.KindPoll, "Lunch", texts("Soup", " ")...), "option_1", "Write the option"},
		{"a text over 200 characters", choiceInput(governance.KindPoll, "Lunch", texts("Soup", strings.Repeat("é", 201))...), "option_1", "under 200"},
		{"a text with a control character", choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Br\x07ead")...), "option_1", "invalid characters"},
		{"a text on two lines", choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread\nButter")...), "option_1", "one line"},
		{"a demand twice", choiceInput(governance.KindPrioritise, "P", governance.OptionInput{DemandID: fmt.Sprint(d1.ID)},
			governance.OptionInput{DemandID: "#" + fmt.Sprint(d1.ID)}), "option_1", "option 1 again"},
		{"a demand that does not exist", choiceInput(governance.KindPrioritise, "P", governance.OptionInput{DemandID: fmt.Sprint(d1.ID)},
			governance.OptionInput{DemandID: "99999"}), "option_1", "no demand number 99999"},
		{"a demand withdrawn", choiceInput(governance.KindPrioritise, "P", governance.OptionInput{DemandID: fmt.Sprint(d1.ID)},
			governance.OptionInput{DemandID: fmt.Sprint(withdrawnDemand.ID)}), "option_1", "only proposed and endorsed"},
		{"a demand by something that is no number", choiceInput(governance.KindPrioritise, "P", governance.OptionInput{DemandID: fmt.Sprint(d1.ID)},
			governance.OptionInput{DemandID: "1 OR 1=1"}), "option_1", "demand's number"},
		{"a resource that does not exist", choiceInput(governance.KindChoose, "R", governance.OptionInput{ResourceID: fmt.Sprint(r1.ID)},
			governance.OptionInput{ResourceID: "99999"}), "option_1", "no listed resource"},
		{"a suspended candidate", election("1", governance.OptionInput{MemberID: fmt.Sprint(author.ID)},
			governance.OptionInput{MemberID: fmt.Sprint(suspended.ID)}), "option_1", "no active member"},
		{"an applicant as a candidate", election("1", governance.OptionInput{MemberID: fmt.Sprint(author.ID)},
			governance.OptionInput{MemberID: fmt.Sprint(applicant.ID)}), "option_1", "no active member"},
		{"a candidate with no number and no name", election("1", governance.OptionInput{MemberID: fmt.Sprint(author.ID)},
			governance.OptionInput{Statement: "Me!"}), "option_1", "member number, or their name"},
		{"a candidate twice", election("1", governance.OptionInput{MemberID: fmt.Sprint(author.ID)},
			governance.OptionInput{MemberID: fmt.Sprint(author.ID)}), "option_1", "option 1 again"},
		{"a statement over 2000 characters", election("1", governance.OptionInput{MemberID: fmt.Sprint(author.ID)},
			governance.OptionInput{Label: "Rosa", Statement: strings.Repeat("x", 2001)}), "option_1_statement", "under 2000"},
		{"a method the kind does not allow", func() governance.ProposalInput {
			in := choiceInput(governance.KindChoose, "R", governance.OptionInput{ResourceID: fmt.Sprint(r1.ID)},
				governance.OptionInput{ResourceID: fmt.Sprint(r2.ID)})
			in.Method = governance.MethodSchulze
			return in
		}(), "method", "counted by approval voting"},
		{"a method that is none", func() governance.ProposalInput {
			in := choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread")...)
			in.Method = "borda"
			return in
		}(), "method", "how the ballot is counted"},
		{"no seats", election("", two...), "seats", "how many seats"},
		{"0 seats", election("0", two...), "seats", "from 1 to 49"},
		{"as many seats as candidates", election("2", two...), "seats", "at most 1 seats"},
		{"seats that are no number", election("two", two...), "seats", "from 1 to 49"},
		{"instant-runoff for two seats", func() governance.ProposalInput {
			in := election("2", append(two, governance.OptionInput{Label: "Rosa"})...)
			in.Method = governance.MethodIRV
			return in
		}(), "method", "elects one person"},
		{"an election with no office", func() governance.ProposalInput {
			in := election("1", two...)
			in.Office = " "
			return in
		}(), "office", "Name the office"},
		{"seats in a poll", func() governance.ProposalInput {
			in := choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread")...)
			in.Seats = "1"
			return in
		}(), "seats", "Only an election"},
		{"more approvals than options", func() governance.ProposalInput {
			in := choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread")...)
			in.MaxApprovals = "3"
			return in
		}(), "max_approvals", "only 2 options"},
		{"an approval limit on a ranked ballot", func() governance.ProposalInput {
			in := choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread")...)
			in.Method, in.MaxApprovals = governance.MethodSchulze, "1"
			return in
		}(), "max_approvals", "Only approval voting"},
		{"options on a motion", func() governance.ProposalInput {
			in := motion("Options")
			in.Options = texts("Soup", "Bread")
			return in
		}(), "options", "Only a choice"},
	} {
		t.Run(tt.name+" is refused and changes nothing", func(t *testing.T) {
			before, snap := c.dump(t), c.snapshot(t)
			_, err := c.s.Propose(c.ctx, author, tt.in)
			refusedAt(t, err, tt.field, tt.want)
			if c.dump(t) != before || c.snapshot(t) != snap {
				t.Error("the database changed")
			}
		})
	}
}

// newChoice makes a co-op with n voters and a poll among options, counted
// by method, secret or not.
func newChoice(t *testing.T, n int, method string, secret bool, options ...string) (*coop, []governance.Member, governance.Proposal) {
	t.Helper()
	c := newCoop(t)
	if _, err := c.d.W.ExecContext(c.ctx, `UPDATE rules SET secret = ? WHERE kind = 'poll'`, secret); err != nil {
		t.Fatal(err)
	}
	voters := c.quickMembers(t, n)
	in := choiceInput(governance.KindPoll, "Lunch", texts(options...)...)
	in.Method = method
	return c, voters, c.propose(t, voters[0], in)
}

func TestVoteChoiceRefused(t *testing.T) {
	c, voters, p := newChoice(t, 3, governance.MethodSchulze, true, "Soup", "Bread", "Rice")
	other := c.propose(t, voters[0], choiceInput(governance.KindPoll, "Supper", texts("A", "B", "C", "D", "E")...))
	lim := choiceInput(governance.KindPoll, "Dessert", texts("Cake", "Fruit", "Cheese")...)
	lim.MaxApprovals = "2"
	approval := c.propose(t, voters[0], lim)
	m := voters[1]

	for _, tt := range []struct {
		name  string
		p     governance.Proposal
		in    governance.ChoiceInput
		field string
		want  string
	}{
		{"a rank above the number of options", p, ranked("1", "4", ""), "rank_1", "from 1 to 3"},
		{"rank 0", p, ranked("0", "", ""), "rank_0", "from 1 to 3"},
		{"a rank that is no number", p, ranked("first", "", ""), "rank_0", "from 1 to 3"},
		{"the same rank twice, beside each", p, ranked("2", "1", "2"), "rank_0", "Rank 2 is given twice"},
		{"the same rank twice, beside the other", p, ranked("2", "1", "2"), "rank_2", "Rank 2 is given twice"},
		{"an option the ballot does not have (another proposal's fourth)", p, governance.ChoiceInput{Ranks: map[int]string{0: "1", 3: "2"}}, "rank_3", "not on this ballot"},
		{"a negative option", p, governance.ChoiceInput{Ranks: map[int]string{-1: "1"}}, "rank_-1", "not on this ballot"},
		{"ticks on a ranked ballot", p, ticked(0), "approve", "ranked"},
		{"too many ticks", approval, ticked(0, 1, 2), "approve", "Tick at most 2."},
		{"a tick for an option the ballot does not have", approval, ticked(0, 4), "approve", "not on this ballot"},
		{"a tick that is no number", approval, governance.ChoiceInput{Approve: []string{"0", "x"}}, "approve", "not on this ballot"},
		{"the same tick twice", approval, ticked(1, 1), "approve", "ticked twice"},
		{"ranks on an approval ballot", approval, ranked("1", "", ""), "rank_0", "tick the options"},
	} {
		t.Run(tt.name+" is refused and stores nothing", func(t *testing.T) {
			before := c.dump(t)
			_, err := c.s.VoteChoice(c.ctx, m, tt.p.ID, tt.in, "")
			refusedAt(t, err, tt.field, tt.want)
			if c.dump(t) != before {
				t.Error("the database changed")
			}
		})
	}
	t.Run("a yes/no vote on a choice, and a choice on a motion, are refused", func(t *testing.T) {
		mo := c.propose(t, voters[0], motion("Meet"))
		before := c.dump(t)
		if _, err := c.s.Vote(c.ctx, m, p.ID, governance.ChoiceYes, ""); err == nil {
			t.Error("a yes on a choice was taken")
		}
		if _, err := c.s.VoteChoice(c.ctx, m, mo.ID, ranked("1"), ""); err == nil {
			t.Error("a ranking on a motion was taken")
		}
		if c.dump(t) != before {
			t.Error("the database changed")
		}
	})
	t.Run("a good ballot after the refusals is taken, once", func(t *testing.T) {
		res := c.voteChoice(t, m, p, ranked("2", "", "1"))
		if res.Receipt == "" {
			t.Fatal("no receipt for a secret ballot")
		}
		var ballot string
		if err := c.d.R.GetContext(c.ctx, &ballot, `SELECT ballot FROM choice_box WHERE proposal_id = ?`, p.ID); err != nil || ballot != "[2,0]" {
			t.Errorf("the box holds %q (%v), want [2,0]", ballot, err)
		}
		if _, err := c.s.VoteChoice(c.ctx, m, p.ID, ranked("1", "2", "3"), ""); !errors.Is(err, governance.ErrAlreadyVoted) {
			t.Errorf("a second ballot without the receipt: %v, want ErrAlreadyVoted", err)
		}
		if _, err := c.s.VoteChoice(c.ctx, m, other.ID, ticked(0, 4), ""); err != nil {
			t.Errorf("a ballot on another proposal: %v", err)
		}
	})
}

func TestChoiceBallot(t *testing.T) {
	c, voters, p := newChoice(t, 5, governance.MethodSchulze, true, "Soup", "Bread", "Rice")

	// Soup > Rice > Bread for three, Bread first for one, one blank who
	// changes to Rice first with the receipt.
	receipts := make([]string, len(voters))
	for i, in := range []governance.ChoiceInput{ranked("1", "3", "2"), ranked("1", "", "2"), ranked("1", "3", "2"), ranked("2", "1", ""), ranked("", "", "")} {
		receipts[i] = c.voteChoice(t, voters[i], p, in).Receipt
	}

	t.Run("nothing countable shows before close", func(t *testing.T) {
		got := c.proposal(t, p.ID)
		if _, ok := got.ChoiceResult(); ok || got.Result != nil {
			t.Error("a result before close")
		}
		if _, err := c.s.Box(c.ctx, got); !errors.Is(err, governance.ErrBallotClosed) {
			t.Errorf("the box before close: %v", err)
		}
		part, err := c.s.Participation(c.ctx, voters[0], got)
		if err != nil || !part.Voted || part.Ballot != nil || part.Turnout != 5 {
			t.Errorf("participation %+v, %v: want voted, turnout 5, no ballot shown (secret)", part, err)
		}
	})

	t.Run("a secret ballot changes with its receipt only", func(t *testing.T) {
		if _, err := c.s.VoteChoice(c.ctx, voters[4], p.ID, ranked("", "", "1"), "AAAA-BBBB"); err == nil {
			t.Error("a false receipt changed a ballot")
		}
		res, err := c.s.VoteChoice(c.ctx, voters[4], p.ID, ranked("", "", "1"), strings.ToLower(receipts[4]))
		if err != nil || !res.Changed {
			t.Fatalf("change with the receipt: %+v, %v", res, err)
		}
	})

	closed := c.finish(t, p)
	t.Run("the close counts with the method and publishes the result", func(t *testing.T) {
		r, ok := closed.ChoiceResult()
		if !ok {
			t.Fatal("no result after close")
		}
		// Pairwise: Soup beats Bread 4-1 and Rice 3-1... Soup is the Condorcet winner, Rice beats Bread 3-1.
		if !slices.Equal(r.Order, []int{0, 2, 1}) || r.Schulze == nil || !r.Schulze.Condorcet || r.Ballots != 5 || r.Blank != 0 {
			t.Errorf("result %+v, want Soup, Rice, Bread from 5 ballots, Soup the Condorcet winner", r)
		}
		if *closed.Outcome != governance.OutcomeCarried || r.Outcome != governance.OutcomeCarried || !r.QuorumMet {
			t.Errorf("outcome %s, want carried", *closed.Outcome)
		}
		entries, err := c.s.Box(c.ctx, closed)
		if err != nil || len(entries) != 5 {
			t.Fatalf("box %v, %v", entries, err)
		}
		choice, _, err := c.s.FindReceipt(c.ctx, closed, receipts[4])
		if err != nil || choice != "[2]" {
			t.Errorf("receipt 5 finds %q (%v), want the changed ballot [2]", choice, err)
		}
		var closedEntries int
		for _, e := range c.entries(t) {
			if e.Kind == governance.EventBallotClosed && strings.Contains(e.Body, `"result_digest":"`) && strings.Contains(e.Body, `"method":"schulze"`) {
				closedEntries++
			}
		}
		if closedEntries != 1 {
			t.Errorf("%d ballot-closed entries with the result's digest, want 1", closedEntries)
		}
		var said bool
		for _, e := range c.entries(t) {
			said = said || strings.Contains(e.Summary(), fmt.Sprintf("Voting closed on proposal %d, counted by the Schulze method: decided (5 of 6 voted", p.ID))
		}
		if !said {
			t.Error("the ledger does not say in words how the choice closed")
		}
	})

	t.Run("the secret box is rewritten in key order after close", func(t *testing.T) {
		if n := c.count(t, `SELECT count(*) FROM box_rewrites WHERE proposal_id = ?`, p.ID); n != 0 {
			t.Error("the box is still waiting for its rewrite")
		}
		if !c.d.IsPostgres() {
			return // SQLite's WITHOUT ROWID box: TestSecretBallotLeavesNoLink
		}
		if n := c.count(t, `SELECT count(DISTINCT xmin::text) FROM choice_box WHERE proposal_id = ?`, p.ID); n != 1 {
			t.Errorf("the box's rows were written by %d transactions, want 1 (the rewrite's)", n)
		}
		var stored []string
		if err := c.d.R.SelectContext(c.ctx, &stored, `SELECT receipt_hash FROM choice_box WHERE proposal_id = ? ORDER BY ctid`, p.ID); err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(stored) {
			t.Error("the box's rows lie in another order than their keys'")
		}
	})

	t.Run("VerifyTally recounts it, and finds a tampered box or result", func(t *testing.T) {
		tl, err := c.s.VerifyTally(c.ctx, p.ID)
		if err != nil || tl.Choice == nil || !slices.Equal(tl.Choice.Order, []int{0, 2, 1}) {
			t.Fatalf("verify: %+v, %v", tl, err)
		}
		var te *governance.TallyError
		// A ballot changed in the box: the digest no longer matches.
		if _, err := c.d.W.ExecContext(c.ctx, `UPDATE choice_box SET ballot = '[1,0,2]' WHERE proposal_id = ? AND ballot = '[1,0]'`, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.s.VerifyTally(c.ctx, p.ID); !errors.As(err, &te) {
			t.Errorf("a tampered box: %v, want a TallyError", err)
		}
		if _, err := c.d.W.ExecContext(c.ctx, `UPDATE choice_box SET ballot = '[1,0]' WHERE proposal_id = ? AND ballot = '[1,0,2]'`, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
			t.Fatalf("the box put back: %v", err)
		}
		// The stored result changed to another order.
		var result string
		if err := c.d.R.GetContext(c.ctx, &result, `SELECT result FROM proposals WHERE id = ?`, p.ID); err != nil {
			t.Fatal(err)
		}
		forged := strings.Replace(result, `"order":[0,2,1]`, `"order":[2,0,1]`, 1)
		if forged == result {
			t.Fatal("the test did not change the result")
		}
		if _, err := c.d.W.ExecContext(c.ctx, `UPDATE proposals SET result = ? WHERE id = ?`, forged, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.s.VerifyTally(c.ctx, p.ID); !errors.As(err, &te) || !strings.Contains(te.Problem, "recount") {
			t.Errorf("a tampered result: %v, want the recount to differ", err)
		}
	})
}

// One member, one ballot on a ranked secret ballot, whatever races: 50
// members cast and change their ballots at once; each ends with one
// ballot in the box, and the box holds every ballot acknowledged last.
func TestChoiceBallotConcurrency(t *testing.T) {
	c, voters, p := newChoice(t, 50, governance.MethodSchulze, true, "A", "B", "C", "D", "E")
	final := make([]string, len(voters))
	hashes := make([]string, len(voters))
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(voters))
	for i, m := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := ranked(fmt.Sprint(1+i%5), "", "", "", "")
			if i%5 == 0 {
				first = ranked("1", "2", "", "", "")
			}
			res, err := c.s.VoteChoice(c.ctx, m, p.ID, first, "")
			if err != nil {
				errs <- err
				return
			}
			// A second ballot without the receipt is refused, whatever it races.
			if _, err := c.s.VoteChoice(c.ctx, m, p.ID, ranked("", "1", "", "", ""), ""); !errors.Is(err, governance.ErrAlreadyVoted) {
				errs <- fmt.Errorf("member %d voted twice: %v", m.ID, err)
			}
			hashes[i] = governance.ReceiptHash(res.Receipt)
			final[i] = ""
			in := ranked("", "", fmt.Sprint(1+i%3), "", "")
			if _, err := c.s.VoteChoice(c.ctx, m, p.ID, in, res.Receipt); err != nil {
				errs <- err
				return
			}
			b, _ := json.Marshal([]int{2})
			final[i] = string(b)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.count(t, `SELECT count(*) FROM choice_box WHERE proposal_id = ?`, p.ID); n != 50 {
		t.Errorf("%d ballots in the box, want 50", n)
	}
	if n := c.count(t, `SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1`, p.ID); n != 50 {
		t.Errorf("%d members marked as voted, want 50", n)
	}
	for i, h := range hashes {
		var ballot string
		if err := c.d.R.GetContext(c.ctx, &ballot, `SELECT ballot FROM choice_box WHERE proposal_id = ? AND receipt_hash = ?`, p.ID, h); err != nil {
			t.Errorf("member %d's ballot: %v", voters[i].ID, err)
		} else if ballot != final[i] {
			t.Errorf("member %d's ballot is %s, want the acknowledged %s", voters[i].ID, ballot, final[i])
		}
	}
	closed := c.finish(t, p)
	if r, ok := closed.ChoiceResult(); !ok || r.Order[0] != 2 || r.Ballots != 50 {
		t.Errorf("result %+v, want C first from 50 ballots", r)
	}
	if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestChoiceEffects(t *testing.T) {
	c := newCoop(t)
	voters := c.quickMembers(t, 4)
	all := append([]governance.Member{c.admin}, voters...)

	t.Run("prioritising demands sets the priority list, once", func(t *testing.T) {
		var opts []governance.OptionInput
		var demands []library.Demand
		for _, title := range []string{"Procurement", "Data", "Banks", "Land", "Tax"} {
			d := c.demand(t, voters[0], title)
			demands = append(demands, d)
			opts = append(opts, governance.OptionInput{DemandID: fmt.Sprint(d.ID)})
		}
		if _, ok, err := c.s.PriorityList(c.ctx); ok || err != nil {
			t.Fatalf("a priority list before any ballot: %v, %v", ok, err)
		}
		p := c.propose(t, voters[0], choiceInput(governance.KindPrioritise, "Our priorities", opts...))
		// Everyone: Land, Banks, Procurement, then the rest unranked.
		for _, m := range all {
			c.voteChoice(t, m, p, ranked("3", "", "2", "1", ""))
		}
		c.finish(t, p)
		for range 2 {
			if err := c.s.Advance(c.ctx); err != nil {
				t.Fatal(err)
			}
		}
		list, ok, err := c.s.PriorityList(c.ctx)
		if err != nil || !ok {
			t.Fatalf("priority list: %v, %v", ok, err)
		}
		var got []int64
		for _, d := range list.Demands {
			got = append(got, d.DemandID)
		}
		if len(got) != 5 || !slices.Equal(got[:3], []int64{demands[3].ID, demands[2].ID, demands[0].ID}) || list.Proposal.ID != p.ID {
			t.Errorf("priority list %v from proposal %d, want Land, Banks, Procurement first, from %d", got, list.Proposal.ID, p.ID)
		}
		if n := c.count(t, `SELECT count(*) FROM demand_priorities`); n != 5 {
			t.Errorf("%d priority rows, want 5 (applied once)", n)
		}
		if _, err := c.d.W.ExecContext(c.ctx, `UPDATE demand_priorities SET position = 9 WHERE position = 0`); err == nil {
			t.Error("the priority list was changed outside a ballot")
		}
	})

	t.Run("choosing resources endorses those approved by more than half", func(t *testing.T) {
		r1, r2, r3 := c.resource(t, "First"), c.resource(t, "Second"), c.resource(t, "Third")
		p := c.propose(t, voters[0], choiceInput(governance.KindChoose, "Recommend", governance.OptionInput{ResourceID: fmt.Sprint(r1.ID)},
			governance.OptionInput{ResourceID: fmt.Sprint(r2.ID)}, governance.OptionInput{ResourceID: fmt.Sprint(r3.ID)}))
		// 5 ballots: First 5, Second 3 (more than half), Third 2 (not).
		for i, m := range all {
			tk := []int{0}
			if i < 3 {
				tk = append(tk, 1)
			}
			if i >= 3 {
				tk = append(tk, 2)
			}
			c.voteChoice(t, m, p, ticked(tk...))
		}
		closed := c.finish(t, p)
		if err := c.s.Advance(c.ctx); err != nil {
			t.Fatal(err)
		}
		r, _ := closed.ChoiceResult()
		if !slices.Equal(r.Chosen, []int{0, 1}) {
			t.Errorf("chosen %v, want options 0 and 1", r.Chosen)
		}
		for _, tt := range []struct {
			r    library.Resource
			want bool
		}{{r1, true}, {r2, true}, {r3, false}} {
			if got := c.getResource(t, tt.r.ID); got.Endorsed() != tt.want || (tt.want && *got.EndorsedBy != p.ID) {
				t.Errorf("%s endorsed: %t, want %t", tt.r.Title, got.Endorsed(), tt.want)
			}
		}
		var effects int
		for _, e := range c.entries(t) {
			if e.Kind == governance.EventEffectApplied && strings.Contains(e.Body, fmt.Sprintf(`"proposal":%d`, p.ID)) {
				effects++
			}
		}
		if effects != 2 {
			t.Errorf("%d effects on the ledger, want 2", effects)
		}
		if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
			t.Errorf("verify: %v", err)
		}
	})

	t.Run("an election by STV records the officers", func(t *testing.T) {
		in := choiceInput(governance.KindElect, "The board", governance.OptionInput{MemberID: fmt.Sprint(voters[0].ID)},
			governance.OptionInput{MemberID: fmt.Sprint(voters[1].ID)}, governance.OptionInput{Label: "Rosa Luxemburg", Statement: "For the many."})
		in.Seats, in.Office = "2", "Board of directors"
		p := c.propose(t, voters[0], in)
		// Rosa 3 first preferences, voters[1] 2: quota 5/3+1 = 2.
		for i, m := range all {
			if i < 3 {
				c.voteChoice(t, m, p, ranked("2", "", "1"))
			} else {
				c.voteChoice(t, m, p, ranked("", "1", "2"))
			}
		}
		c.finish(t, p)
		officers, err := c.s.Officers(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(officers) != 2 || officers[0].Name != "Rosa Luxemburg" || officers[0].MemberID != nil ||
			officers[1].MemberID == nil || *officers[1].MemberID != voters[1].ID || officers[0].Office != "Board of directors" {
			t.Errorf("officers %+v, want Rosa Luxemburg then member %d on the board", officers, voters[1].ID)
		}
		if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
			t.Errorf("verify: %v", err)
		}
		// An officer erased keeps the seat but not the name, on the list
		// and on the ballot.
		if err := c.s.Erase(c.ctx, c.admin, voters[1].ID, true); err != nil {
			t.Fatal(err)
		}
		officers, err = c.s.Officers(c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		opts, err := c.s.Options(c.ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		anon := fmt.Sprintf("Member %d", voters[1].ID)
		if len(officers) != 2 || officers[1].Name != anon || opts[1].Label != anon {
			t.Errorf("after erasure: officers %+v, options %+v; want %q", officers, opts, anon)
		}
		if n := c.count(t, `SELECT count(*) FROM officers WHERE name LIKE ?`, "%"+voters[1].Name+"%"); n != 0 {
			t.Error("the erased member's name is still stored with the officers")
		}
	})

	t.Run("a poll decides nothing but its result; an inquorate choice applies nothing", func(t *testing.T) {
		before := c.count(t, `SELECT count(*) FROM ledger WHERE kind = ?`, governance.EventEffectApplied)
		p := c.propose(t, voters[0], choiceInput(governance.KindPoll, "Lunch", texts("Soup", "Bread")...))
		all := []governance.Member{c.admin, voters[0], voters[2], voters[3]} // voters[1] was erased
		for _, m := range all {
			c.voteChoice(t, m, p, ticked(1))
		}
		closed := c.finish(t, p)
		if r, _ := closed.ChoiceResult(); *closed.Outcome != governance.OutcomeCarried || !slices.Equal(r.Chosen, []int{1, 0}) {
			t.Errorf("poll: %s, chosen %v", *closed.Outcome, r.Chosen)
		}
		// The result message gives what was chosen in place of a tally.
		var payloads []string
		if err := c.d.R.SelectContext(c.ctx, &payloads, `SELECT payload FROM notifications WHERE kind = 'result' AND event = ?`,
			fmt.Sprint(p.ID)); err != nil {
			t.Fatal(err)
		}
		if len(payloads) != len(all) || !strings.Contains(payloads[0], `"method":"approval","chosen":["Bread","Soup"]`) ||
			!strings.Contains(payloads[0], `"turnout":4`) {
			t.Errorf("%d result messages, the first %s; want %d with the choice and the turnout", len(payloads), payloads, len(all))
		}
		q := c.propose(t, voters[0], choiceInput(governance.KindPrioritise, "Again", governance.OptionInput{DemandID: "1"}, governance.OptionInput{DemandID: "2"}))
		closedQ := c.finish(t, q)
		if *closedQ.Outcome != governance.OutcomeInquorate {
			t.Errorf("nobody voted: %s, want inquorate", *closedQ.Outcome)
		}
		if after := c.count(t, `SELECT count(*) FROM ledger WHERE kind = ?`, governance.EventEffectApplied); after != before {
			t.Errorf("%d effects applied by a poll and an inquorate ballot", after-before)
		}
		if list, _, _ := c.s.PriorityList(c.ctx); list.Proposal.ID == q.ID {
			t.Error("an inquorate ballot set the priority list")
		}
		if _, err := c.s.VerifyTally(c.ctx, q.ID); err != nil {
			t.Errorf("verify the inquorate ballot: %v", err)
		}
	})
}

func TestOpenChoiceBallot(t *testing.T) {
	c, voters, p := newChoice(t, 4, governance.MethodIRV, false, "Soup", "Bread", "Rice")
	// First preferences Soup 2, Bread 1, Rice 1; Rice goes (the lot may
	// pick Bread instead: both have 1), and its voter's next choice is Bread.
	ballots := []governance.ChoiceInput{ranked("1", "", ""), ranked("1", "2", ""), ranked("", "1", ""), ranked("2", "3", "1")}
	for i, in := range ballots {
		if res := c.voteChoice(t, voters[i], p, in); res.Receipt != "" || res.Changed {
			t.Errorf("an open ballot: %+v, want no receipt", res)
		}
	}
	t.Run("a member sees and changes their own ballot, and nobody's count", func(t *testing.T) {
		part, err := c.s.Participation(c.ctx, voters[3], c.proposal(t, p.ID))
		if err != nil || !slices.Equal(part.Ballot, []int{2, 0, 1}) {
			t.Errorf("participation %+v, %v; want the ballot [2 0 1]", part, err)
		}
		res := c.voteChoice(t, voters[3], p, ranked("", "1", "2"))
		if !res.Changed {
			t.Error("a second open ballot did not change the first")
		}
		if n := c.count(t, `SELECT count(*) FROM choice_votes WHERE proposal_id = ?`, p.ID); n != 4 {
			t.Errorf("%d open ballots, want 4", n)
		}
	})
	closed := c.finish(t, p)
	r, ok := closed.ChoiceResult()
	// Soup 2, Bread 2 (the changed ballot), Rice 0 goes; then Soup 2, Bread 2 of 4: no majority, so the lot takes one out.
	if !ok || r.IRV == nil || len(r.Order) != 1 || len(r.IRV.Rounds) < 2 {
		t.Fatalf("result %+v", r)
	}
	entries, err := c.s.Box(c.ctx, closed)
	if err != nil || len(entries) != 4 || entries[3].Key != fmt.Sprint(voters[3].ID) || entries[3].Choice != "[1,2]" {
		t.Errorf("the roll-call %+v, %v; want member %d's changed ballot [1,2]", entries, err, voters[3].ID)
	}
	if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestElectionByApproval(t *testing.T) {
	c := newCoop(t)
	voters := c.quickMembers(t, 3)
	in := choiceInput(governance.KindElect, "Auditors", governance.OptionInput{MemberID: fmt.Sprint(voters[0].ID)},
		governance.OptionInput{MemberID: fmt.Sprint(voters[1].ID)}, governance.OptionInput{Label: "Rosa Luxemburg"})
	in.Seats, in.Office, in.Method = "2", "Auditor", governance.MethodApproval
	p := c.propose(t, voters[0], in)
	if p.MaxApprovals == nil || *p.MaxApprovals != 2 {
		t.Fatalf("an approval election allows %v ticks, want as many as seats", p.MaxApprovals)
	}
	if _, err := c.s.VoteChoice(c.ctx, voters[0], p.ID, ticked(0, 1, 2), ""); err == nil {
		t.Error("three ticks for two seats were taken")
	}
	// Only Rosa is ticked: the second seat stays empty rather than go by lot
	// to a candidate nobody approved.
	for _, m := range voters {
		c.voteChoice(t, m, p, ticked(2))
	}
	c.finish(t, p)
	officers, err := c.s.Officers(c.ctx)
	if err != nil || len(officers) != 1 || officers[0].Name != "Rosa Luxemburg" || officers[0].Office != "Auditor" {
		t.Errorf("officers %+v, %v; want Rosa Luxemburg alone", officers, err)
	}
	if _, err := c.s.VerifyTally(c.ctx, p.ID); err != nil {
		t.Errorf("verify: %v", err)
	}
}
