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

// TestLedgerReadsAsSentences: issue 16. The ledger says what happened in
// words, linking what each entry is about, and keeps the record its hashes
// cover whole, one disclosure away.
func TestLedgerReadsAsSentences(t *testing.T) {
	t.Parallel()
	w := newLibWorld(t)
	ctx := context.Background()
	p := w.putProposal(t, w.member, endorsing(w.demand))
	if err := w.Gov.SetRule(ctx, w.admin.Member, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "25",
		Threshold: governance.ThresholdMajority, MinMinutes: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Gov.SetRule(ctx, w.admin.Member, governance.RuleInput{Kind: governance.KindEndorseResource, QuorumPct: "10",
		Threshold: governance.ThresholdMajority, MinMinutes: "2"}); err != nil {
		t.Fatal(err)
	}
	// A reason that names another proposal, and tries markup, as a reader
	// might type it.
	cancelled := w.putProposal(t, w.member, motion("A motion to cancel", 7, w.Clock.Now().Add(48*time.Hour)))
	reason := `Duplicate of proposal 999 <a href="/evil">here</a>`
	if err := w.Gov.Cancel(ctx, w.admin.Member, cancelled.ID, reason); err != nil {
		t.Fatal(err)
	}
	page := w.client().get(t, "/ledger")
	page.wantStatus(t, 200)

	t.Run("an entry links the proposal, demand and resource it is about", func(t *testing.T) {
		for _, want := range []string{
			fmt.Sprintf(`<a href="/proposals/%d">Proposal %d</a> (endorse a demand) submitted by member %d, about <a href="/demands/%d">demand %d</a>`,
				p.ID, p.ID, w.member.ID, w.demand, w.demand),
			fmt.Sprintf(`Voting opened on <a href="/proposals/%d">proposal %d</a> with a roll of 3 members`, p.ID, p.ID),
			fmt.Sprintf(`<a href="/library/%d">Resource %d</a> listed in the library by member %d`, w.othersListed, w.othersListed, w.admin.ID),
			fmt.Sprintf(`<a href="/library/%d">Resource %d</a> hidden from the library by member %d`, w.hidden, w.hidden, w.admin.ID),
		} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the ledger lacks %s", want)
			}
		}
	})

	t.Run("links come from the entry's numbers, never from words typed into it", func(t *testing.T) {
		page.wantText(t, "cancelled by member "+itoa(w.admin.ID)+": "+reason)
		if strings.Contains(page.Body, `href="/proposals/999"`) || strings.Contains(page.Body, `href="/evil"`) {
			t.Error("a reason's words became a link")
		}
		if !strings.Contains(page.Body, fmt.Sprintf(`<a href="/proposals/%d">Proposal %d</a> cancelled`, cancelled.ID, cancelled.ID)) {
			t.Error("the cancelled proposal is not linked")
		}
	})

	t.Run("lengths are counted in words a person would write", func(t *testing.T) {
		page.wantText(t, "Rules for Motion set by member "+itoa(w.admin.ID)+": quorum 25%, simple majority, at least 1 minute, open ballot")
		page.wantText(t, "at least 2 minutes")
		if strings.Contains(page.Body, "1 minutes") {
			t.Error(`the ledger says "1 minutes"`)
		}
	})

	t.Run("each entry's exact JSON and hashes are behind a disclosure, and only there", func(t *testing.T) {
		entries, _, err := w.Gov.Ledger(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		outside := regexp.MustCompile(`(?s)<details class="record">.*?</details>`).ReplaceAllString(page.Body, "")
		for _, e := range entries {
			if strings.Contains(outside, escaped(e.Body)) {
				t.Errorf("entry %d's JSON is shown outside its record", e.Seq)
			}
			item := regexp.MustCompile(`(?s)<li id="entry-` + itoa(e.Seq) + `">(.*?)</li>`).FindStringSubmatch(page.Body)
			if item == nil {
				t.Errorf("no entry %d on the page", e.Seq)
				continue
			}
			record := regexp.MustCompile(`(?s)<details class="record">(.*?)</details>`).FindStringSubmatch(item[1])
			if record == nil {
				t.Errorf("entry %d has no record to disclose", e.Seq)
				continue
			}
			for name, v := range map[string]string{"JSON": e.Body, "hash": e.Hash, "previous hash": e.PrevHash} {
				if !strings.Contains(record[1], "<code"+codeClass(name)+">"+escaped(v)+"</code>") {
					t.Errorf("entry %d's record lacks its %s %s", e.Seq, name, v)
				}
			}
		}
	})
}

func codeClass(name string) string {
	if name == "JSON" {
		return ` class="body"`
	}
	return ""
}
