package server_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

// Issue 16: a member's path without friction.

func TestASharedLinkToARunningProposalSaysWhatItIs(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	demand := a.putDemand(t, ad, "Open procurement to co-ops")
	in := endorsing(demand)
	in.Title, in.Body = "Endorse the procurement demand now", "Our secret strategy for the vote."
	voting := a.putProposal(t, ad, in)
	later := a.putProposal(t, ad, motion("Buy the hall on the corner", 7, a.Clock.Now().Add(48*time.Hour)))
	closed := a.putProposal(t, ad, motion("An old question", 7, a.Clock.Now().Add(72*time.Hour)))
	if err := a.Gov.Cancel(t.Context(), ad.Member, closed.ID, "Asked in error."); err != nil {
		t.Fatal(err)
	}
	applicant := a.addApplicant(t, "Pat Applicant", "pat@example.org")

	for _, who := range []struct {
		name string
		c    *client
	}{{"the public", a.client()}, {"an applicant", a.as(t, applicant)}} {
		t.Run(who.name+" is told what an open ballot is and when its result is public", func(t *testing.T) {
			page := "/proposals/" + strconv.FormatInt(voting.ID, 10)
			r := who.c.get(t, page)
			// The status is what it always was (the authorization table
			// says it): the reader may not see the proposal itself.
			r.wantStatus(t, http.StatusNotFound)
			r.wantText(t, "A proposal for the co-op")
			r.wantText(t, "Voting is open until")
			r.wantText(t, "will be public on this page when voting closes")
			r.wantText(t, "Open procurement to co-ops") // the demand is public
			for _, secret := range []string{in.Title, in.Body, "Not found"} {
				if strings.Contains(r.Body, secret) {
					t.Errorf("%s shows %q:\n%s", page, secret, excerpt(r.Body))
				}
			}
			if who.name == "the public" {
				wantMarkup(t, r, `href="/login?next=`+strings.ToLower(url.QueryEscape(page))+`"`)
			} else if strings.Contains(r.Body, "Log in to read") {
				t.Errorf("a logged-in applicant is offered the login")
			}
		})
	}
	t.Run("a proposal in discussion says when voting opens", func(t *testing.T) {
		r := a.client().get(t, "/proposals/"+strconv.FormatInt(later.ID, 10))
		r.wantStatus(t, http.StatusNotFound)
		r.wantText(t, "It is in discussion.")
		r.wantText(t, "Voting is due to open")
		if strings.Contains(r.Body, "Buy the hall") {
			t.Errorf("the notice shows the motion's title")
		}
	})
	t.Run("an ended proposal is its own public page, and none at all is not found", func(t *testing.T) {
		a.client().get(t, "/proposals/"+strconv.FormatInt(closed.ID, 10)).wantText(t, "An old question")
		r := a.client().get(t, "/proposals/999999")
		r.wantStatus(t, http.StatusNotFound)
		if strings.Contains(r.Body, "A proposal for the co-op") {
			t.Errorf("a proposal that does not exist has a notice")
		}
	})
}

