package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

// Choices among many options over HTTP (issue 14): the ballot form, what
// it refuses, and the count once closed.

var meetingPlaces = []string{"The library hall", "The bakery upstairs", "Riverside park", "The union office", "Online"}

// poll is a poll among labels, open now for three days, counted by method.
func poll(title, method string, maxApprovals string, labels ...string) governance.ProposalInput {
	in := governance.ProposalInput{Kind: governance.KindPoll, Title: title, Opens: "now", Days: "3", Method: method, MaxApprovals: maxApprovals}
	for _, l := range labels {
		in.Options = append(in.Options, governance.OptionInput{Label: l})
	}
	return in
}

// election is a secret STV election of seats among the candidates.
func election(seats int, candidates ...string) governance.ProposalInput {
	in := governance.ProposalInput{Kind: governance.KindElect, Title: "Elect the board", Opens: "now", Days: "7",
		Method: governance.MethodSTV, Seats: strconv.Itoa(seats), Office: "Board member"}
	for i, name := range candidates {
		in.Options = append(in.Options, governance.OptionInput{Label: name,
			Statement: strings.Repeat(fmt.Sprintf("I have served the co-op for %d years. ", i+2), 1+i*5)})
	}
	return in
}

// castBallot fills in the choice ballot on the proposal's page: name,
// value pairs (approve may come more than once).
func (c *client) castBallot(t *testing.T, id int64, pairs ...string) *response {
	t.Helper()
	v := url.Values{"choice_ballot": {"1"}}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return c.submit(t, proposalPage(id), proposalPage(id)+"/vote", v)
}

// storedBallot is a member's open ballot as stored, "" when none.
func (a *app) storedBallot(t *testing.T, proposal, member int64) string {
	t.Helper()
	var b []string
	if err := a.DB.R.Select(&b, `SELECT ballot FROM choice_votes WHERE proposal_id = ? AND member_id = ?`, proposal, member); err != nil {
		t.Fatal(err)
	}
	return strings.Join(b, "")
}

func selectedRank(body, field string) string {
	re := regexp.MustCompile(`(?s)<select id="f-` + field + `" name="` + field + `".*?</select>`)
	sel := re.FindString(body)
	if m := regexp.MustCompile(`<option value="(\d*)" selected>`).FindStringSubmatch(sel); m != nil {
		return m[1]
	}
	return "?"
}

