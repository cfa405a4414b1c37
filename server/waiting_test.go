package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/library"
)

// Issue 16: an admin is told what needs them, on every page's navigation
// (applications beside Members, submissions beside Queue) and on the home
// page (those and the ballots closing today), with links; a member is not.
func TestAdminsAreToldWhatWaits(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	mo := a.addMember(t, ad, "Mo Member", "mo@example.org")
	admin, member := a.client(), a.client()
	admin.login(t, ad)
	member.login(t, mo)

	home := admin.get(t, "/")
	if strings.Contains(home.Body, "Needs you") || strings.Contains(home.Body, `class="waiting"`) {
		t.Error("with nothing waiting, the admin is told something waits")
	}

	a.addApplicant(t, "Ash Applicant", "ash@example.org")
	a.addApplicant(t, "Bo Applicant", "bo@example.org")
	ctx := context.Background()
	if _, err := a.Lib.SubmitResource(ctx, library.Viewer{ID: mo.ID, Active: true}, library.ResourceInput{Title: "A report to list",
		URL: "https://example.org/report", Format: "report"}); err != nil {
		t.Fatal(err)
	}
	// A ballot closing in an hour: today, as long as the test's clock is
	// not within an hour of midnight UTC, the admin's zone.
	if h := a.Clock.Now().UTC().Hour(); h == 23 {
		a.Clock.Advance(2 * time.Hour)
	}
	if err := a.Gov.SetRule(ctx, ad.Member, governance.RuleInput{Kind: governance.KindMotion, QuorumPct: "10", Threshold: governance.ThresholdMajority,
		MinMinutes: "60"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Gov.Propose(ctx, ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: "Closing soon",
		Opens: "now", Hours: "1"}); err != nil {
		t.Fatal(err)
	}

	home = admin.get(t, "/")
	for _, want := range []string{"Needs you", "2 applications to join waiting for a decision", "1 submission waiting in the library",
		"1 ballot closing today"} {
		home.wantText(t, want)
	}
	for _, want := range []string{`href="/admin/members?status=applicant"`, `Members <span class="waiting">2<span class="visually-hidden"> waiting</span>`,
		`Queue <span class="waiting">1<span class="visually-hidden"> waiting</span>`} {
		if !strings.Contains(home.Body, want) {
			t.Errorf("the admin's home page lacks %s", want)
		}
	}
	// Every page's navigation, not only the home page's.
	if !strings.Contains(admin.get(t, "/library").Body, `Members <span class="waiting">2`) {
		t.Error("the library page's navigation does not say applications wait")
	}
	if page := member.get(t, "/"); strings.Contains(page.Body, "Needs you") || strings.Contains(page.Body, `class="waiting"`) {
		t.Error("a member is told what waits for admins")
	}
}