func TestTheProposalFormIsAPagePerKind(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	open := a.putDemand(t, ad, "Open procurement to co-ops")
	other := a.putDemand(t, ad, "Fund co-op incubators")
	// The co-op holds endorsement votes live, in a meeting: one minute.
	rules, err := a.Gov.Rules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Kind == governance.KindEndorseDemand {
			err := a.Gov.SetRule(t.Context(), ad.Member, governance.RuleInput{Kind: r.Kind, QuorumPct: strconv.Itoa(r.QuorumPct),
				Threshold: r.Threshold, MinMinutes: "1", Secret: r.Secret, Methods: r.AllowedMethods()})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	c := a.as(t, ad)

	t.Run("without a kind it asks which kind, each a page of its own", func(t *testing.T) {
		r := c.get(t, "/proposals/new")
		for _, k := range append(yesNo(), governance.KindElect, governance.KindPoll) {
			wantMarkup(t, r, `href="/proposals/new?kind=`+k+`"`)
		}
		if strings.Contains(r.Body, `name="title"`) {
			t.Errorf("the first step already has the form")
		}
	})
	t.Run("from a demand's page it names the demand and draws only that kind's fields", func(t *testing.T) {
		r := c.get(t, "/proposals/new?kind=endorse_demand&demand="+strconv.FormatInt(open, 10))
		r.wantText(t, "New proposal: Endorse a demand")
		wantMarkup(t, r, `<a href="/demands/`+strconv.FormatInt(open, 10)+`">Open procurement to co-ops</a>`)
		wantMarkup(t, r, `<input type="hidden" name="demand_id" value="`+strconv.FormatInt(open, 10)+`">`)
		for _, absent := range []string{"Demand number", "Resource number", `name="resource_id"`, `name="new_title"`, `name="kind" value="motion"`} {
			if strings.Contains(r.Body, absent) {
				t.Errorf("the endorsement form has %q", absent)
			}
		}
		// The rule's own minimum, not a week.
		wantMarkup(t, r, `id="f-days" name="days" type="number" value="0"`)
		wantMarkup(t, r, `id="f-minutes" name="minutes" type="number" value="1"`)
		r.wantText(t, "At least 1 minute for this kind of proposal.")
	})
	t.Run("without a demand it offers the demands to endorse by title", func(t *testing.T) {
		r := c.get(t, "/proposals/new?kind=endorse_demand")
		wantMarkup(t, r, `<option value="`+strconv.FormatInt(other, 10)+`">Fund co-op incubators</option>`)
	})
	t.Run("adopting a new demand draws the new demand's fields and no pickers", func(t *testing.T) {
		r := c.get(t, "/proposals/new?kind=adopt_demand")
		wantMarkup(t, r, `name="new_title"`)
		if strings.Contains(r.Body, `name="demand_id"`) || strings.Contains(r.Body, `name="resource_id"`) {
			t.Errorf("the new demand's form has a demand or resource picker")
		}
	})
	t.Run("a picked demand is kept when the form comes back with an error", func(t *testing.T) {
		r := c.submit(t, "/proposals/new?kind=endorse_demand", "/proposals/new", form("kind", governance.KindEndorseDemand,
			"demand_id", strconv.FormatInt(other, 10), "title", "", "opens", "now", "days", "0", "hours", "0", "minutes", "5"))
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "f-title", "Give the proposal a title.")
		wantMarkup(t, r, `<a href="/demands/`+strconv.FormatInt(other, 10)+`">Fund co-op incubators</a>`)
	})
	t.Run("leaving the demand unpicked says to choose one", func(t *testing.T) {
		before := a.snapshot(t)
		r := c.submit(t, "/proposals/new?kind=endorse_demand", "/proposals/new", form("kind", governance.KindEndorseDemand,
			"demand_id", "", "title", "Endorse it", "opens", "now", "days", "0", "hours", "0", "minutes", "5"))
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "f-demand_id", "Choose the demand.")
		a.wantUnchanged(t, before)
	})
	t.Run("an amendment posted to this form is sent to its own", func(t *testing.T) {
		before := a.snapshot(t)
		r := c.submit(t, "/proposals/new?kind=motion", "/proposals/new", form("kind", governance.KindAmendDemand, "title", "Amend it",
			"demand_id", strconv.FormatInt(open, 10), "opens", "now", "days", "7", "hours", "0", "minutes", "0"))
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantFieldError(t, "f-kind", "Propose an amendment from the endorsed resource's or demand's page.")
		a.wantUnchanged(t, before)
	})
}

// yesNo lists the kinds the yes/no form puts.
func yesNo() []string {
	return []string{governance.KindEndorseDemand, governance.KindEndorseResource, governance.KindWithdraw,
		governance.KindAdoptDemand, governance.KindMotion}
}

// wantMarkup wants markup itself on the page, where wantText wants text.
func wantMarkup(t *testing.T, r *response, markup string) {
	t.Helper()
	if !strings.Contains(r.Body, markup) {
		t.Errorf("%s: the page has no %q:\n%s", r, markup, excerpt(r.Body))
	}
}

