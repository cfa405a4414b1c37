package db_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// addResource writes a listed resource straight into the table, as the
// library would, and returns its id.
func addResource(t *testing.T, d *db.DB, title, authors, topics, summary string) int64 {
	t.Helper()
	id, err := db.InsertID(context.Background(), d.W, `INSERT INTO resources (title, url, authors, format, topics, summary, url_key, title_key,
		status, created_at, updated_at, listed_at) VALUES (?, 'https://example.org/', ?, 'report', ?, ?, '', '', 'listed', ?, ?, ?)`,
		title, authors, topics, summary, "2026-01-01 00:00:00+00:00", "2026-01-01 00:00:00+00:00", "2026-01-01 00:00:00+00:00")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// found returns the ids of the resources matching terms, best first.
func found(t *testing.T, d *db.DB, terms ...db.Term) []int64 {
	t.Helper()
	var ids []int64
	err := d.R.SelectContext(context.Background(), &ids, `SELECT r.id FROM resources r JOIN `+d.SearchRanked("f")+
		` ON f.id = r.id WHERE `+d.SearchMatch("r")+` ORDER BY f.rank, r.id`, d.SearchQuery(terms), d.SearchQuery(terms))
	if err != nil {
		t.Fatalf("search %+v (%s): %v", terms, d.SearchQuery(terms), err)
	}
	return ids
}

// Both engines split and fold the library's text alike: the same words
// find the same resources on SQLite (FTS5's unicode61 tokenizer) and on
// PostgreSQL (plenary_search_document).
func TestSearchSplitsAndFoldsAlike(t *testing.T) {
	d := dbtest.Open(t)
	for _, c := range []struct {
		text  string
		word  string
		whole bool // matched as a whole word, not a prefix
		found bool
	}{
		{"Worker Co-operatives", "worker", true, true},
		{"WORKER", "worker", true, true},
		{"Workers", "worker", true, false},
		{"Workers", "worker", false, true},
		{"co-operatives", "co", true, true},
		{"co-operatives", "operative", false, true},
		{"co-operatives", "cooperative", false, false},
		{"Économie", "economie", true, true},
		{"e\u0301conomie", "economie", true, true}, // accents as combining marks
		{"économie", "e\u0301conomie", true, true},
		{"Zürich", "zurich", true, true},
		{"Łódź", "łodz", true, true}, // ł is a letter of its own; the accents go
		{"Straße", "straße", true, true},
		{"Straße", "strasse", true, false},
		{"ΣΟΦΊΑΣ", "σοφίασ", true, true},
		{"σοφίας", "σοφίασ", true, true}, // the final sigma folds
		{"İstanbul", "istanbul", true, true},
		{"Москва", "москва", true, true},
		{"日本語の本", "日本語", false, true},
		{"日本語の本", "日本語", true, false},
		{"x² and ½", "x²", true, true},
		{"x² and ½", "½", true, true},
		{"x² and ½", "x", true, false},
		{"1.5 degrees", "5", true, true},
		{"don't", "t", true, true},
		{"gig🚲economy", "economy", true, true}, // (SQLite takes newer emoji, such as 🛵, for letters)
		{"info@coops.example.org", "example", true, true},
		{"snake_case", "case", true, true},
		{"हिन्दी", "हिन्दी", true, true}, // split at its vowel signs: found as a phrase
		{"a'b\\c&d|e!f:*g<->h", "a'b\\c&d|e!f:*g<->h", true, true},
		{"plain", "pl'ain", true, false},
		{"plain", "':*", true, false},
	} {
		t.Run(fmt.Sprintf("%s in %s", c.word, c.text), func(t *testing.T) {
			id := addResource(t, d, c.text, "[]", "[]", "")
			defer d.W.Exec(`DELETE FROM resources WHERE id = ?`, id)
			ids := found(t, d, db.Term{Word: c.word, Prefix: !c.whole})
			if got := len(ids) == 1 && ids[0] == id; got != c.found {
				t.Errorf("found %v, want %v (query %s)", ids, c.found, d.SearchQuery([]db.Term{{Word: c.word, Prefix: !c.whole}}))
			}
		})
	}
}

// Every term is required; authors and topics are searched as their JSON
// text is indexed; a search that has no word the index could hold finds
// nothing rather than failing.
func TestSearchTerms(t *testing.T) {
	d := dbtest.Open(t)
	both := addResource(t, d, "Platform co-ops", `["Trebor Scholz","Nathan Schneider"]`, `["ownership","labour"]`, "A summary.")
	addResource(t, d, "Platform capitalism", `["Nick Srnicek"]`, `["platforms"]`, "Another.")
	for _, c := range []struct {
		terms []db.Term
		want  int
	}{
		{[]db.Term{{Word: "platform"}, {Word: "schneider"}}, 1},
		{[]db.Term{{Word: "platform", Prefix: true}}, 2},
		{[]db.Term{{Word: "platform"}, {Word: "nobody"}}, 0},
		{[]db.Term{{Word: "labour"}, {Word: "summary"}}, 1},
		{[]db.Term{{Word: "🚲"}}, 0},
		{[]db.Term{{Word: "🚲"}, {Word: "platform"}}, 2}, // a word with nothing to find is no word, as FTS5 takes it
		{[]db.Term{{Word: "*"}, {Word: "platform*"}}, 2},
		{[]db.Term{{Word: "trebor scholz"}}, 1},
		{[]db.Term{{Word: "scholz trebor"}}, 0}, // a phrase keeps its order
	} {
		ids := found(t, d, c.terms...)
		if len(ids) != c.want || c.want == 1 && ids[0] != both {
			t.Errorf("%+v (query %s) found %v, want %d", c.terms, d.SearchQuery(c.terms), ids, c.want)
		}
	}
}

// A phrase (a word the index splits) never spans two columns.
func TestSearchPhraseStaysInItsColumn(t *testing.T) {
	d := dbtest.Open(t)
	addResource(t, d, "Report on housing", `["Trust Fund"]`, "[]", "")
	if ids := found(t, d, db.Term{Word: "housing trust"}); len(ids) != 0 {
		t.Errorf("the title's last word and the authors' first were found as one phrase: %v", ids)
	}
	if ids := found(t, d, db.Term{Word: "on housing"}); len(ids) != 1 {
		t.Errorf("a phrase within the title was not found: %v", ids)
	}
}

// Relevance: the same word weighs most in the title, then the authors,
// the topics and the summary, on both engines.
func TestSearchRanksColumns(t *testing.T) {
	d := dbtest.Open(t)
	summary := addResource(t, d, "Notes", `["Ann Other"]`, `["misc"]`, "federation")
	topics := addResource(t, d, "Notes", `["Ann Other"]`, `["federation"]`, "misc")
	authors := addResource(t, d, "Notes", `["Federation"]`, `["misc"]`, "misc")
	title := addResource(t, d, "Federation", `["Ann Other"]`, `["misc"]`, "misc")
	ids := found(t, d, db.Term{Word: "federation"})
	if want := []int64{title, authors, topics, summary}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("order %v, want title, authors, topics, summary: %v", ids, want)
	}
}

