package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"plenary/governance"
	"plenary/library"
)

// What a ballot decided stays decided (issue 10 §2), through real HTTP: an
// endorsed resource and demand cannot be changed by an admin or by their
// submitter, the pages and the API show their digest against the ledger,
// and an amendment ballot is the way to change them.

// carry puts in to a ballot in which every member votes yes, and closes it.
func (w *libWorld) carry(t *testing.T, in governance.ProposalInput) governance.Proposal {
	t.Helper()
	ctx := context.Background()
	p, err := w.Gov.Propose(ctx, w.admin.Member, in)
	if err != nil {
		t.Fatalf("propose %q: %v", in.Title, err)
	}
	for _, u := range []user{w.admin, w.member, w.other} {
		if _, err := w.Gov.Vote(ctx, u.Member, p.ID, governance.ChoiceYes, ""); err != nil {
			t.Fatalf("vote: %v", err)
		}
	}
	w.Clock.Advance(p.ClosesAt.Sub(w.Clock.Now()))
	if err := w.Gov.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// apiEndorsement reads an item's endorsement check from the public API.
func (w *libWorld) apiEndorsement(t *testing.T, path string) (data map[string]any, e map[string]any) {
	t.Helper()
	r := w.client().get(t, path)
	r.wantStatus(t, http.StatusOK)
	var out struct {
		Data        map[string]any `json:"data"`
		Endorsement map[string]any `json:"endorsement"`
	}
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.Data, out.Endorsement
}

func TestEndorsedStaysDecidedOverHTTP(t *testing.T) {
	w := newLibWorld(t)
	rid, did := w.pending, w.demand
	rpath, dpath := "/library/"+strconv.FormatInt(rid, 10), "/demands/"+strconv.FormatInt(did, 10)

	// The admin lists the member's resource from the queue: on the ledger.
	w.adminC.submit(t, "/admin/library", "/admin/library/"+strconv.FormatInt(rid, 10)+"/status",
		form("status", library.StatusListed, "back", "/admin/library")).wantRedirect(t, "/admin/library")
	w.carry(t, governance.ProposalInput{Kind: governance.KindEndorseResource, Title: "Endorse it", ResourceID: fmt.Sprint(rid), Opens: "now", Days: "3"})
	w.carry(t, governance.ProposalInput{Kind: governance.KindEndorseDemand, Title: "Endorse the demand", DemandID: fmt.Sprint(did), Opens: "now", Days: "7"})

	t.Run("the pages and the API show the digest and that it matches the ledger", func(t *testing.T) {
		for _, path := range []string{rpath, dpath} {
			page := w.client().get(t, path)
			page.wantStatus(t, http.StatusOK)
			page.wantText(t, "it matches the digest recorded on the")
			page.wantText(t, "so this is the text the members endorsed")
		}
		for _, path := range []string{"/api/v1/resources/" + strconv.FormatInt(rid, 10), "/api/v1/demands/" + strconv.FormatInt(did, 10)} {
			data, e := w.apiEndorsement(t, path)
			if e == nil || e["matches_ledger"] != true || e["digest"] != data["endorsed_digest"] || e["ledger_digest"] != e["digest"] {
				t.Errorf("%s: endorsement %v, data's digest %v", path, e, data["endorsed_digest"])
			}
		}
		_, e := w.apiEndorsement(t, "/api/v1/resources/"+strconv.FormatInt(w.othersListed, 10))
		if e != nil {
			t.Errorf("a resource not endorsed has an endorsement: %v", e)
		}
	})

	t.Run("an admin and the submitter are refused, told how, and nothing changes", func(t *testing.T) {
		before := w.snapshot(t)
		const msgR = "This resource was endorsed by ballot; to change it, propose an amendment, or propose withdrawing the endorsement."
		const msgD = "This demand was endorsed by ballot; to change it, propose an amendment, or propose withdrawing the endorsement."
		for _, c := range []*client{w.adminC, w.memberC} {
			g := c.get(t, rpath+"/edit")
			g.wantStatus(t, http.StatusForbidden)
			g.wantText(t, msgR)
			r := c.submit(t, rpath, rpath+"/edit", validResource("Retitled by hand"))
			r.wantStatus(t, http.StatusUnprocessableEntity)
			r.wantText(t, msgR)
			g = c.get(t, dpath+"/edit")
			g.wantStatus(t, http.StatusForbidden)
			g.wantText(t, msgD)
			r = c.submit(t, dpath, dpath+"/edit", validDemand("Rewritten by hand", w.othersListed))
			r.wantStatus(t, http.StatusUnprocessableEntity)
			r.wantText(t, msgD)
		}
		for _, status := range []string{library.StatusHidden, library.StatusPending} {
			r := w.adminC.submit(t, rpath, "/admin/library/"+strconv.FormatInt(rid, 10)+"/status", form("status", status, "back", rpath))
			r.wantStatus(t, http.StatusUnprocessableEntity)
			r.wantText(t, msgR)
		}
		page := w.adminC.get(t, rpath)
		if strings.Contains(page.Body, `value="hidden"`) || strings.Contains(page.Body, rpath+`/edit"`) {
			t.Errorf("the endorsed resource's page still offers the admin Hide or Edit")
		}
		page.wantText(t, "Propose an amendment")
		w.wantUnchanged(t, before)
		_, e := w.apiEndorsement(t, "/api/v1/resources/"+strconv.FormatInt(rid, 10))
		if e["matches_ledger"] != true {
			t.Errorf("after the refusals the API says %v", e)
		}
	})

	t.Run("hostile amendments are refused and store nothing", func(t *testing.T) {
		amendPage := "/proposals/amend?resource=" + strconv.FormatInt(rid, 10)
		w.memberC.get(t, amendPage).wantStatus(t, http.StatusOK)
		base := form("kind", governance.KindAmendResource, "resource_id", strconv.FormatInt(rid, 10), "title", "Amend it",
			"opens", "now", "days", "3", "hours", "0", "minutes", "0", "to_title", "Corrected title", "to_url", "https://example.org/corrected",
			"to_format", "report", "to_language", "en")
		demandBase := form("kind", governance.KindAmendDemand, "demand_id", strconv.FormatInt(did, 10), "title", "Amend the demand",
			"opens", "now", "days", "7", "hours", "0", "minutes", "0", "to_title", "Corrected demand", "to_body", "Councils should buy co-op.",
			"to_audience", "local government", "to_resources", strconv.FormatInt(w.othersListed, 10))
		before := w.snapshot(t)
		for _, c := range []struct {
			name   string
			values url.Values
			field  string // the input whose message is shown; "" for the form's
		}{
			{"an empty title", changed(base, "to_title", ""), "f-to_title"},
			{"an oversized summary", changed(base, "to_summary", libLong), "f-to_summary"},
			{"markup for a link", changed(base, "to_url", libImg), "f-to_url"},
			{"markup for a year", changed(base, "to_year", libScript), "f-to_year"},
			{"a proposal title of markup too long", changed(base, "title", strings.Repeat(libScript, 20)), "f-title"},
			{"a resource not endorsed", changed(base, "resource_id", strconv.FormatInt(w.othersListed, 10)), ""},
			{"a hidden resource", changed(base, "resource_id", strconv.FormatInt(w.hidden, 10)), ""},
			{"no resource at all", changed(base, "resource_id", "1 OR 1=1"), ""},
			{"another kind through this form", changed(base, "kind", governance.KindMotion), ""},
			{"a demand not endorsed", changed(demandBase, "demand_id", strconv.FormatInt(w.othersDemand, 10)), ""},
			{"a demand citing a hidden resource", changed(demandBase, "to_resources", strconv.FormatInt(w.hidden, 10)), "f-to_resources"},
			{"a demand addressed to nobody", changed(demandBase, "to_audience", libSQL), "f-to_audience"},
			{"an empty demand", changed(demandBase, "to_body", "   "), "f-to_body"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := w.memberC.submit(t, amendPage, "/proposals/amend", c.values)
				r.wantStatus(t, http.StatusUnprocessableEntity)
				if c.field != "" && !strings.Contains(r.Body, `id="`+c.field+`-error"`) {
					t.Errorf("no message beside %s:\n%s", c.field, errorsIn(r.Body))
				}
				if strings.Contains(r.Body, "<script>alert(1)</script>") || strings.Contains(r.Body, `<img src=x`) {
					t.Errorf("the page shows the markup unescaped")
				}
			})
		}
		// The unchanged amendment: every field as endorsed.
		r := w.memberC.get(t, amendPage)
		same := form("kind", governance.KindAmendResource, "resource_id", strconv.FormatInt(rid, 10), "title", "No change",
			"opens", "now", "days", "3", "hours", "0", "minutes", "0")
		for _, f := range []string{"to_title", "to_url", "to_authors", "to_publisher", "to_year", "to_format", "to_language",
			"to_region", "to_topics", "to_licence", "to_summary", "to_doi", "to_isbn"} {
			same.Set(f, inputValue(r.Body, f))
		}
		r = w.memberC.submit(t, amendPage, "/proposals/amend", same)
		r.wantStatus(t, http.StatusUnprocessableEntity)
		r.wantText(t, "The amendment changes nothing")
		w.wantUnchanged(t, before)
	})

	t.Run("an amendment ballot changes it, and the digest follows", func(t *testing.T) {
		_, old := w.apiEndorsement(t, "/api/v1/resources/"+strconv.FormatInt(rid, 10))
		amendPage := "/proposals/amend?resource=" + strconv.FormatInt(rid, 10)
		page := w.memberC.get(t, amendPage)
		values := form("kind", governance.KindAmendResource, "resource_id", strconv.FormatInt(rid, 10), "title", "Correct the title",
			"body", "The endorsed title had a typo.", "opens", "now", "days", "3", "hours", "0", "minutes", "0")
		for _, f := range []string{"to_title", "to_url", "to_authors", "to_publisher", "to_year", "to_format", "to_language",
			"to_region", "to_topics", "to_licence", "to_summary", "to_doi", "to_isbn"} {
			values.Set(f, inputValue(page.Body, f))
		}
		oldTitle := values.Get("to_title")
		values.Set("to_title", "Member's corrected report")
		r := w.memberC.submit(t, amendPage, "/proposals/amend", values)
		if !r.wantStatus(t, http.StatusSeeOther) {
			t.Fatalf("%s", errorsIn(r.Body))
		}
		ppath := r.Location()
		show := w.memberC.get(t, ppath)
		show.wantText(t, "The amendment, field by field")
		show.wantText(t, oldTitle)
		show.wantText(t, "Member's corrected report")
		id, _ := strconv.ParseInt(strings.TrimPrefix(ppath, "/proposals/"), 10, 64)
		p, err := w.Gov.Proposal(context.Background(), &w.admin.Member, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []user{w.admin, w.member, w.other} {
			if _, err := w.Gov.Vote(context.Background(), u.Member, p.ID, governance.ChoiceYes, ""); err != nil {
				t.Fatal(err)
			}
		}
		w.Clock.Advance(p.ClosesAt.Sub(w.Clock.Now()))
		w.client().get(t, ppath).wantText(t, "carried") // reading the proposal closes its ballot
		res := w.client().get(t, rpath)
		res.wantText(t, "Member's corrected report")
		res.wantText(t, "it matches the digest recorded on the")
		data, e := w.apiEndorsement(t, "/api/v1/resources/"+strconv.FormatInt(rid, 10))
		if data["title"] != "Member's corrected report" || e["matches_ledger"] != true || e["digest"] == old["digest"] {
			t.Errorf("after the amendment: title %v, endorsement %v (before %v)", data["title"], e, old)
		}
		var api struct {
			Data struct {
				Amendment struct {
					From, To map[string]any
				} `json:"amendment"`
			} `json:"data"`
		}
		r = w.client().get(t, fmt.Sprintf("/api/v1/proposals/%d", id))
		if err := json.Unmarshal([]byte(r.Body), &api); err != nil || api.Data.Amendment.To["title"] != "Member's corrected report" ||
			api.Data.Amendment.From["title"] != oldTitle {
			t.Errorf("the API's amendment: %+v, %v", api.Data.Amendment, err)
		}
		// The ledger writes each entry as a sentence linking what it is
		// about (issue 16): the same words, the proposal and the resource
		// as links.
		ledger := w.client().get(t, "/ledger")
		for _, want := range []string{
			fmt.Sprintf(`<a href="/proposals/%d">Proposal %d</a>: resource amended; content digest %s`, id, id, e["digest"]),
			fmt.Sprintf(`<a href="/library/%d">Resource %d</a> listed in the library by member %d`, rid, rid, w.admin.ID),
		} {
			if !strings.Contains(ledger.Body, want) {
				t.Errorf("the ledger does not say %s", want)
			}
		}
	})
}

// inputValue is the value of the form input or textarea named name.
func inputValue(body, name string) string {
	if i := strings.Index(body, `name="`+name+`"`); i >= 0 {
		rest := body[i:]
		if strings.HasPrefix(body[strings.LastIndex(body[:i], "<"):], "<textarea") {
			start := strings.Index(rest, ">") + 1
			return htmlUnescape(rest[start : start+strings.Index(rest[start:], "</textarea>")])
		}
		if strings.HasPrefix(body[strings.LastIndex(body[:i], "<"):], "<select") {
			sel := rest[:strings.Index(rest, "</select>")]
			if j := strings.Index(sel, " selected"); j >= 0 {
				k := strings.LastIndex(sel[:j], `value="`) + len(`value="`)
				return htmlUnescape(sel[k : k+strings.Index(sel[k:], `"`)])
			}
			return ""
		}
		if j := strings.Index(rest, `value="`); j >= 0 {
			j += len(`value="`)
			return htmlUnescape(rest[j : j+strings.Index(rest[j:], `"`)])
		}
	}
	return ""
}

var htmlUnescape = html.UnescapeString