func TestTheVoteComesFirstAndTheReceiptIsKeptWhole(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	demand := a.putDemand(t, ad, "Open procurement to co-ops")
	p := a.putProposal(t, ad, endorsing(demand)) // endorsing a demand is secret by default
	c := a.as(t, ad)

	t.Run("the ballot comes before the demand's text and the rules fold away", func(t *testing.T) {
		r := c.get(t, proposalPage(p.ID))
		vote, subject := strings.Index(r.Body, `<section class="vote"`), strings.Index(r.Body, `<section class="subject"`)
		if vote < 0 || subject < 0 || vote > subject {
			t.Errorf("the vote (at %d) does not come before the demand (at %d)", vote, subject)
		}
		r.wantText(t, "roll of 1 members, frozen when voting opened")
		facts := strings.Index(r.Body, `<dl class="facts">`)
		details := strings.LastIndex(r.Body[:max(facts, 0)], "<details>")
		if facts < 0 || details < 0 || strings.Contains(r.Body[details:facts], "</details>") {
			t.Errorf("the ballot's rules and digests are not in a disclosure")
		}
	})
	t.Run("the receipt is shown in groups, to copy, and as a file", func(t *testing.T) {
		c.castVote(t, p.ID, governance.ChoiceYes, "").wantRedirect(t, proposalPage(p.ID))
		r := c.get(t, proposalPage(p.ID))
		m := receiptCode.FindStringSubmatch(r.Body)
		if m == nil {
			t.Fatalf("no receipt after a secret vote:\n%s", excerpt(r.Body))
		}
		code := m[1]
		groups := strings.Split(code, "-")
		if len(groups) < 4 {
			t.Fatalf("receipt %q is not in groups", code)
		}
		var shown strings.Builder
		for _, g := range groups {
			shown.WriteString("<span>" + g + "</span> ")
		}
		wantMarkup(t, r, `<p class="receipt-groups" aria-hidden="true">`+shown.String()+`</p>`)
		link := regexp.MustCompile(`<a href="(data:text/plain;charset=utf-8,[^"]+)" download="plenary-receipt.txt">`).FindStringSubmatch(r.Body)
		if link == nil {
			t.Fatalf("no link to save the receipt as a file:\n%s", excerpt(r.Body))
		}
		file, err := url.PathUnescape(strings.TrimPrefix(html.UnescapeString(link[1]), "data:text/plain;charset=utf-8,"))
		if err != nil || !strings.Contains(file, "Receipt: "+code+"\n") || !strings.Contains(file, "Ballot: "+proposalPage(p.ID)) {
			t.Errorf("the saved file reads %q (%v), want the receipt %s and the ballot", file, err, code)
		}
		// Shown once: the next page has no receipt.
		if again := c.get(t, proposalPage(p.ID)); strings.Contains(again.Body, code) {
			t.Errorf("the receipt is shown a second time")
		}
	})
}

func TestAVoteAnswersWithANoticeThatCarriesNoData(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	a.setSecrecy(t, ad, governance.KindMotion, false)
	p := a.putProposal(t, ad, motion("An open question", 7, time.Time{}))
	c := a.as(t, ad)
	for _, want := range []string{"Your vote is recorded. You can change it until voting closes.", "Your vote is changed."} {
		r := c.castVote(t, p.ID, governance.ChoiceYes, "")
		r.wantRedirect(t, proposalPage(p.ID))
		if got := r.Header.Values("Set-Cookie"); len(got) != 1 || !strings.HasPrefix(got[0], "plenary_notice=vote-") {
			t.Errorf("the vote's answer sets %q, want only the notice cookie", got)
		}
		c.get(t, proposalPage(p.ID)).wantText(t, want)
		if again := c.get(t, proposalPage(p.ID)); strings.Contains(again.Body, want) {
			t.Errorf("the notice %q is shown twice", want)
		}
	}
	t.Run("a notice cookie naming no notice shows nothing of its own", func(t *testing.T) {
		forged := a.withCookies([]*http.Cookie{{Name: "plenary_notice", Value: "<script>alert(1)</script>"}})
		r := forged.get(t, "/")
		r.wantStatus(t, http.StatusOK)
		if strings.Contains(r.Body, "alert(1)") || strings.Contains(r.Body, `class="flash ok"`) {
			t.Errorf("a forged notice is shown:\n%s", excerpt(r.Body))
		}
	})
}