func TestChoiceBallotsAreCastAndChangedOverHTTP(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	ranked := co.putProposal(t, co.members[0], poll("Where we meet", governance.MethodSchulze, "", meetingPlaces...))
	approval := co.putProposal(t, co.members[0], poll("Which evenings suit", governance.MethodApproval, "2", "Monday", "Tuesday", "Thursday"))
	mo := co.as(t, co.members[0])

	t.Run("a ranked ballot: a number for each option", func(t *testing.T) {
		page := mo.get(t, proposalPage(ranked.ID))
		page.wantStatus(t, http.StatusOK)
		for i := range meetingPlaces {
			if !strings.Contains(page.Body, fmt.Sprintf(`<select id="f-rank_%d" name="rank_%d"`, i, i)) {
				t.Fatalf("no rank field for option %d:\n%s", i, excerpt(page.Body))
			}
		}
		page.wantText(t, "Cast my ballot")
		page.wantText(t, "1 to your first choice")
		mo.castBallot(t, ranked.ID, "rank_2", "1", "rank_0", "2", "rank_4", "").wantRedirect(t, proposalPage(ranked.ID))
		if got := co.storedBallot(t, ranked.ID, co.members[0].ID); got != "[2,0]" {
			t.Errorf("stored ballot %s, want [2,0]", got)
		}
		page = mo.get(t, proposalPage(ranked.ID))
		page.wantText(t, "Your ballot is recorded.")
		page.wantText(t, "Change my ballot")
		if r2, r0, r1 := selectedRank(page.Body, "rank_2"), selectedRank(page.Body, "rank_0"), selectedRank(page.Body, "rank_1"); r2 != "1" || r0 != "2" || r1 != "" {
			t.Errorf("the open ballot shows ranks %q, %q, %q; want 1, 2 and none", r2, r0, r1)
		}
		mo.castBallot(t, ranked.ID, "rank_1", "1").wantRedirect(t, proposalPage(ranked.ID))
		mo.get(t, proposalPage(ranked.ID)).wantText(t, "Your ballot is changed.")
		if got := co.storedBallot(t, ranked.ID, co.members[0].ID); got != "[1]" {
			t.Errorf("changed ballot %s, want [1]", got)
		}
		if n := co.rowCount(t, `SELECT count(*) FROM choice_votes WHERE proposal_id = ?`, ranked.ID); n != 1 {
			t.Errorf("%d ballots stored, want 1", n)
		}
	})

	t.Run("an approval ballot: a tick for each", func(t *testing.T) {
		page := mo.get(t, proposalPage(approval.ID))
		page.wantText(t, "Tick up to 2.")
		for i := range 3 {
			if !strings.Contains(page.Body, fmt.Sprintf(`<input type="checkbox" name="approve" value="%d" id="f-approve-%d">`, i, i)) {
				t.Fatalf("no checkbox for option %d:\n%s", i, excerpt(page.Body))
			}
		}
		mo.castBallot(t, approval.ID, "approve", "2", "approve", "0").wantRedirect(t, proposalPage(approval.ID))
		if got := co.storedBallot(t, approval.ID, co.members[0].ID); got != "[0,2]" {
			t.Errorf("stored ballot %s, want [0,2]", got)
		}
		page = mo.get(t, proposalPage(approval.ID))
		for i, want := range []bool{true, false, true} {
			if got := strings.Contains(page.Body, fmt.Sprintf(`id="f-approve-%d" checked>`, i)); got != want {
				t.Errorf("option %d ticked: %v, want %v", i, got, want)
			}
		}
	})
}

func TestASecretChoiceBallotChangesOnlyWithItsReceipt(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	p := co.putProposal(t, co.members[0], election(2, "Mo Member", "Nia Member", "Quin Outsider", "Rae Outsider"))
	if !*p.Secret {
		t.Fatal("elections are secret by default")
	}
	nia := co.as(t, co.members[1])
	page := nia.get(t, proposalPage(p.ID))
	page.wantText(t, "2 seats to fill")
	if !strings.Contains(page.Body, `<details class="statement">`) {
		t.Error("a long statement is not folded in a <details>")
	}
	nia.castBallot(t, p.ID, "rank_1", "1", "rank_3", "2").wantRedirect(t, proposalPage(p.ID))
	page = nia.get(t, proposalPage(p.ID))
	m := receiptCode.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no receipt after a secret ballot:\n%s", excerpt(page.Body))
	}
	receipt := m[1]
	page = nia.get(t, proposalPage(p.ID))
	if strings.Contains(page.Body, `" selected>1</option>`) {
		t.Error("a secret ballot is shown back, preselected")
	}
	page.wantText(t, "Change my ballot")
	if !strings.Contains(page.Body, `id="f-receipt"`) {
		t.Error("no receipt field to change a secret ballot")
	}
	box := func() string {
		var b []string
		if err := co.DB.R.Select(&b, `SELECT ballot FROM choice_box WHERE proposal_id = ?`, p.ID); err != nil {
			t.Fatal(err)
		}
		return strings.Join(b, " ")
	}
	if got := box(); got != "[1,3]" {
		t.Fatalf("box holds %s, want [1,3]", got)
	}

	before := co.snapshot(t)
	nia.castBallot(t, p.ID, "rank_0", "1").wantStatus(t, http.StatusConflict)
	res := nia.castBallot(t, p.ID, "rank_0", "1", "receipt", "AAAA-BBBB")
	res.wantStatus(t, http.StatusUnprocessableEntity)
	res.wantFieldError(t, "f-receipt", "That is not a receipt from this ballot. Check it and try again.")
	if selectedRank(res.Body, "rank_0") != "1" {
		t.Error("the refused ballot is not shown again as posted")
	}
	co.wantUnchanged(t, before)

	nia.castBallot(t, p.ID, "rank_0", "1", "rank_2", "2", "receipt", receipt).wantRedirect(t, proposalPage(p.ID))
	nia.get(t, proposalPage(p.ID)).wantText(t, "Your ballot is changed.")
	if got := box(); got != "[0,2]" {
		t.Errorf("box holds %s after the change, want [0,2]", got)
	}
}

func TestBadChoiceBallotsAreRefusedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	ranked := co.putProposal(t, co.members[0], poll("Where we meet", governance.MethodSchulze, "", meetingPlaces...))
	approval := co.putProposal(t, co.members[0], poll("Which evenings suit", governance.MethodApproval, "2", "Monday", "Tuesday", "Thursday"))
	yesNo := co.putProposal(t, co.members[0], motion("Meet monthly", 7, time.Time{}))
	mo := co.as(t, co.members[0])

	many := []string{}
	for i := range 200 {
		many = append(many, governance.RankKey(i), strconv.Itoa(i+1))
	}
	rankMsg := "Choose a rank from 1 to 5, or leave the option unranked."
	for _, tc := range []struct {
		name    string
		id      int64
		pairs   []string
		field   string // "" for the message above the form
		message string
	}{
		{"rank 0", ranked.ID, []string{"rank_0", "0"}, "f-rank_0", rankMsg},
		{"a rank past the number of options", ranked.ID, []string{"rank_1", "6"}, "f-rank_1", rankMsg},
		{"a rank that is not a number", ranked.ID, []string{"rank_2", "abc"}, "f-rank_2", rankMsg},
		{"a script for a rank", ranked.ID, []string{"rank_3", "<script>alert(1)</script>"}, "f-rank_3", rankMsg},
		{"the same rank twice", ranked.ID, []string{"rank_0", "1", "rank_4", "1"}, "f-rank_4",
			"Rank 1 is given twice: give each option its own rank, or leave it unranked."},
		{"an option not on the ballot", ranked.ID, []string{"rank_0", "1", "rank_99", "2"}, "",
			"This option is not on this ballot: reload the page and vote again."},
		{"a negative option", ranked.ID, []string{"rank_-1", "1"}, "", "This option is not on this ballot: reload the page and vote again."},
		{"200 rank fields", ranked.ID, many, "", "This ballot has more fields than options: reload the page and vote again."},
		{"ticks on a ranked ballot", ranked.ID, []string{"rank_0", "1", "approve", "1"}, "",
			"This ballot is ranked: give the options you support a number each instead."},
		{"a tick out of range", approval.ID, []string{"approve", "3"}, "f-approve",
			"One of the options ticked is not on this ballot: reload the page and vote again."},
		{"a tick that is not a number", approval.ID, []string{"approve", "<script>alert(1)</script>"}, "f-approve",
			"One of the options ticked is not on this ballot: reload the page and vote again."},
		{"more ticks than allowed", approval.ID, []string{"approve", "0", "approve", "1", "approve", "2"}, "f-approve", "Tick at most 2."},
		{"the same tick twice", approval.ID, []string{"approve", "0", "approve", "0"}, "f-approve",
			"An option is ticked twice: reload the page and vote again."},
		{"ranks on an approval ballot", approval.ID, []string{"rank_0", "1"}, "",
			"This ballot is not ranked: tick the options you approve instead."},
		{"a choice ballot posted to a yes/no ballot", yesNo.ID, []string{"rank_0", "1"}, "",
			"This ballot has changed since the page was loaded: reload it and vote again."},
		{"another proposal's ranks posted to an approval ballot", approval.ID, []string{"rank_4", "1"}, "",
			"This ballot is not ranked: tick the options you approve instead."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := co.snapshot(t)
			res := mo.castBallot(t, tc.id, tc.pairs...)
			res.wantStatus(t, http.StatusUnprocessableEntity)
			res.wantFieldError(t, tc.field, tc.message)
			if strings.Contains(res.Body, "<script>alert") {
				t.Error("the hostile rank came back unescaped")
			}
			if tc.id != yesNo.ID && !strings.Contains(res.Body, `id="ballot"`) {
				t.Error("the ballot is not shown again")
			}
			co.wantUnchanged(t, before)
		})
	}
	if n := co.rowCount(t, `SELECT count(*) FROM roll WHERE voted = 1`); n != 0 {
		t.Errorf("%d votes marked after refused ballots", n)
	}

	t.Run("a ballot posted as yes/no to a choice is refused", func(t *testing.T) {
		before := co.snapshot(t)
		res := mo.castVote(t, ranked.ID, "yes", "")
		res.wantStatus(t, http.StatusUnprocessableEntity)
		res.wantFieldError(t, "", "This ballot has changed since the page was loaded: reload it and vote again.")
		co.wantUnchanged(t, before)
	})
}

