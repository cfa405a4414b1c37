package library

import (
	"context"
	"errors"
	"testing"
)

// The schema's triggers freeze what a ballot is about; the library turns
// their refusal into a message that says why.
func TestWhatIsUnderBallotDoesNotChange(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	addMember(t, s, 1)
	admin := Viewer{ID: 1, Active: true, Admin: true}
	guide := ResourceInput{Title: "A guide to co-op finance", URL: "https://example.org/guide", Format: "toolkit", Language: "en"}
	res := addListed(t, s, guide)
	dem, err := s.DraftDemand(ctx, admin, DemandInput{Title: "Fund co-ops", Body: "Public money for co-ops.", Audience: Audiences[0]})
	if err != nil {
		t.Fatal(err)
	}
	// Proposals about both in discussion, as governance puts them.
	_, err = s.db.W.Exec(`INSERT INTO proposals (kind, title, body, demand_id, resource_id, author_id, status, created_at, opens_at, closes_at)
		VALUES ('endorse_resource', 'Endorse the guide', '', NULL, ?, 1, 'discussion', '2026-11-01 12:00:00+00:00', '2026-11-02 12:00:00+00:00', '2026-11-05 12:00:00+00:00'),
		       ('endorse_demand', 'Endorse the demand', '', ?, NULL, 1, 'discussion', '2026-11-01 12:00:00+00:00', '2026-11-02 12:00:00+00:00', '2026-11-09 12:00:00+00:00')`,
		res, dem.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantRefused := func(t *testing.T, err error) {
		t.Helper()
		var v ValidationError
		if !errors.As(err, &v) || v[""] != errUnderBallot[""] {
			t.Errorf("err = %v, want the under-ballot refusal", err)
		}
	}

	t.Run("a resource's text", func(t *testing.T) {
		in := guide
		in.Title = "A different guide"
		_, err := s.UpdateResource(ctx, admin, res, in)
		wantRefused(t, err)
	})
	t.Run("a resource's status", func(t *testing.T) {
		wantRefused(t, s.SetResourceStatus(ctx, admin, res, StatusHidden))
	})
	t.Run("a demand's text", func(t *testing.T) {
		_, err := s.UpdateDemand(ctx, admin, dem.ID, DemandInput{Title: "Fund co-ops now", Body: "Public money for co-ops.", Audience: Audiences[0]})
		wantRefused(t, err)
	})

	r, err := s.Resource(ctx, admin, res)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Demand(ctx, dem.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != guide.Title || r.Status != StatusListed || d.Title != "Fund co-ops" {
		t.Errorf("after the refusals the resource is %q (%s) and the demand %q, want them unchanged", r.Title, r.Status, d.Title)
	}
}