// regexpQuoted matches a quoted lexeme of a tsquery's text.
var regexpQuoted = regexp.MustCompile(`'(?:[^'\\]|''|\\.)*'`)

// What reaches PostgreSQL's tsquery is only ever quoted lexemes, whatever
// the words hold.
func TestPostgresSearchQueryIsQuotedLexemes(t *testing.T) {
	requirePostgres(t)
	d := dbtest.Open(t)
	for _, w := range []string{`a & b`, `!a`, `a | b`, `a <-> b`, `a:*`, `a:A`, `'a'`, `''`, `\`, `(a`, `a)`, `"a"`,
		strings.Repeat("é", 600), "a\u0301", `a'b\c&d|e!f:*g<->h`} {
		var q *string
		if err := d.R.Get(&q, `SELECT plenary_search_query(?)::text`, d.SearchQuery([]db.Term{{Word: w, Prefix: true}})); err != nil {
			t.Errorf("%q: %v", w, err)
			continue
		}
		if q == nil {
			continue
		}
		// Lexemes are quoted; outside the quotes only the operators the
		// function writes: & <-> ( ) and :*.
		outside := regexpQuoted.ReplaceAllString(*q, "")
		if strings.Trim(outside, "&<->():* ") != "" {
			t.Errorf("%q became %s: %q is outside the quotes", w, *q, outside)
		}
	}
}