func TestOnlyTheRollCastsAChoiceBallot(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	p := co.putProposal(t, co.members[0], poll("Where we meet", governance.MethodSchulze, "", meetingPlaces...))
	late := co.addMember(t, co.admin, "Lee Latecomer", "lee@example.org")
	before := co.snapshot(t)

	anon := co.client()
	res := anon.post(t, proposalPage(p.ID)+"/vote", form("choice_ballot", "1", "rank_0", "1", "csrf_token", anon.csrf(t, "/login")))
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Location(), "/login") {
		t.Errorf("an anonymous ballot: %d %s, want a redirect to log in", res.Status, res.Location())
	}
	res = co.as(t, late).castBallot(t, p.ID, "rank_0", "1")
	res.wantStatus(t, http.StatusForbidden)
	res.wantFieldError(t, "", "You are not on this ballot's roll: it was frozen when voting opened, and only the active members at that moment vote.")
	// An applicant may not even see a running ballot.
	ali := co.as(t, co.applicant)
	res = ali.post(t, proposalPage(p.ID)+"/vote", form("choice_ballot", "1", "rank_0", "1", "csrf_token", ali.csrf(t, "/account")))
	res.wantStatus(t, http.StatusNotFound)
	co.wantUnchanged(t, before)
}

// apiChoiceDoc is GET /api/v1/proposals/:id for a choice.
type apiChoiceDoc struct {
	Data struct {
		Status       string  `json:"status"`
		Method       string  `json:"method"`
		Seats        *int    `json:"seats"`
		MaxApprovals *int    `json:"max_approvals"`
		Office       *string `json:"office"`
		Options      []struct {
			Position int    `json:"position"`
			Kind     string `json:"kind"`
			Label    string `json:"label"`
		} `json:"options"`
		Result *governance.ChoiceResult `json:"result"`
		Box    []governance.BoxEntry    `json:"box"`
	} `json:"data"`
}

