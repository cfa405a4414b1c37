package server_test

import (
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
