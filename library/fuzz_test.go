package library

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// searchSeeds are texts people type, and texts that would be FTS5 syntax if
// they reached it unquoted.
var searchSeeds = []string{
	"platform co-ops", "cooperative", "co-op", "Ours to Hack", "gig AND economy", "OR NOT", "NEAR(gig economy)",
	`"gig economy"`, `"unbalanced`, `gig*`, "*", "^gig", "title:gig", "{title}: gig", "(gig", "'; DROP TABLE resources; --",
	"🚲 gig 🛵", "🚲🛵", "", " ", "résumé", "re\u0301sume\u0301", "İstanbul", "ĝïğ", "gig\x00economy", "\xff\xfe gig",
	"日本語の本", "Ελληνικά", "x", "c++", "x² ½ Ⅻ", "0\uf0ec", "0🛵", "\u0301 \u0301\u0302", strings.Repeat("a", 100), strings.Repeat("gig ", 40),
}

// FuzzSearchText checks the translation of what a person types into a
// search: only quoted words (SQLite) or plain words (PostgreSQL, which
// quotes them itself) ever reach the engine, the database accepts every
// query, and a resource is found by the words of its own text.
func FuzzSearchText(f *testing.F) {
	for _, s := range searchSeeds {
		f.Add(s)
	}
	s := newService(f)
	ctx := context.Background()
	probe := addListed(f, s, ResourceInput{Title: "Probe", URL: "https://example.org/probe", Format: "other"})
	separates := tokenizerSeparates(f, s)
	f.Fuzz(func(t *testing.T, text string) {
		words := terms(text)
		if len(words) > MaxQueryTerms {
			t.Fatalf("terms(%q) gave %d words; at most %d", text, len(words), MaxQueryTerms)
		}
		for i, w := range words {
			switch {
			case w == "" || len(w) > 64 || !utf8.ValidString(w):
				t.Fatalf("terms(%q) word %q is empty, longer than 64 bytes or not UTF-8", text, w)
			case strings.ContainsFunc(w, func(r rune) bool { return !unicode.In(r, unicode.L, unicode.N, unicode.M, unicode.Co) }):
				t.Fatalf("terms(%q) word %q holds a space, punctuation or a symbol", text, w)
			case slices.Contains(words[:i], w):
				t.Fatalf("terms(%q) repeats %q", text, w)
			}
		}
		match := s.db.SearchQuery(searchTerms(words))
		check := onlyQuotedWords
		if s.db.IsPostgres() {
			check = onlyPlainWords
		}
		if err := check(match, words); err != nil {
			t.Fatalf("SearchQuery(terms(%q)) = %s: %v", text, match, err)
		}
		if len(words) > 0 {
			var n int
			if err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM resources r WHERE `+s.db.SearchMatch("r"), match); err != nil {
				t.Fatalf("the database refused SearchQuery(terms(%q)) = %s: %v", text, match, err)
			}
		}

		// The probe's summary becomes the text (cleaned as a search cleans
		// it), so searching for the text must find the probe.
		summary := Query{Text: text}.normalise().Text
		if _, err := s.db.W.ExecContext(ctx, `UPDATE resources SET summary = ? WHERE id = ?`, summary, probe); err != nil {
			t.Fatalf("set the probe's summary to %q: %v", summary, err)
		}
		res, err := s.Search(ctx, Query{Text: text})
		if err != nil {
			t.Fatalf("Search(%q): %v", text, err)
		}
		// SQLite's Unicode tables are older than Go's: a character added
		// since (a newer emoji such as 🛵) is part of a token to it, so it
		// indexes "0🛵" as one token, which no query for the word "0" can
		// find. Only where the two split alike can the text find itself.
		alike := !strings.ContainsFunc(strings.ToLower(summary), func(r rune) bool { return !wordRune(r) && !separates(t, r) })
		// A tsvector keeps a word's first 256 positions only, so a phrase
		// (a word PostgreSQL splits) may go unfound after 256 repeats of
		// its first part: a text of 511 characters or fewer cannot hold so
		// many.
		if s.db.IsPostgres() && utf8.RuneCountInString(summary) > 511 {
			alike = false
		}
		if alike && len(res.Words) > 0 && res.Total != 1 {
			t.Fatalf("Search(%q) with words %q (query %s) found %d; the resource whose summary is that text should be found",
				text, res.Words, match, res.Total)
		}
	})
}

// tokenizerSeparates returns a function saying whether the library's
// index splits words at r, by asking the database: SQLite indexes "a" r
// "b" in a table with the index's tokenizer and looks for "a"; PostgreSQL
// makes the document of "a" r "b" and looks for "a" in it.
func tokenizerSeparates(tb testing.TB, s *Service) func(testing.TB, rune) bool {
	known := map[rune]bool{}
	if s.db.IsPostgres() {
		return func(t testing.TB, r rune) bool {
			if v, ok := known[r]; ok {
				return v
			}
			var split bool
			err := s.db.R.Get(&split, `SELECT plenary_search_document(?, '', '', '') @@ 'a'::tsquery`, "a"+string(r)+"b")
			if err != nil {
				t.Fatalf("does the document split at %q? %v", r, err)
			}
			known[r] = split
			return split
		}
	}
	var ddl string
	if err := s.db.R.Get(&ddl, `SELECT sql FROM sqlite_schema WHERE name = 'resources_fts'`); err != nil {
		tb.Fatal(err)
	}
	tokenize := regexp.MustCompile(`tokenize\s*=\s*'[^']*'`).FindString(ddl)
	if tokenize == "" {
		tb.Fatalf("no tokenize option in %s", ddl)
	}
	if _, err := s.db.W.Exec(`CREATE VIRTUAL TABLE tokens USING fts5(x, ` + tokenize + `)`); err != nil {
		tb.Fatal(err)
	}
	return func(t testing.TB, r rune) bool {
		if v, ok := known[r]; ok {
			return v
		}
		var n int
		_, err := s.db.W.Exec(`INSERT OR REPLACE INTO tokens (rowid, x) VALUES (1, ?)`, "a"+string(r)+"b")
		if err == nil {
			err = s.db.R.Get(&n, `SELECT count(*) FROM tokens WHERE tokens MATCH '"a"'`)
		}
		if err != nil {
			t.Fatalf("does the tokenizer split at %q? %v", r, err)
		}
		known[r] = n == 1
		return known[r]
	}
}

// onlyQuotedWords checks that match is the words, each a double-quoted
// string, optionally followed by the prefix star, separated by one space:
// no operator, column filter or parenthesis is left outside the quotes.
func onlyQuotedWords(match string, words []string) error {
	if len(words) == 0 {
		if match != "" {
			return errors.New("no words but a query")
		}
		return nil
	}
	parts := strings.Split(match, " ")
	if len(parts) != len(words) {
		return fmt.Errorf("%d parts for %d words", len(parts), len(words))
	}
	for i, p := range parts {
		body := strings.TrimSuffix(p, "*")
		if len(body) < 2 || body[0] != '"' || body[len(body)-1] != '"' {
			return fmt.Errorf("part %q is not a quoted string", p)
		}
		inner := body[1 : len(body)-1]
		if strings.Contains(strings.ReplaceAll(inner, `""`, ""), `"`) {
			return fmt.Errorf("part %q closes its quotes early", p)
		}
		if strings.ReplaceAll(inner, `""`, `"`) != words[i] {
			return fmt.Errorf("part %q is not the word %q", p, words[i])
		}
	}
	return nil
}

// onlyPlainWords checks that match, PostgreSQL's search text, is the
// words separated by one space, each followed by the prefix star when it
// has two letters or more, and nothing else.
func onlyPlainWords(match string, words []string) error {
	var want []string
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 2 {
			w += "*"
		}
		want = append(want, w)
	}
	if match != strings.Join(want, " ") {
		return fmt.Errorf("not the words %q", want)
	}
	return nil
}

// FuzzSearchQuery checks the cleaning of a search's parameters (the facets,
// years, sort and paging a URL carries): whatever comes in, the query is
// within its caps, cleaning it again changes nothing, and it runs.
func FuzzSearchQuery(f *testing.F) {
	f.Add("platform co-ops", "policy\nlabour", "report", "en", "UK", 1990, 2030, "relevance", 1, 20)
	f.Add("", "", "", "", "", 0, 0, "", 0, 0)
	f.Add("gig", " \n\xff", "book\nbook", "en-GB\nfr", "Wales", 2100, 1800, "year", -1, 1000)
	f.Add("x", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt\nu\nv", "", "", "", 1799, 2101, "title", 1<<40, -5)
	f.Add(strings.Repeat("é", 1500), strings.Repeat("x", 41), "", "", "", 0, 0, "newest", 10001, 101)
	s := newService(f)
	ctx := context.Background()
	addListed(f, s, ResourceInput{Title: "Digital Co-Ops and the Democratic Economy", URL: "https://example.org/digital",
		Format: "policy brief", Year: "2021", Region: "UK", Topics: "platform co-ops, policy"})
	addListed(f, s, ResourceInput{Title: "Own This!", URL: "https://example.org/own-this", Format: "book", Year: "2023",
		Language: "fr", Topics: "labour"})
	f.Fuzz(func(t *testing.T, text, topics, formats, languages, regions string, from, to int, sort string, page, perPage int) {
		q := Query{Text: text, Topics: lines(topics), Formats: lines(formats), Languages: lines(languages), Regions: lines(regions),
			YearFrom: from, YearTo: to, Sort: sort, Page: page, PerPage: perPage}
		n := q.normalise()
		if len(n.Text) > MaxQueryLen || !utf8.ValidString(n.Text) {
			t.Errorf("text %q is over %d bytes or not UTF-8", n.Text, MaxQueryLen)
		}
		for _, g := range [][]string{n.Topics, n.Formats, n.Languages, n.Regions} {
			if len(g) > MaxFacetValues {
				t.Errorf("%d values in a facet; at most %d", len(g), MaxFacetValues)
			}
			for _, v := range g {
				if v == "" || v != strings.TrimSpace(v) || !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxRegionLen {
					t.Errorf("facet value %q is empty, padded, not UTF-8 or too long", v)
				}
			}
		}
		if n.YearFrom != 0 && (n.YearFrom < MinYear || n.YearFrom > MaxYear) || n.YearTo != 0 && (n.YearTo < MinYear || n.YearTo > MaxYear) {
			t.Errorf("years %d to %d are outside %d to %d", n.YearFrom, n.YearTo, MinYear, MaxYear)
		}
		if !slices.Contains(Sorts, n.Sort) || n.Page < 1 || n.Page > MaxPage || n.PerPage < 1 || n.PerPage > MaxPerPage {
			t.Errorf("sort %q, page %d, per page %d", n.Sort, n.Page, n.PerPage)
		}
		if again := n.normalise(); !reflect.DeepEqual(again, n) {
			t.Errorf("cleaning twice changed the query:\nonce  %+v\ntwice %+v", n, again)
		}
		if t.Failed() {
			t.Fatalf("from %+v", q)
		}

		res, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", q, err)
		}
		if !reflect.DeepEqual(res.Query, n) || res.Pages < 1 || len(res.Resources) > n.PerPage || res.Total < 0 || res.Total > 2 {
			t.Fatalf("Search(%+v) = query %+v, %d pages, %d of %d resources", q, res.Query, res.Pages, len(res.Resources), res.Total)
		}
		selected := map[*[]Option][]string{&res.Facets.Topics: n.Topics, &res.Facets.Formats: n.Formats,
			&res.Facets.Languages: n.Languages, &res.Facets.Regions: n.Regions}
		for opts, chosen := range selected {
			for _, o := range *opts {
				if o.Selected != slices.Contains(chosen, o.Value) {
					t.Fatalf("facet option %q selected = %v, but the query chose %q", o.Value, o.Selected, chosen)
				}
			}
		}
	})
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Import files: one target per format, so that each keeps its own corpus
// and the fuzzer mutates from valid files of that format.

func FuzzImportJSON(f *testing.F) {
	f.Add(fixture(f, "library.json"))
	f.Add([]byte(`{"format":"plenary-library","version":1,"resources":[{"title":"x","url":"https://e.org","format":"other","year":2000}],` +
		`"demands":[{"title":"d","body":"b","audience":"unions","resources":["https://E.org/"]}]}`))
	f.Add([]byte(`{"format":"plenary-library","version":1,"resources":[{"title":"x","url":"https://e.org","format":"other",` +
		`"summary":"'=1\r\r\n+2","authors":["Doe, Jane"]}]}`))
	f.Add([]byte(`{"format":"plenary-library","version":1,"resources":[{"title":"'=x","url":"https://e.org","format":"other"}]}`))
	fuzzImport(f)
}

func FuzzImportCSV(f *testing.F) {
	f.Add(fixture(f, "zotero.csv"))
	f.Add([]byte("Item Type,Title,Url,Author,Manual Tags\nreport,x,https://e.org,\"Doe, Jane; Org\",a; b\n"))
	f.Add([]byte("\uFEFF\"Item Type\",\"Title\",\"Url\",\"Abstract Note\"\n\"book\",\"'=x\",\"https://e.org\",\"a\r\nb\"\n"))
	fuzzImport(f)
}

func FuzzImportCSL(f *testing.F) {
	f.Add(fixture(f, "zotero.csl.json"))
	f.Add([]byte(`[{"type":"book","title":"x","URL":"https://e.org","issued":{"date-parts":[[2000]]},"author":[{"family":"a","given":"b"}]}]`))
	f.Add([]byte(`[{"type":"report","genre":"Toolkit","title":"x","DOI":"10.1000/x","keyword":"a, b","issued":"2001"}]`))
	fuzzImport(f)
}

// fuzzImport imports each file into an empty library. An import either
// takes the whole file or refuses it with reasons the person can act on,
// never an internal error; and whatever it takes comes back the same when
// exported in each format and imported again into an empty library.
func fuzzImport(f *testing.F) {
	// An input the import takes costs eight commits (the import, then an
	// emptying and an import per format). With the default synchronous=FULL
	// each waits for the disk: about 40 ms an input, against 11 ms without.
	// When the fuzzer minimises a new input it runs thousands of candidates,
	// and the minute of "0 execs/sec" that followed looked like a hung
	// import. A fuzzing database need not survive a power cut.
	d, err := db.Open(context.Background(), filepath.Join(f.TempDir(), "plenary.db"), dbtest.Schema(f), db.Options{Synchronous: "OFF"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	s := New(d, transferClock)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := s.Import(ctx, data)
		if err != nil {
			var v ValidationError
			switch {
			case errors.Is(err, ErrRejected):
				if len(rep.Rejected) == 0 {
					t.Fatalf("rejected with no row to blame: %v", err)
				}
			case errors.As(err, &v):
				if v["file"] == "" {
					t.Fatalf("refused without a message about the file: %#v", v)
				}
			default:
				t.Fatalf("import failed with an internal error: %v", err)
			}
			return
		}
		// Most inputs are refused and write nothing; only one taken needs
		// the library emptied for the next.
		defer empty(t, s)
		dec, _ := Decode(data)
		if rep.Added+rep.Updated+rep.Duplicates+rep.Endorsed+rep.UnderBallot != len(dec.Resources) || rep.DemandsAdded+rep.DemandsSkipped != len(dec.Demands) {
			t.Fatalf("report %+v does not account for %d resources and %d demands", rep, len(dec.Resources), len(dec.Demands))
		}
		if !slices.Contains([]string{FileFormatNames[FileJSON], FileFormatNames[FileCSV], FileFormatNames[FileCSL]}, rep.Format) {
			t.Fatalf("report names the format %q", rep.Format)
		}
		rs, ds := exported(t, s)
		for _, format := range []string{FileJSON, FileCSV, FileCSL} {
			roundTrip(t, s, format, rs, ds)
		}
	})
}

// roundTrip exports rs and ds in format, imports the file into an empty
// library, and checks that what comes back is what went out, as far as the
// format carries it.
func roundTrip(t *testing.T, s *Service, format string, rs []Resource, ds []Demand) {
	t.Helper()
	ctx := context.Background()
	var file bytes.Buffer
	if err := s.Export(ctx, &file, format, rs, ds); err != nil {
		t.Fatalf("export %s: %v", format, err)
	}
	empty(t, s)
	if rep, err := s.Import(ctx, file.Bytes()); err != nil {
		t.Fatalf("the %s export does not import: %v %v\nexport:\n%s", format, err, rep.Rejected, file.Bytes())
	}
	again, dsAgain := exported(t, s)
	if len(again) != len(rs) {
		t.Fatalf("%d resources exported as %s, %d imported back:\n%s", len(rs), format, len(again), file.Bytes())
	}
	if format == FileCSV && slices.ContainsFunc(rs, func(r Resource) bool {
		return slices.ContainsFunc(r.Authors, func(a string) bool { return strings.Contains(a, ",") })
	}) {
		// Zotero's CSV reads "Doe, Jane" as Jane Doe and has no way to
		// quote a comma, so a name holding one cannot come back as it was.
		return
	}
	keepRegion := format == FileJSON // the only format with a region
	if got, want := comparable(again, keepRegion), comparable(rs, keepRegion); !reflect.DeepEqual(got, want) {
		t.Fatalf("export and import through %s changed the resources:\n got %+v\nwant %+v\nexport:\n%s", format, got, want, file.Bytes())
	}
	if format == FileJSON {
		if got, want := demandRecords(dsAgain, again), demandRecords(ds, rs); !reflect.DeepEqual(got, want) {
			t.Fatalf("export and import changed the demands:\n got %q\nwant %q\nexport:\n%s", got, want, file.Bytes())
		}
	}
}

// empty deletes every resource and demand, so the next import meets an
// empty library without the cost of a new database file.
func empty(t *testing.T, s *Service) {
	t.Helper()
	if _, err := s.db.W.Exec(`DELETE FROM demand_resources; DELETE FROM demands; DELETE FROM resources`); err != nil {
		t.Fatal(err)
	}
}

func exported(t *testing.T, s *Service) ([]Resource, []Demand) {
	t.Helper()
	rs, ds, err := s.AllForExport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs, ds
}

// demandRecords is what an export carries of each demand: its words, its
// status as an import reads it, and the links of its listed supporting
// resources.
func demandRecords(ds []Demand, rs []Resource) []string {
	links := map[int64]string{}
	for _, r := range rs {
		links[r.ID] = r.URL
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		var supporting []string
		for _, id := range d.Resources {
			if l, ok := links[id]; ok {
				supporting = append(supporting, l)
			}
		}
		out[i] = fmt.Sprintf("%q %q %q %q %q", d.Title, d.Body, d.Audience, d.Status, supporting)
	}
	return out
}