func TestChoiceResultsArePublishedOnlyOnceClosed(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	voters := []*client{co.as(t, co.members[0]), co.as(t, co.members[1]), co.as(t, co.members[2]), co.as(t, co.members[3]), co.as(t, co.admin)}
	evenings := []string{"Monday", "Tuesday", "Thursday"}
	type ballot []string
	cases := []struct {
		name    string
		in      governance.ProposalInput
		ballots []ballot
		before  string // a count that must not show before close
		after   []string
	}{
		{"approval", poll("Which evenings suit", governance.MethodApproval, "2", evenings...),
			[]ballot{{"approve", "0", "approve", "2"}, {"approve", "0"}, {"approve", "0", "approve", "1"}, {}},
			"Monday</th><td>3", []string{"Monday</th><td>3</td><td>75%", "The members&#39; order: 1. Monday, 2. ",
				`id="approval-chart-title"`, "3 (75%)", "Tie broken by lot"}},
		{"schulze", poll("Where we meet", governance.MethodSchulze, "", meetingPlaces...),
			[]ballot{{"rank_1", "1", "rank_0", "2"}, {"rank_1", "1", "rank_2", "2"}, {"rank_0", "1", "rank_1", "2"}},
			"Pairwise", []string{"The bakery upstairs is the Condorcet winner", `<table class="matrix" id="pairwise">`,
				`<table class="matrix" id="strongest">`, "Pairwise table d[row, column]", `<th scope="col">The library hall</th>`}},
		{"irv", poll("Which logo", governance.MethodIRV, "", "Acorn", "Beehive", "Cog"),
			[]ballot{{"rank_0", "1"}, {"rank_0", "1"}, {"rank_1", "1"}, {"rank_1", "1", "rank_0", "2"}, {"rank_2", "1", "rank_1", "2"}},
			"Round 1", []string{"Winner: <strong>Beehive</strong>", "<td>Cog</td>", "<th scope=\"col\">Round 2</th>", "Exhausted", "Majority needed",
				`id="irv-chart-2-title"`, "The members chose Beehive."}},
		{"stv", election(2, "Mo Member", "Nia Member", "Quin Outsider", "Rae Outsider"),
			[]ballot{{"rank_0", "1", "rank_1", "2"}, {"rank_0", "1", "rank_2", "2"}, {"rank_0", "1", "rank_1", "2"}, {"rank_1", "1", "rank_3", "2"}},
			"Quota", []string{"Quota: 2 votes", "Stage 1", "First preferences", "Surplus of Mo Member (1) transferred", "Rae Outsider excluded", "Non-transferable", `id="stv-chart-1-title"`,
				"Elected as Board member: Mo Member and Nia Member.", "/officers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := co.putProposal(t, co.members[0], tc.in)
			var receipt string
			for i, b := range tc.ballots {
				voters[i].castBallot(t, p.ID, b...).wantRedirect(t, proposalPage(p.ID))
				if m := receiptCode.FindStringSubmatch(voters[i].get(t, proposalPage(p.ID)).Body); m != nil && i == 0 {
					receipt = m[1]
				}
			}
			api := "/api/v1" + proposalPage(p.ID)
			for who, c := range map[string]*client{"a voter": voters[0], "the admin": co.as(t, co.admin)} {
				page := c.get(t, proposalPage(p.ID))
				if strings.Contains(page.Body, tc.before) || strings.Contains(page.Body, `id="result"`) || countShown(page.Body) != "" {
					t.Errorf("%s sees a count before the close", who)
				}
				c.get(t, api).wantStatus(t, http.StatusNotFound)
			}

			co.passClose(p)
			anon := co.client()
			page := anon.get(t, proposalPage(p.ID))
			page.wantStatus(t, http.StatusOK)
			if !strings.Contains(page.Body, `<section id="result"`) {
				t.Fatalf("no result section after close:\n%s", excerpt(page.Body))
			}
			for _, want := range tc.after {
				if !strings.Contains(page.Body, want) {
					t.Errorf("the result does not show %q", want)
				}
			}
			// The box shows labels, not positions.
			if strings.Contains(page.Body, "<td>[") {
				t.Error("the published box shows positions, not the options' labels")
			}
			if receipt != "" {
				found := anon.get(t, proposalPage(p.ID)+"?receipt="+url.QueryEscape(receipt))
				found.wantText(t, "counted as: ")
				if !strings.Contains(found.Body, "1. Mo Member; 2. Nia Member") {
					t.Errorf("the receipt lookup does not show the ranking found:\n%s", errorsIn(found.Body))
				}
			}

			res := anon.get(t, api)
			res.wantStatus(t, http.StatusOK)
			var doc apiChoiceDoc
			if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
				t.Fatal(err)
			}
			d := doc.Data
			if d.Method != *p.Method || len(d.Options) != len(tc.in.Options) || d.Result == nil || d.Result.Method != *p.Method ||
				d.Result.Ballots != len(tc.ballots) || len(d.Box) != len(tc.ballots) {
				t.Errorf("API document: %s", res.Body)
			}
			for i, o := range d.Options {
				if o.Position != i || o.Label != tc.in.Options[i].Label || o.Kind == "" {
					t.Errorf("API option %d: %+v", i, o)
				}
			}
			if !strings.Contains(res.Body, `"result":`+*mustProposal(t, co.app, p.ID).Result) {
				t.Error("the API's result is not the result as stored, byte for byte")
			}
			if tc.name == "stv" && (d.Seats == nil || *d.Seats != 2 || d.Office == nil || d.Result.STV == nil) {
				t.Errorf("an election's API document: %s", res.Body)
			}
			if tc.name == "approval" && (d.MaxApprovals == nil || *d.MaxApprovals != 2 || d.Result.Approval == nil) {
				t.Errorf("an approval poll's API document: %s", res.Body)
			}
		})
	}

	// The list of proposals words a closed choice as the result page
	// does: decided, not carried.
	list := co.client().get(t, "/proposals")
	if !strings.Contains(list.Body, `<span class="badge carried">decided</span>`) || strings.Contains(list.Body, `">carried</span>`) {
		t.Errorf("the proposals list words a closed choice as yes/no:\n%s", excerpt(list.Body))
	}

	feed := co.client().get(t, "/feed.atom")
	for _, want := range []string{"Where we meet: decided", "counted by the Schulze method", "The members chose Beehive."} {
		if !strings.Contains(feed.Body, escaped(want)) {
			t.Errorf("the feed does not say %q", want)
		}
	}
	if strings.Contains(feed.Body, "0 yes, 0 no") {
		t.Error("the feed words a choice as yes/no")
	}
}

