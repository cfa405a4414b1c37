package governance_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/internal/content"
	"plenary/library"
)

// What a ballot decided stays decided (issue 10 §2): an endorsed resource
// or demand changes only through an amendment or a withdrawal ballot, its
// digest is on the ledger, and a change behind Plenary's back is found.

// endorseResource lists a resource and carries a ballot endorsing it.
func (c *coop) endorseResource(t *testing.T, title string) library.Resource {
	t.Helper()
	r := c.resource(t, title)
	p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse " + title,
		ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"})
	c.vote(t, c.admin, p, governance.ChoiceYes)
	c.finish(t, p)
	r = c.getResource(t, r.ID)
	if !r.Endorsed() {
		t.Fatalf("resource %d is not endorsed after a carried ballot", r.ID)
	}
	return r
}

// endorseDemand drafts a demand citing supporting and carries a ballot
// endorsing it.
func (c *coop) endorseDemand(t *testing.T, title string, supporting ...int64) library.Demand {
	t.Helper()
	var refs []string
	for _, id := range supporting {
		refs = append(refs, fmt.Sprint(id))
	}
	d, err := c.lib.DraftDemand(c.ctx, library.Viewer{ID: c.admin.ID, Active: true, Admin: true}, library.DemandInput{
		Title: title, Body: "Public bodies should buy from platform co-ops.", Audience: "local government", Resources: strings.Join(refs, ", ")})
	if err != nil {
		t.Fatalf("draft demand: %v", err)
	}
	p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse " + title,
		DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7"})
	c.vote(t, c.admin, p, governance.ChoiceYes)
	c.finish(t, p)
	if d = c.getDemand(t, d.ID); d.Status != library.DemandEndorsed {
		t.Fatalf("demand %d is %s after a carried ballot", d.ID, d.Status)
	}
	return d
}

func (c *coop) wantEndorsementOK(t *testing.T, what string, id int64) governance.Endorsement {
	t.Helper()
	e, err := c.s.CheckEndorsement(c.ctx, what, id)
	if err != nil || !e.OK() {
		t.Fatalf("%s %d: %+v, %v; want its content to match the ledger", what, id, e, err)
	}
	if n := c.count(t, `SELECT count(*) FROM applying`); n != 0 {
		t.Fatalf("%d permits to change endorsed content were left after the close", n)
	}
	return e
}

func TestEndorsementRecordsTheDigest(t *testing.T) {
	c := newCoop(t)
	r := c.endorseResource(t, "Ours to Share")
	want := library.ContentOf(r).Digest()
	if r.EndorsedDigest == nil || *r.EndorsedDigest != want {
		t.Errorf("endorsed_digest = %v, want %s", r.EndorsedDigest, want)
	}
	e := c.wantEndorsementOK(t, "resource", r.ID)
	if e.Ledger != want {
		t.Errorf("the ledger's digest is %s, want %s", e.Ledger, want)
	}
	effect := c.oneEntry(t, governance.EventEffectApplied, c.proposal(t, *r.EndorsedBy))
	if effect["digest"] != want {
		t.Errorf("effect.applied = %v, want the digest %s", effect, want)
	}

	d := c.endorseDemand(t, "Open procurement", r.ID)
	wantD := content.Demand{Title: d.Title, Body: d.Body, Audience: d.Audience, Resources: []int64{r.ID}}.Digest()
	if d.EndorsedDigest == nil || *d.EndorsedDigest != wantD {
		t.Errorf("the demand's endorsed_digest = %v, want %s", d.EndorsedDigest, wantD)
	}
	c.wantEndorsementOK(t, "demand", d.ID)

	if _, err := c.s.CheckEndorsement(c.ctx, "resource", c.resource(t, "Not endorsed").ID); !errors.Is(err, governance.ErrNotEndorsed) {
		t.Errorf("checking a resource not endorsed: %v, want ErrNotEndorsed", err)
	}
	if _, err := c.s.CheckEndorsement(c.ctx, "demand", 999); !errors.Is(err, governance.ErrNotFound) {
		t.Errorf("checking no demand: %v, want ErrNotFound", err)
	}
	all, err := c.s.CheckEndorsements(c.ctx)
	if err != nil || len(all) != 2 || !all[0].OK() || !all[1].OK() {
		t.Errorf("CheckEndorsements = %+v, %v; want two that match", all, err)
	}
}

