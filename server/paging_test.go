package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"plenary/governance"
)

func TestPagesClampAbsurdPageNumbers(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	p, err := a.Gov.Propose(ctx, ad.Member, governance.ProposalInput{Kind: governance.KindMotion, Title: "A motion", Opens: "now", Days: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Gov.Vote(ctx, ad.Member, p.ID, governance.ChoiceYes, ""); err != nil {
		t.Fatal(err)
	}
	a.Clock.Advance(8 * 24 * time.Hour)
	if err := a.Gov.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	admin := a.client()
	admin.login(t, ad)

	pages := []string{"/ledger", "/library", "/demands", "/proposals", "/admin/members", "/admin/library",
		"/api/v1/ledger", "/api/v1/proposals", "/api/v1/resources", "/api/v1/demands"}
	boxes := []string{fmt.Sprintf("/proposals/%d", p.ID), fmt.Sprintf("/api/v1/proposals/%d", p.ID)}
	absurd := map[string]int{
		"-1": 1, "0": 1, "abc": 1, "1e3": 1, "%00": 1, "": 1, "+-3": 1, "-99999999999999999999999": 1,
		"10000": 10000, "10001": 10000, "99999999999": 10000, "9223372036854775807": 10000, "99999999999999999999999999": 10000,
	}
	check := func(t *testing.T, path string, want int) {
		r := admin.get(t, path)
		if !r.wantStatus(t, http.StatusOK) {
			return
		}
		if !strings.HasPrefix(path, "/api/") {
			return
		}
		type pageMeta struct{ Page int }
		var body struct {
			Meta *pageMeta       `json:"meta"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		meta := body.Meta
		if meta == nil { // one proposal: the box has the page
			var one struct {
				BoxMeta *pageMeta `json:"box_meta"`
			}
			if err := json.Unmarshal(body.Data, &one); err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			meta = one.BoxMeta
		}
		if meta == nil || meta.Page != want {
			t.Errorf("%s: meta %+v, want page %d", r, meta, want)
		}
	}
	for raw, want := range absurd {
		for _, page := range pages {
			t.Run(page+"?page="+raw, func(t *testing.T) { check(t, page+"?page="+raw, want) })
		}
		for _, page := range boxes {
			t.Run(page+"?box_page="+raw, func(t *testing.T) { check(t, page+"?box_page="+raw, want) })
		}
	}
}