func mustProposal(t *testing.T, a *app, id int64) governance.Proposal {
	t.Helper()
	p, err := a.Gov.Proposal(t.Context(), nil, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChoiceBallotsResistHostileInput sends every hostile value of the
// injection test in each field of a ranked and an approval ballot: no
// error text, no raw markup, no change unless the ballot was accepted.
func TestChoiceBallotsResistHostileInput(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	ranked := co.putProposal(t, co.members[0], poll("Where we meet", governance.MethodSchulze, "", meetingPlaces...))
	approval := co.putProposal(t, co.members[0], poll("Which evenings suit", governance.MethodApproval, "2", "Monday", "Tuesday", "Thursday"))
	mo := co.as(t, co.members[0])
	token := mo.csrf(t, proposalPage(ranked.ID))
	for _, p := range []governance.Proposal{ranked, approval} {
		base := url.Values{"choice_ballot": {"1"}, "rank_0": {"1"}}
		if p.ID == approval.ID {
			base = url.Values{"choice_ballot": {"1"}, "approve": {"0"}}
		}
		for _, field := range []string{"choice_ballot", "rank_0", "rank_1", "approve", "receipt"} {
			for _, h := range hostile {
				before := co.snapshot(t)
				v := clone(base)
				v.Set(field, h.value)
				v.Set("csrf_token", token)
				res := mo.post(t, proposalPage(p.ID)+"/vote", v)
				what := fmt.Sprintf("%s in %s of proposal %d", h.name, field, p.ID)
				lower := strings.ToLower(res.Body)
				for _, mark := range leakMarks {
					if strings.Contains(lower, mark) {
						t.Errorf("%s: error text %q in the answer", what, mark)
					}
				}
				for _, mark := range rawMarks {
					if strings.Contains(res.Body, mark) {
						t.Errorf("%s: raw markup %q in the answer", what, mark)
					}
				}
				switch res.Status {
				case http.StatusSeeOther:
				case http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge, http.StatusBadRequest:
					co.wantUnchanged(t, before)
				default:
					t.Errorf("%s: answered %d", what, res.Status)
				}
			}
		}
	}
}

// TestAReceiptBeforeAnyBallotIsRefusedWhereItCanBeSeen: a member who has
// not voted has no receipt field, so a receipt posted anyway is refused
// above the form.
func TestAReceiptBeforeAnyBallotIsRefusedWhereItCanBeSeen(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	p := co.putProposal(t, co.members[0], election(2, "Mo Member", "Nia Member", "Quin Outsider"))
	before := co.snapshot(t)
	res := co.as(t, co.members[2]).castBallot(t, p.ID, "rank_0", "1", "receipt", "AAAA-BBBB")
	res.wantStatus(t, http.StatusUnprocessableEntity)
	res.wantFieldError(t, "", "You have not voted in this ballot yet: vote without a receipt first.")
	co.wantUnchanged(t, before)
}