func TestEndorsedContentIsFrozen(t *testing.T) {
	c := newCoop(t)
	submitter := c.quickMembers(t, 1)[0]
	sub := library.Viewer{ID: submitter.ID, Active: true}
	admin := library.Viewer{ID: c.admin.ID, Active: true, Admin: true}
	mine, err := c.lib.SubmitResource(c.ctx, sub, library.ResourceInput{Title: "The member's report", URL: "https://example.org/mine", Format: "report"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.lib.SetResourceStatus(c.ctx, admin, mine.ID, library.StatusListed); err != nil {
		t.Fatal(err)
	}
	p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse it",
		ResourceID: fmt.Sprint(mine.ID), Opens: "now", Days: "3"})
	c.vote(t, c.admin, p, governance.ChoiceYes)
	c.finish(t, p)
	r := c.getResource(t, mine.ID)
	d := c.endorseDemand(t, "Open procurement", r.ID)

	edit := library.InputOf(r)
	edit.Title = "Quietly retitled"
	for _, try := range []struct {
		name string
		err  error
		want library.ValidationError
	}{
		{"an admin edits the resource", func() error { _, err := c.lib.UpdateResource(c.ctx, admin, r.ID, edit); return err }(), library.ErrEndorsedResource},
		{"its submitter edits the resource", func() error { _, err := c.lib.UpdateResource(c.ctx, sub, r.ID, edit); return err }(), library.ErrEndorsedResource},
		{"an admin hides the resource", c.lib.SetResourceStatus(c.ctx, admin, r.ID, library.StatusHidden), library.ErrEndorsedResource},
		{"an admin returns it to the queue", c.lib.SetResourceStatus(c.ctx, admin, r.ID, library.StatusPending), library.ErrEndorsedResource},
		{"an admin edits the demand", func() error {
			in := library.InputOfDemand(d)
			in.Body = "Something else entirely."
			_, err := c.lib.UpdateDemand(c.ctx, admin, d.ID, in)
			return err
		}(), library.ErrEndorsedDemand},
	} {
		var v library.ValidationError
		if !errors.As(try.err, &v) || v[""] != try.want[""] {
			t.Errorf("%s: %v, want %q", try.name, try.err, try.want[""])
		}
	}
	if !strings.Contains(library.ErrEndorsedResource[""], "propose an amendment, or propose withdrawing the endorsement") {
		t.Errorf("the refusal does not say how: %q", library.ErrEndorsedResource[""])
	}

	// The database refuses on its own, whatever the Go code does.
	for _, q := range []string{
		`UPDATE resources SET title = 'Behind its back' WHERE id = ?`,
		`UPDATE resources SET status = 'hidden' WHERE id = ?`,
		`UPDATE resources SET summary = 'x', endorsed_digest = NULL, endorsed_at = NULL, endorsed_by = NULL WHERE id = ?`,
		`DELETE FROM resources WHERE id = ?`,
	} {
		if _, err := c.d.W.ExecContext(c.ctx, q, r.ID); err == nil || !strings.Contains(err.Error(), "plenary: endorsed by ballot") {
			t.Errorf("%s: %v, want the freeze's refusal", q, err)
		}
	}
	for _, q := range []string{
		`UPDATE demands SET body = 'Behind its back' WHERE id = ?`,
		`UPDATE demands SET status = 'withdrawn', endorsed_at = NULL, endorsed_by = NULL, endorsed_digest = NULL WHERE id = ?`,
		`DELETE FROM demand_resources WHERE demand_id = ?`,
		`INSERT INTO demand_resources (demand_id, resource_id, position) VALUES (?, 1, 9)`,
	} {
		if _, err := c.d.W.ExecContext(c.ctx, q, d.ID); err == nil || !strings.Contains(err.Error(), "plenary: endorsed by ballot") {
			t.Errorf("%s: %v, want the freeze's refusal", q, err)
		}
	}
	// The permit is only a carried withdrawal's or amendment's: the
	// endorsement ballot itself, and a motion, are refused it.
	motionP := c.propose(t, c.admin, motion("Anything"))
	for _, id := range []int64{*r.EndorsedBy, motionP.ID} {
		if _, err := c.d.W.ExecContext(c.ctx, `INSERT INTO applying (proposal_id) VALUES (?)`, id); err == nil ||
			!strings.Contains(err.Error(), "plenary: only a carried ballot applies") {
			t.Errorf("a permit for proposal %d: %v, want it refused", id, err)
		}
	}
	after := c.dump(t)
	if strings.Count(after, "Quietly retitled")+strings.Count(after, "Behind its back") > 0 {
		t.Errorf("a refused change was stored")
	}
	if r2 := c.getResource(t, r.ID); r2.Title != r.Title || r2.Status != library.StatusListed || !r2.Endorsed() {
		t.Errorf("the resource is %+v after the refusals", r2)
	}
	if d2 := c.getDemand(t, d.ID); d2.Body != d.Body || d2.Status != library.DemandEndorsed || len(d2.Resources) != 1 {
		t.Errorf("the demand is %+v after the refusals", d2)
	}
	c.wantEndorsementOK(t, "resource", r.ID)
	c.wantEndorsementOK(t, "demand", d.ID)
}

