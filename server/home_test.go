package server_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

// homeSection is the inside of the home page's section headed by id, or "".
func homeSection(body, id string) string {
	m := regexp.MustCompile(`(?s)<section aria-labelledby="` + id + `">(.*?)</section>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestHomeShowsDemandsAtEveryStage: issue 16. With one demand endorsed the
// home page was half empty; it shows, to anyone, the endorsed demands first,
// then those members are voting on, then the proposed ones, a few of each.
func TestHomeShowsDemandsAtEveryStage(t *testing.T) {
	t.Parallel()
	co := newBallotCoop(t)
	ctx := context.Background()
	endorsed := co.putDemand(t, co.members[0], "Open public procurement to co-ops")
	p := co.putProposal(t, co.members[0], endorsing(endorsed))
	for _, m := range co.members[:3] {
		if _, err := co.Gov.Vote(ctx, m.Member, p.ID, governance.ChoiceYes, ""); err != nil {
			t.Fatal(err)
		}
	}
	co.passClose(p)
	var proposed []string
	for i := range 7 {
		title := fmt.Sprintf("Proposed demand number %d", i+1)
		co.putDemand(t, co.members[1], title)
		co.Clock.Advance(time.Minute)
		proposed = append(proposed, title)
	}
	voting := co.putDemand(t, co.members[2], "Fund a platform co-op accelerator")
	ballot := co.putProposal(t, co.members[2], endorsing(voting))

	home := co.client().get(t, "/")
	home.wantStatus(t, 200)
	endorsedPart, ballotPart, proposedPart := homeSection(home.Body, "endorsed-h"), homeSection(home.Body, "ballot-h"), homeSection(home.Body, "proposed-h")

	t.Run("the groups come endorsed first, then under ballot, then proposed, each headed", func(t *testing.T) {
		at := func(s string) int { return strings.Index(home.Body, s) }
		e, b, pr := at(">What we demand</h2>"), at(">Being voted on</h2>"), at(">Proposed by members</h2>")
		if e < 0 || b < 0 || pr < 0 || !(e < b && b < pr) {
			t.Errorf("headings at %d, %d, %d; want What we demand, Being voted on, Proposed by members in that order", e, b, pr)
		}
	})

	t.Run("the endorsed demand is marked endorsed", func(t *testing.T) {
		if !strings.Contains(endorsedPart, escaped("Open public procurement to co-ops")+`</a> <span class="badge endorsed">endorsed</span>`) {
			t.Errorf("the endorsed group lacks its demand:\n%s", endorsedPart)
		}
	})

	t.Run("a demand being voted on is marked so, with its ballot, and is not also listed as proposed", func(t *testing.T) {
		want := fmt.Sprintf(`<a href="/demands/%d">Fund a platform co-op accelerator</a> <span class="badge voting">under ballot</span>`, voting)
		if !strings.Contains(ballotPart, want) || !strings.Contains(ballotPart, fmt.Sprintf(`<a href="/proposals/%d">proposal %d</a>`, ballot.ID, ballot.ID)) {
			t.Errorf("the group being voted on lacks %s and its proposal:\n%s", want, ballotPart)
		}
		if strings.Contains(proposedPart, "Fund a platform co-op accelerator") {
			t.Error("the demand under ballot is listed as proposed too")
		}
		if sign := countShown(ballotPart); sign != "" {
			t.Errorf("the group being voted on shows %q while the ballot runs", sign)
		}
	})

	t.Run("the proposed are the newest five, with a way to them all", func(t *testing.T) {
		if n := strings.Count(proposedPart, `<span class="badge proposed">proposed</span>`); n != 5 {
			t.Errorf("%d proposed demands shown, want 5", n)
		}
		for i, title := range proposed {
			if shown := strings.Contains(proposedPart, title+"</a>"); shown != (i >= 2) {
				t.Errorf("%q shown: %v, want %v", title, shown, i >= 2)
			}
		}
		if !strings.Contains(proposedPart, `<a href="/demands?status=proposed">All 8 proposed demands</a>`) {
			t.Errorf("no link to all eight proposed demands (seven, and the one under ballot):\n%s", proposedPart)
		}
		if strings.Index(proposedPart, "number 7</a>") > strings.Index(proposedPart, "number 6</a>") {
			t.Error("the proposed demands are not newest first")
		}
	})

	t.Run("once its ballot closes a demand is no longer shown as being voted on", func(t *testing.T) {
		for _, m := range co.members[:3] {
			if _, err := co.Gov.Vote(ctx, m.Member, ballot.ID, governance.ChoiceYes, ""); err != nil {
				t.Fatal(err)
			}
		}
		co.passClose(ballot)
		after := co.client().get(t, "/")
		if homeSection(after.Body, "ballot-h") != "" {
			t.Error("the group being voted on is still shown with no ballot open")
		}
		if !strings.Contains(homeSection(after.Body, "endorsed-h"), "Fund a platform co-op accelerator</a>") {
			t.Error("the demand the ballot endorsed is not among the endorsed")
		}
	})
}
