package library

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

func newService(t testing.TB) *Service {
	t.Helper()
	return New(dbtest.Open(t), func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) })
}

// addListed puts a listed resource straight into the library, as an admin's
// import would.
func addListed(t testing.TB, s *Service, in ResourceInput) int64 {
	t.Helper()
	return seedResource(t, s, StatusListed, in)
}

// addMember makes member number id exist, for resources' added_by.
func addMember(t testing.TB, s *Service, id int64) {
	t.Helper()
	_, err := s.db.W.Exec(`INSERT INTO members (id, name, email, password_hash, status, applied_at)
		VALUES (?, 'Member', 'm' || ? || '@example.org', 'x', 'active', '2026-01-01 00:00:00+00:00')`, id, id)
	if err != nil {
		t.Fatal(err)
	}
}

func titles(rs []Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Title
	}
	return out
}

func TestSearchRanking(t *testing.T) {
	s := newService(t)
	summaryHit := addListed(t, s, ResourceInput{Title: "Worker ownership in practice", URL: "https://example.org/a", Format: "report",
		Summary: "A long study that mentions federation once among many other things about co-ops and their members."})
	titleHit := addListed(t, s, ResourceInput{Title: "Federation of platform co-ops", URL: "https://example.org/b", Format: "report",
		Summary: "How co-ops share."})
	addListed(t, s, ResourceInput{Title: "Unrelated", URL: "https://example.org/c", Format: "book", Summary: "Nothing to see."})

	res, err := s.Search(context.Background(), Query{Text: "federation"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 || len(res.Resources) != 2 {
		t.Fatalf("found %v; want the two resources that mention federation", titles(res.Resources))
	}
	if res.Resources[0].ID != titleHit || res.Resources[1].ID != summaryHit {
		t.Errorf("order %v: a title match must rank above a summary match", titles(res.Resources))
	}
	if res.Query.Sort != SortRelevance {
		t.Errorf("a text search sorts by %q; want relevance", res.Query.Sort)
	}
}

func TestSearchFindsAuthorsTopicsAndPrefixes(t *testing.T) {
	s := newService(t)
	addListed(t, s, ResourceInput{Title: "Ours to Hack and to Own", URL: "https://example.org/own", Format: "book",
		Authors: "Trebor Scholz\nNathan Schneider", Topics: "platform co-ops, ownership"})
	for _, q := range []string{"Schneider", "ownership", "cooperativ OWN", "Ours hack"} {
		res, err := s.Search(context.Background(), Query{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if q == "cooperativ OWN" {
			want = 0 // every word must match; "cooperativ" matches nothing here
		}
		if res.Total != want {
			t.Errorf("search %q found %d; want %d", q, res.Total, want)
		}
	}
}

// TestSearchTakesAnyText searches a small library with what people type
// and what would be syntax to either engine (FTS5's quotes, AND, NEAR, *,
// ^ and column filters; tsquery's &, |, !, <-> and :*). Every search runs,
// and each finds exactly what its words find, the same on SQLite and on
// PostgreSQL: words are folded for case and accents, every word is
// required, words of two letters or more match as prefixes, and nothing
// is ever taken as an operator.
func TestSearchTakesAnyText(t *testing.T) {
	s := newService(t)
	addMember(t, s, 1)
	addListed(t, s, ResourceInput{Title: "Co-operatives and the \"gig\" economy", URL: "https://example.org/gig", Format: "article",
		Authors: "Trebor Scholz", Topics: "platform co-ops, labour", Summary: "Drivers AND riders organise. Write to info@coops.example.org."})
	addListed(t, s, ResourceInput{Title: "Économie sociale et solidaire", URL: "https://example.org/ess", Format: "book",
		Authors: "José Müller", Topics: "économie", Summary: "Über die Genossenschaft in Zürich; ΣΟΦΊΑ; 日本語の本; x² and ½."})
	addListed(t, s, ResourceInput{Title: "C++ for co-operative developers", URL: "https://example.org/cpp", Format: "course",
		Authors: "Ada Lovelace", Topics: "software", Summary: "The 2030 plan: 1.5 degrees, 100% renewable. Send a résumé."})
	if _, err := s.SubmitResource(context.Background(), Viewer{ID: 1, Active: true},
		ResourceInput{Title: "Gig economy drafts, pending", URL: "https://example.org/pending", Format: "report"}); err != nil {
		t.Fatal(err)
	}
	const (
		gig = "Co-operatives and the \"gig\" economy"
		ess = "Économie sociale et solidaire"
		cpp = "C++ for co-operative developers"
	)
	for _, c := range []struct {
		text string
		want []string // titles found, best first where it matters
	}{
		{`"gig economy"`, []string{gig}},
		{`"unbalanced`, nil},
		{`"unbalanced gig`, nil}, // every word must match
		{`gig"`, []string{gig}},
		{`co-op`, []string{gig, cpp}}, // "co" and "op", prefixes of co-operatives and co-ops
		{`co operative`, []string{gig, cpp}},
		{`cooperativ`, nil},
		{`-gig`, []string{gig}},
		{`gig -economy`, []string{gig}}, // no negation: both words are wanted
		{`+gig`, []string{gig}},
		{`gig AND`, []string{gig}},
		{`gig AND economy`, []string{gig}},
		{`AND`, []string{gig, ess}},
		{`OR NOT`, nil},
		{`drivers OR nobody`, nil},
		{`drivers AND riders`, []string{gig}},
		{`NEAR(gig economy)`, nil},
		{`gig*`, []string{gig}},
		{`*`, nil},
		{`**`, nil},
		{`title:gig`, nil},
		{`{title}: gig`, nil},
		{`^gig`, []string{gig}},
		{`(gig`, []string{gig}},
		{`gig)`, []string{gig}},
		{`gig & economy | !nothing`, nil},
		{`gig <-> economy`, []string{gig}},
		{`gig:*`, []string{gig}},
		{`'; DROP TABLE resources; --`, nil},
		{`🚲 gig 🛵`, []string{gig}},
		{`🚲🛵`, nil},
		{`""`, nil},
		{`"`, nil},
		{strings.Repeat("gig ", 500), []string{gig}},
		{strings.Repeat("x", 2000), nil},
		{strings.Repeat("é", 3000), nil},
		{"gig\x00economy", []string{gig}},
		{"\xff\xfe gig", []string{gig}},
		{`<script>alert(1)</script>`, nil},
		{`%`, nil},
		{`_`, nil},
		{`\`, nil},
		{`c++`, []string{cpp}}, // "c", a word of one letter, matched whole
		{`ĝïğ`, []string{gig}},
		{`ÉCONOMIE`, []string{ess}},
		{`economie`, []string{ess}},
		{`MÜLLER`, []string{ess}},
		{`zurich`, []string{ess}},
		{`σοφία`, []string{ess}},
		{`日本語`, []string{ess}},
		{`x²`, []string{ess}},
		{`½`, []string{ess}},
		{`1.5`, []string{cpp}},
		{`100%`, []string{cpp}},
		{"re\u0301sume\u0301", []string{cpp}},
		{`RESUME`, []string{cpp}},
		{`info@coops.example.org`, []string{gig}},
		{`lovelace ada`, []string{cpp}},
		{`scholz`, []string{gig}},
		{`labour`, []string{gig}},
	} {
		res, err := s.Search(context.Background(), Query{Text: c.text})
		if err != nil {
			t.Errorf("search %.40q: %v", c.text, err)
			continue
		}
		got := titles(res.Resources)
		if res.Total != len(c.want) || res.Pages < 1 || !slices.Equal(sorted(got), sorted(c.want)) {
			t.Errorf("search %.40q (words %q) found %d: %q; want %q", c.text, res.Words, res.Total, got, c.want)
		}
	}
	// Only symbols: nothing to search for, so nothing found, and said so.
	res, _ := s.Search(context.Background(), Query{Text: "🚲🛵"})
	if res.Total != 0 || len(res.Words) != 0 {
		t.Errorf("search for emoji only: total %d, words %v; want 0 and none", res.Total, res.Words)
	}
}

func sorted(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

// The order of relevance on both engines: a word in the title counts
// most, then in the authors, the topics and the summary; equal matches
// come in the order they were added, and pages follow that order.
func TestSearchRanksByColumn(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	add := func(title, authors, topics, summary string) int64 {
		return addListed(t, s, ResourceInput{Title: title, URL: "https://example.org/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"),
			Format: "report", Authors: authors, Topics: topics, Summary: summary})
	}
	inSummary := add("Shared ownership notes", "Ann Other", "ownership", "On federation and the commons.")
	inTopics := add("Shared ownership guide", "Ann Other", "federation", "On cooperation and the commons.")
	inAuthors := add("Shared ownership study", "Federation Press", "ownership", "On cooperation and the commons.")
	inTitle := add("Federation of shared ownership", "Ann Other", "ownership", "On cooperation and the commons.")
	twin := add("Federation of shared ownership too", "Ann Other", "ownership", "On cooperation and the commons.")
	add("Unrelated", "Ann Other", "housing", "Nothing to see.")

	res, err := s.Search(ctx, Query{Text: "federation"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range res.Resources {
		ids = append(ids, r.ID)
	}
	if want := []int64{inTitle, twin, inAuthors, inTopics, inSummary}; !slices.Equal(ids, want) && !slices.Equal(ids, []int64{twin, inTitle, inAuthors, inTopics, inSummary}) {
		t.Errorf("order %q; want the title matches, then authors, topics and summary", titles(res.Resources))
	}

	// Two equal matches: the earlier first, and so on every page.
	add("Federation", "Ann Other", "ownership", "On cooperation and the commons.")
	add("Federation", "Ann Other", "ownership", "On cooperation and the commons.")
	res, _ = s.Search(ctx, Query{Text: "federation", PerPage: 1, Page: 1})
	first := res.Resources
	res, _ = s.Search(ctx, Query{Text: "federation", PerPage: 1, Page: 2})
	second := res.Resources
	if len(first) != 1 || len(second) != 1 || first[0].Title != "Federation" || second[0].Title != "Federation" || first[0].ID > second[0].ID {
		t.Errorf("pages 1 and 2: %+v, %+v; want the two equal matches, the earlier first", titles(first), titles(second))
	}
	if res.Total != 7 || res.Pages != 7 {
		t.Errorf("total %d in %d pages; want 7 and 7", res.Total, res.Pages)
	}
}

func TestFacets(t *testing.T) {
	s := newService(t)
	add := func(title, format, lang, region, topics string, year string) {
		addListed(t, s, ResourceInput{Title: title, URL: "https://example.org/" + strings.ReplaceAll(title, " ", "-"),
			Format: format, Language: lang, Region: region, Topics: topics, Year: year})
	}
	add("A", "report", "en", "UK", "finance, policy", "2019")
	add("B", "report", "en", "US", "finance", "2021")
	add("C", "book", "fr", "UK", "policy", "2016")
	add("D", "book", "en", "UK", "unions", "2008")
	add("E", "article", "es", "international", "finance, unions", "")
	ctx := context.Background()

	count := func(opts []Option, v string) int {
		for _, o := range opts {
			if o.Value == v {
				return o.Count
			}
		}
		return 0
	}

	t.Run("with no filter each option counts the whole library", func(t *testing.T) {
		res, _ := s.Search(ctx, Query{})
		if res.Total != 5 || count(res.Facets.Formats, "report") != 2 || count(res.Facets.Topics, "finance") != 3 ||
			count(res.Facets.Regions, "UK") != 3 || count(res.Facets.Languages, "en") != 3 || count(res.Facets.Decades, "2010") != 2 {
			t.Errorf("total %d facets %+v", res.Total, res.Facets)
		}
	})
	t.Run("options within a group combine with OR", func(t *testing.T) {
		res, _ := s.Search(ctx, Query{Formats: []string{"report", "book"}})
		if res.Total != 4 {
			t.Errorf("report OR book: %d results; want 4", res.Total)
		}
		res, _ = s.Search(ctx, Query{Topics: []string{"policy", "unions"}})
		if got := titles(res.Resources); res.Total != 4 {
			t.Errorf("policy OR unions: %v; want A, C, D, E", got)
		}
	})
	t.Run("groups combine with AND", func(t *testing.T) {
		res, _ := s.Search(ctx, Query{Formats: []string{"report"}, Regions: []string{"UK"}})
		if got := titles(res.Resources); len(got) != 1 || got[0] != "A" {
			t.Errorf("report AND UK: %v; want [A]", got)
		}
		res, _ = s.Search(ctx, Query{Topics: []string{"finance"}, YearFrom: 2020, YearTo: 2029})
		if got := titles(res.Resources); len(got) != 1 || got[0] != "B" {
			t.Errorf("finance AND 2020s: %v; want [B]", got)
		}
	})
	t.Run("a group's counts ignore its own selection but apply the others", func(t *testing.T) {
		res, _ := s.Search(ctx, Query{Formats: []string{"report"}, Regions: []string{"UK"}})
		// Formats counted within UK: report 1 (A), book 2 (C, D).
		if count(res.Facets.Formats, "report") != 1 || count(res.Facets.Formats, "book") != 2 {
			t.Errorf("format counts within UK: %+v", res.Facets.Formats)
		}
		// Regions counted within reports: UK 1, US 1.
		if count(res.Facets.Regions, "UK") != 1 || count(res.Facets.Regions, "US") != 1 || count(res.Facets.Regions, "international") != 0 {
			t.Errorf("region counts within reports: %+v", res.Facets.Regions)
		}
		// Topics counted within UK reports: finance 1, policy 1.
		if count(res.Facets.Topics, "finance") != 1 || count(res.Facets.Topics, "unions") != 0 {
			t.Errorf("topic counts within UK reports: %+v", res.Facets.Topics)
		}
		for _, o := range res.Facets.Formats {
			if o.Value == "report" && !o.Selected {
				t.Errorf("report is selected but not marked: %+v", o)
			}
		}
	})
	t.Run("facets count within the text search", func(t *testing.T) {
		addListed(t, s, ResourceInput{Title: "Treasury for co-ops", URL: "https://example.org/f", Format: "toolkit", Topics: "finance"})
		res, _ := s.Search(ctx, Query{Text: "treasury"})
		if res.Total != 1 || count(res.Facets.Formats, "toolkit") != 1 || count(res.Facets.Formats, "report") != 0 {
			t.Errorf("search finance: total %d formats %+v", res.Total, res.Facets.Formats)
		}
	})
	t.Run("a selected option with no results still shows so it can be cleared", func(t *testing.T) {
		res, _ := s.Search(ctx, Query{Text: "treasury", Regions: []string{"Mars"}})
		found := false
		for _, o := range res.Facets.Regions {
			found = found || (o.Value == "Mars" && o.Selected && o.Count == 0)
		}
		if res.Total != 0 || !found {
			t.Errorf("total %d regions %+v", res.Total, res.Facets.Regions)
		}
	})
}

// Facets count within the words searched, on both engines: each group's
// counts apply the words and every other group, not the group itself.
func TestFacetsWithWords(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	add := func(title, format, region, topics string) {
		addListed(t, s, ResourceInput{Title: title, URL: "https://example.org/" + strings.ReplaceAll(strings.ToLower(title), " ", "-"),
			Format: format, Region: region, Topics: topics})
	}
	add("Housing co-ops in Wales", "report", "Wales", "housing")
	add("Housing co-ops in Scotland", "report", "Scotland", "housing, finance")
	add("Housing co-ops: a guide", "book", "Wales", "housing")
	add("Energy co-ops in Wales", "report", "Wales", "energy")
	add("Housing associations", "report", "Wales", "housing") // no "co-op"
	count := func(opts []Option, v string) int {
		for _, o := range opts {
			if o.Value == v {
				return o.Count
			}
		}
		return 0
	}
	res, err := s.Search(ctx, Query{Text: "housing co-op", Formats: []string{"report"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 {
		t.Errorf("housing co-op reports: %d (%q); want 2", res.Total, titles(res.Resources))
	}
	// Formats within the words, ignoring the format chosen: report 2, book 1.
	if count(res.Facets.Formats, "report") != 2 || count(res.Facets.Formats, "book") != 1 {
		t.Errorf("format counts: %+v; want report 2, book 1", res.Facets.Formats)
	}
	// Regions and topics within the words and reports: Wales 1, Scotland 1; housing 2, finance 1.
	if count(res.Facets.Regions, "Wales") != 1 || count(res.Facets.Regions, "Scotland") != 1 ||
		count(res.Facets.Topics, "housing") != 2 || count(res.Facets.Topics, "finance") != 1 || count(res.Facets.Topics, "energy") != 0 {
		t.Errorf("region counts %+v, topic counts %+v", res.Facets.Regions, res.Facets.Topics)
	}
	res, _ = s.Search(ctx, Query{Text: "housing co-op", Formats: []string{"report"}, Regions: []string{"Wales"}})
	if got := titles(res.Resources); res.Total != 1 || got[0] != "Housing co-ops in Wales" {
		t.Errorf("housing co-op reports in Wales: %q", got)
	}
	if count(res.Facets.Regions, "Scotland") != 1 || count(res.Facets.Formats, "book") != 1 || count(res.Facets.Formats, "report") != 1 {
		t.Errorf("regions %+v formats %+v", res.Facets.Regions, res.Facets.Formats)
	}
}

// The index follows every change to a resource, kept in step by the
// database on both engines: an edit's new words are found and its old
// ones are not, and a hidden resource is not found at all.
func TestSearchFollowsEdits(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	addMember(t, s, 1)
	admin := Viewer{ID: 1, Active: true, Admin: true}
	in := ResourceInput{Title: "Housing co-ops", URL: "https://example.org/h", Format: "report", Authors: "Ann Other",
		Topics: "housing", Summary: "Tenants owning their homes."}
	id := addListed(t, s, in)
	found := func(text string) int {
		t.Helper()
		res, err := s.Search(ctx, Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	if found("tenants housing") != 1 {
		t.Fatal("the new resource is not found")
	}
	in.Title, in.Authors, in.Topics, in.Summary = "Energy co-ops", "Bea Writer", "energy", "Communities owning wind farms."
	if _, err := s.UpdateResource(ctx, admin, id, in); err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]int{"housing": 0, "tenants": 0, "ann": 0, "energy": 1, "bea writer": 1, "wind farms": 1} {
		if got := found(text); got != want {
			t.Errorf("after the edit, %q finds %d; want %d", text, got, want)
		}
	}
	if err := s.SetResourceStatus(ctx, admin, id, StatusHidden); err != nil {
		t.Fatal(err)
	}
	if found("energy") != 0 {
		t.Error("a hidden resource is still found")
	}
}

func TestSearchSortsAndPages(t *testing.T) {
	s := newService(t)
	for i, y := range []string{"2001", "1999", "", "2020"} {
		addListed(t, s, ResourceInput{Title: fmt.Sprintf("%c title", 'D'-i), URL: fmt.Sprintf("https://example.org/%d", i), Format: "report", Year: y})
	}
	ctx := context.Background()
	res, _ := s.Search(ctx, Query{Sort: SortTitle})
	if got := strings.Join(titles(res.Resources), ","); got != "A title,B title,C title,D title" {
		t.Errorf("by title: %s", got)
	}
	res, _ = s.Search(ctx, Query{Sort: SortYear})
	if got := strings.Join(titles(res.Resources), ","); got != "A title,D title,C title,B title" {
		t.Errorf("by year, newest first, unknown last: %s", got)
	}
	res, _ = s.Search(ctx, Query{Sort: SortTitle, PerPage: 3, Page: 2})
	if got := titles(res.Resources); res.Pages != 2 || len(got) != 1 || got[0] != "D title" {
		t.Errorf("page 2 of 3 per page: %v of %d pages", got, res.Pages)
	}
	res, _ = s.Search(ctx, Query{Sort: "'; DROP TABLE resources; --", Page: -5, PerPage: 1_000_000})
	if res.Query.Sort != SortNewest || res.Query.Page != 1 || res.Query.PerPage != MaxPerPage || res.Total != 4 {
		t.Errorf("odd sort and paging were not tamed: %+v", res.Query)
	}
}

func TestSearchShowsOnlyListed(t *testing.T) {
	s := newService(t)
	addMember(t, s, 1)
	addListed(t, s, ResourceInput{Title: "Listed co-op report", URL: "https://example.org/l", Format: "report"})
	if _, err := s.SubmitResource(context.Background(), Viewer{ID: 1, Active: true},
		ResourceInput{Title: "Pending co-op report", URL: "https://example.org/p", Format: "report"}); err != nil {
		t.Fatal(err)
	}
	res, _ := s.Search(context.Background(), Query{Text: "co-op report"})
	if got := titles(res.Resources); len(got) != 1 || got[0] != "Listed co-op report" {
		t.Errorf("public search shows %v; want only the listed one", got)
	}
}

// TestTopicFilterIsExact: a topic chosen finds the resources with that
// topic and no other, whatever its characters, though a cheap text search
// of the stored arrays picks the rows first (topicsPrefilter): a topic
// inside a longer one, or its JSON string inside another topic's escapes,
// is not the topic.
func TestTopicFilterIsExact(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for i, topics := range []string{"platform co-ops", "co-ops", `law & "policy", <b>`, `a\"co-ops`, "co-ops; économie"} {
		addListed(t, s, ResourceInput{Title: fmt.Sprintf("Co-op guide %d", i), URL: fmt.Sprintf("https://example.org/g%d", i),
			Format: "report", Topics: topics})
	}
	for _, c := range []struct {
		topics []string
		want   []string
	}{
		{[]string{"co-ops"}, []string{"Co-op guide 1", "Co-op guide 4"}},
		{[]string{"platform co-ops"}, []string{"Co-op guide 0"}},
		{[]string{`law & "policy"`}, []string{"Co-op guide 2"}},
		{[]string{"<b>", "économie"}, []string{"Co-op guide 2", "Co-op guide 4"}},
		{[]string{`a\"co-ops`}, []string{"Co-op guide 3"}},
		{[]string{`"co-ops"`, "ops", "platform"}, nil},
	} {
		for _, text := range []string{"", "guide"} {
			res, err := s.Search(ctx, Query{Text: text, Topics: c.topics, Sort: SortTitle})
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(res.Resources); !slices.Equal(got, c.want) || res.Total != len(c.want) {
				t.Errorf("search %q with topics %q: %v (total %d); want %v", text, c.topics, got, res.Total, c.want)
			}
		}
	}
	res, _ := s.Search(ctx, Query{})
	for _, o := range res.Facets.Topics {
		if want := map[string]int{"co-ops": 2, `a\"co-ops`: 1}[o.Value]; want != 0 && o.Count != want {
			t.Errorf("topic %q counted %d; want %d", o.Value, o.Count, want)
		}
	}
}

// BenchmarkSearch measures a typical search with a facet over a library of
// 10,000 generated resources.
func BenchmarkSearch(b *testing.B) {
	s := newService(b)
	words := strings.Fields("platform co-operative ownership finance union worker data commons federation policy local government " +
		"digital democracy investment gig economy delivery riders care housing energy credit community wealth")
	topics := []string{"platform co-ops", "ownership", "finance and investment", "worker rights", "unions", "policy", "data governance", "federation"}
	formats := Formats
	ctx := context.Background()
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		for i := 0; i < 10_000; i++ {
			w := func(k int) string { return words[(i*7+k*13)%len(words)] }
			in := ResourceInput{
				Title:   fmt.Sprintf("%s %s and %s: study %d", w(1), w(2), w(3), i),
				URL:     fmt.Sprintf("https://example.org/r/%d", i),
				Authors: fmt.Sprintf("Author %d\nAuthor %d", i%300, (i+1)%300),
				Year:    fmt.Sprint(1990 + i%35), Format: formats[i%len(formats)], Language: []string{"en", "fr", "es", "de"}[i%4],
				Region:  []string{"UK", "US", "Canada", "international"}[i%4],
				Topics:  topics[i%len(topics)] + ", " + topics[(i/3)%len(topics)],
				Summary: fmt.Sprintf("A %s about %s, %s and %s in %s.", formats[i%len(formats)], w(4), w(5), w(6), w(7)),
			}
			r, errs := in.resource()
			if len(errs) > 0 {
				return errs
			}
			r.Status = StatusListed
			if _, err := s.insertResource(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if s.db.IsPostgres() {
		// Autovacuum analyses a table within a minute or so of a bulk
		// load; until then the planner knows nothing of its rows.
		if _, err := s.db.W.ExecContext(ctx, `ANALYZE resources`); err != nil {
			b.Fatal(err)
		}
	}
	queries := []Query{
		{Text: "platform finance", Topics: []string{"finance and investment"}},
		{Text: "worker union", Formats: []string{"report", "book"}},
		{Text: "data commons"},
		{Topics: []string{"policy"}, Regions: []string{"UK"}, Sort: SortYear},
	}
	names := []string{"words and a topic", "words and two formats", "words", "facets only"}
	for i, q := range queries {
		// Counted afresh each time, as after every commit.
		b.Run(names[i], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.forgetCounts()
				if _, err := s.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for i, q := range queries {
		b.Run("counts cached/"+names[i], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Search(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// forgetCounts empties the count cache, so a benchmark measures counting.
func (s *Service) forgetCounts() {
	s.countCache.mu.Lock()
	defer s.countCache.mu.Unlock()
	s.countCache.known = false
}

func TestCountsFollowEveryCommit(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	addMember(t, s, 1)
	addListed(t, s, ResourceInput{Title: "Co-op report one", URL: "https://example.org/1", Format: "report", Topics: "finance"})
	q := Query{Text: "co-op", Topics: []string{"finance"}}
	first, err := s.Search(ctx, q)
	if err != nil || first.Total != 1 {
		t.Fatalf("first search: total %d, %v; want 1", first.Total, err)
	}
	// Whoever gets counts, counted or cached, must not be able to change
	// the next reader's.
	first.Facets.Topics[0].Count = 99
	cached, _ := s.Search(ctx, q)
	cached.Facets.Topics[0].Count = 99
	again, _ := s.Search(ctx, q)
	if again.Facets.Topics[0].Count != 1 {
		t.Errorf("a caller's change to its facets reached the next search: count %d", again.Facets.Topics[0].Count)
	}

	addListed(t, s, ResourceInput{Title: "Co-op report two", URL: "https://example.org/2", Format: "book", Topics: "finance"})
	after, _ := s.Search(ctx, q)
	if after.Total != 2 || len(after.Facets.Formats) != 2 {
		t.Errorf("after a second listing: total %d, formats %v; want 2 and two formats", after.Total, after.Facets.Formats)
	}

	// A commit by another connection, as the command line's import would make.
	other, err := db.Open(ctx, s.db.Path, dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.W.ExecContext(ctx, `UPDATE resources SET status = 'hidden' WHERE url = 'https://example.org/2'`); err != nil {
		t.Fatal(err)
	}
	// SQLite's data_version moves at once; PostgreSQL's notification of
	// another process's commit comes a moment later: up to five seconds.
	hidden, _ := s.Search(ctx, q)
	for i := 0; hidden.Total != 1 && s.db.IsPostgres() && i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		hidden, _ = s.Search(ctx, q)
	}
	if hidden.Total != 1 {
		t.Errorf("after another connection hid one: total %d, want 1", hidden.Total)
	}
}