func amendResource(r library.Resource, edit func(*library.ResourceInput)) governance.ProposalInput {
	to := library.InputOf(r)
	edit(&to)
	return governance.ProposalInput{Kind: governance.KindAmendResource, Title: "Amend " + r.Title, ResourceID: fmt.Sprint(r.ID),
		Opens: "now", Days: "3", Resource: &to}
}

func TestAmendmentChangesWhatWasEndorsed(t *testing.T) {
	c := newCoop(t)
	r := c.endorseResource(t, "Ours to Share")
	old := c.wantEndorsementOK(t, "resource", r.ID)

	p := c.propose(t, c.admin, amendResource(r, func(in *library.ResourceInput) {
		in.Title, in.Summary, in.Year = "Ours to Share (2nd edition)", "A corrected summary.", "2019"
	}))
	var changed []string
	for _, ch := range p.Changes() {
		if ch.Changed {
			changed = append(changed, fmt.Sprintf("%s: %q → %q", ch.Field, ch.Before, ch.After))
		}
	}
	if got := strings.Join(changed, "; "); got != `Title: "Ours to Share" → "Ours to Share (2nd edition)"; Year: "" → "2019"; Summary: "" → "A corrected summary."` {
		t.Errorf("the proposal's changes: %s", got)
	}
	// Nothing changes while the ballot runs.
	if got := c.getResource(t, r.ID); got.Title != r.Title {
		t.Errorf("the title changed before the ballot closed: %q", got.Title)
	}
	c.vote(t, c.admin, p, governance.ChoiceYes)
	p = c.finish(t, p)

	got := c.getResource(t, r.ID)
	if got.Title != "Ours to Share (2nd edition)" || got.Summary != "A corrected summary." || got.Year == nil || *got.Year != 2019 || !got.Endorsed() {
		t.Errorf("the resource after the amendment carried: %+v", got)
	}
	e := c.wantEndorsementOK(t, "resource", r.ID)
	if e.Ledger == old.Ledger || e.Ledger != library.ContentOf(got).Digest() || e.LedgerSeq <= old.LedgerSeq {
		t.Errorf("the digest did not follow the amendment: before %+v, after %+v", old, e)
	}
	effect := c.oneEntry(t, governance.EventEffectApplied, p)
	if effect["effect"] != "resource amended" || effect["digest"] != e.Ledger || effect["resource"] != float64(r.ID) {
		t.Errorf("effect.applied = %v", effect)
	}
	// The search index follows the amended title (FTS5: SQLite only).
	if !c.d.IsPostgres() {
		res, err := c.lib.Search(c.ctx, library.Query{Text: "edition"})
		if err != nil || res.Total != 1 {
			t.Errorf("searching the amended title: %d found, %v", res.Total, err)
		}
	}

	t.Run("a defeated amendment changes nothing", func(t *testing.T) {
		before := c.getResource(t, r.ID)
		p := c.propose(t, c.admin, amendResource(before, func(in *library.ResourceInput) { in.Title = "Rejected title" }))
		c.vote(t, c.admin, p, governance.ChoiceNo)
		c.finish(t, p)
		if got := c.getResource(t, r.ID); got.Title != before.Title {
			t.Errorf("a defeated amendment applied: %q", got.Title)
		}
		c.wantEndorsementOK(t, "resource", r.ID)
	})

	t.Run("withdrawing the endorsement lifts the freeze", func(t *testing.T) {
		p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindWithdraw, Title: "Withdraw", ResourceID: fmt.Sprint(r.ID),
			Opens: "now", Days: "7"})
		c.vote(t, c.admin, p, governance.ChoiceYes)
		c.finish(t, p)
		got := c.getResource(t, r.ID)
		if got.Endorsed() || got.EndorsedDigest != nil {
			t.Fatalf("after the withdrawal: endorsed %v, digest %v", got.EndorsedAt, got.EndorsedDigest)
		}
		in := library.InputOf(got)
		in.Title = "Edited once more"
		if _, err := c.lib.UpdateResource(c.ctx, library.Viewer{ID: c.admin.ID, Active: true, Admin: true}, r.ID, in); err != nil {
			t.Errorf("an admin edits the resource no longer endorsed: %v", err)
		}
		if _, err := c.s.CheckEndorsement(c.ctx, "resource", r.ID); !errors.Is(err, governance.ErrNotEndorsed) {
			t.Errorf("CheckEndorsement after the withdrawal: %v", err)
		}
		if n := c.count(t, `SELECT count(*) FROM applying`); n != 0 {
			t.Errorf("the withdrawal left %d permits", n)
		}

		// A permit left behind (written by hand: a close never commits
		// one) fails the check of every endorsement.
		c.d.W.MustExec(`INSERT INTO applying (proposal_id) VALUES (?)`, p.ID)
		if _, err := c.s.CheckEndorsements(c.ctx); err == nil || !strings.Contains(err.Error(), "outside a ballot's close") {
			t.Errorf("CheckEndorsements with a permit left behind: %v", err)
		}
		c.d.W.MustExec(`DELETE FROM applying`)
	})
}

func TestAmendDemand(t *testing.T) {
	c := newCoop(t)
	a, b := c.resource(t, "First report"), c.resource(t, "Second report")
	d := c.endorseDemand(t, "Open procurement", a.ID)

	to := library.InputOfDemand(d)
	to.Body, to.Resources = "Public bodies should buy from platform co-ops, and say so each year.", fmt.Sprintf("%d, %d", b.ID, a.ID)
	p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindAmendDemand, Title: "Amend the demand",
		DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7", Demand: &to})
	c.vote(t, c.admin, p, governance.ChoiceYes)
	c.finish(t, p)
	got := c.getDemand(t, d.ID)
	if got.Body != to.Body || fmt.Sprint(got.Resources) != fmt.Sprint([]int64{b.ID, a.ID}) || got.Status != library.DemandEndorsed {
		t.Errorf("the demand after the amendment: %+v", got)
	}
	c.wantEndorsementOK(t, "demand", d.ID)

	t.Run("a stale amendment is recorded and not applied", func(t *testing.T) {
		// The amendment cites resource b; b is hidden while the vote runs,
		// so what was proposed can no longer be applied as proposed.
		cur := c.getDemand(t, d.ID)
		to := library.InputOfDemand(cur)
		to.Title = "Open public procurement"
		p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindAmendDemand, Title: "Retitle",
			DemandID: fmt.Sprint(d.ID), Opens: "now", Days: "7", Demand: &to})
		c.vote(t, c.admin, p, governance.ChoiceYes)
		c.d.W.MustExec(`UPDATE resources SET status = 'hidden' WHERE id = ?`, b.ID) // b is not endorsed: an admin may hide it
		p = c.finish(t, p)
		if got := c.getDemand(t, d.ID); got.Title != cur.Title {
			t.Errorf("a stale amendment applied: %q", got.Title)
		}
		skipped := c.oneEntry(t, governance.EventEffectSkipped, p)
		if !strings.Contains(fmt.Sprint(skipped["effect"]), "stale") {
			t.Errorf("effect.skipped = %v, want it to say the amendment was stale", skipped)
		}
		c.wantEndorsementOK(t, "demand", d.ID)
	})
}

func TestAmendmentInput(t *testing.T) {
	c := newCoop(t)
	r := c.endorseResource(t, "Ours to Share")
	listed := c.resource(t, "Not endorsed")
	d := c.demand(t, c.admin, "Proposed only")
	before := c.dump(t)
	for _, tt := range []struct {
		name  string
		in    governance.ProposalInput
		field string
	}{
		{"no change at all", amendResource(r, func(*library.ResourceInput) {}), ""},
		{"an empty title", amendResource(r, func(in *library.ResourceInput) { in.Title = "  " }), "to_title"},
		{"an oversized summary", amendResource(r, func(in *library.ResourceInput) { in.Summary = strings.Repeat("x", library.MaxSummaryLen+1) }), "to_summary"},
		{"a javascript link", amendResource(r, func(in *library.ResourceInput) { in.URL = "javascript:alert(1)" }), "to_url"},
		{"a resource not endorsed", amendResource(listed, func(in *library.ResourceInput) { in.Title = "Other" }), "resource_id"},
		{"no such resource", func() governance.ProposalInput {
			in := amendResource(r, func(in *library.ResourceInput) { in.Title = "Other" })
			in.ResourceID = "999999"
			return in
		}(), "resource_id"},
		{"no corrected text", governance.ProposalInput{Kind: governance.KindAmendResource, Title: "Amend", ResourceID: fmt.Sprint(r.ID), Opens: "now", Days: "3"}, "to_title"},
		{"a demand not endorsed", governance.ProposalInput{Kind: governance.KindAmendDemand, Title: "Amend", DemandID: fmt.Sprint(d.ID),
			Opens: "now", Days: "7", Demand: &library.DemandInput{Title: "T", Body: "B", Audience: "unions"}}, "demand_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.s.Propose(c.ctx, c.admin, tt.in)
			var v governance.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("Propose: %v, want a ValidationError", err)
			}
			if _, ok := v[tt.field]; !ok {
				t.Errorf("Propose: %v, want a message for %q", v, tt.field)
			}
		})
	}
	if after := c.dump(t); after != before {
		t.Errorf("a refused amendment changed the database")
	}
}

// Tampering: a change made in the file behind Plenary's back, with the
// freeze's triggers dropped, is found by the check.
func TestTamperedContentFailsVerification(t *testing.T) {
	c := newCoop(t)
	r := c.endorseResource(t, "Ours to Share")
	d := c.endorseDemand(t, "Open procurement")
	for table, trigger := range map[string]string{"resources": "resources_endorsed_frozen", "demands": "demands_endorsed_frozen"} {
		if c.d.IsPostgres() {
			c.d.W.MustExec(`DROP TRIGGER ` + trigger + ` ON ` + table)
		} else {
			c.d.W.MustExec(`DROP TRIGGER ` + trigger)
		}
	}
	c.d.W.MustExec(`UPDATE resources SET summary = 'Tampered' WHERE id = ?`, r.ID)
	c.d.W.MustExec(`UPDATE demands SET body = 'Tampered', endorsed_digest = ? WHERE id = ?`,
		content.Demand{Title: d.Title, Body: "Tampered", Audience: d.Audience, Resources: []int64{}}.Digest(), d.ID)
	for _, it := range []struct {
		what string
		id   int64
	}{{"resource", r.ID}, {"demand", d.ID}} {
		e, err := c.s.CheckEndorsement(c.ctx, it.what, it.id)
		if err != nil || e.OK() || !strings.Contains(e.Problem(), "does not match the digest on the ledger") {
			t.Errorf("%s %d after tampering: %+v (%q), %v; want a mismatch", it.what, it.id, e, e.Problem(), err)
		}
	}
	// The ledger's chain itself is intact: only the content moved.
	if _, _, err := c.s.VerifyLedger(c.ctx); err != nil {
		t.Errorf("VerifyLedger: %v", err)
	}
}

// A demand adopted by ballot is endorsed from birth, digest and all.
func TestAdoptedDemandHasItsDigest(t *testing.T) {
	c := newCoop(t)
	p := c.propose(t, c.admin, governance.ProposalInput{Kind: governance.KindAdoptDemand, Title: "Adopt", Opens: "now", Days: "7",
		NewTitle: "Tax relief for co-ops", NewBody: "Extend relief to co-ops.", NewAudience: "national government"})
	c.vote(t, c.admin, p, governance.ChoiceYes)
	p = c.finish(t, p)
	if p.DemandID == nil {
		t.Fatal("the adopted demand's number was not recorded")
	}
	e := c.wantEndorsementOK(t, "demand", *p.DemandID)
	if effect := c.oneEntry(t, governance.EventEffectApplied, p); effect["digest"] != e.Ledger {
		t.Errorf("effect.applied = %v, want the digest %s", effect, e.Ledger)
	}
}
