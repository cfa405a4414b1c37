package db

import (
	"strings"
	"unicode"
)

// The library's full-text search in each dialect. SQLite's index is the
// FTS5 table resources_fts (schema.sql); PostgreSQL's is the tsvector
// column resources.search with a GIN index (postgres.sql), split and
// folded as FTS5's unicode61 tokenizer does. Both index title, authors,
// topics and summary, in that order of weight, and both are kept in step
// with resources by the database itself. The library says which words it
// looks for; these functions say how each database is asked.

// Term is one word of a search. Every term must match: the whole of a
// word, or, when Prefix, the start of one.
type Term struct {
	Word   string
	Prefix bool
}

// SearchQuery is the argument, for the ? of SearchMatch and SearchRanked,
// of a search for terms. Words are runs of letters, numbers and marks (the
// library's terms), but nothing here relies on it: on SQLite each is a
// double-quoted FTS5 string, a literal whatever it holds; on PostgreSQL
// the words are plain text, separated by spaces, that plenary_search_query
// splits, folds and quotes into a tsquery. "" when there is no term.
func (d *DB) SearchQuery(terms []Term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		w := t.Word
		if d.dialect == Postgres {
			// A space or a star would cut the word or mark a prefix; a
			// hyphen, where the index splits words as it does at both,
			// stands in for them.
			w = strings.NewReplacer(" ", "-", "*", "-").Replace(w)
		} else {
			w = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
		}
		if t.Prefix {
			w += "*"
		}
		parts[i] = w
	}
	return strings.Join(parts, " ")
}

// SearchMatch is the SQL condition that the resource row (an alias of
// resources) matches the search in its one ? placeholder (a SearchQuery).
func (d *DB) SearchMatch(row string) string {
	checkName(row)
	if d.dialect == Postgres {
		return row + ".search @@ plenary_search_query(?)"
	}
	return row + ".id IN (SELECT rowid FROM resources_fts WHERE resources_fts MATCH ?)"
}

// SearchRanked is the SQL, for a FROM clause, of a table alias (id, rank)
// of the resources that match the search in its one ? placeholder: the
// lower the rank, the better the match. Ties are the caller's to break.
//
// SQLite ranks with bm25, a title match weighing 10, authors 5, topics 3
// and the summary 1. PostgreSQL has no bm25: ts_rank weighs the same
// columns alike (1.0, 0.5, 0.3 and 0.1 for weights A to D), divides by
// the log of the document's length (normalisation 1) as bm25 favours
// short documents, and is negated so that lower is better here too. It
// has no measure of how rare a word is across the library, so the order
// of two documents matching a search in the same columns can differ
// between the two.
func (d *DB) SearchRanked(alias string) string {
	checkName(alias)
	if d.dialect == Postgres {
		return "(SELECT id, -ts_rank('{0.1, 0.3, 0.5, 1.0}', search, q, 1) AS rank FROM resources, plenary_search_query(?) AS q " +
			"WHERE search @@ q) AS " + alias
	}
	// bm25's weights are given in resources_fts's column order: title,
	// authors, summary, topics.
	return "(SELECT rowid AS id, bm25(resources_fts, 10.0, 5.0, 1.0, 3.0) AS rank FROM resources_fts " +
		"WHERE resources_fts MATCH ?) AS " + alias
}

// TopicsPrefilter is a cheap SQL condition, with its arguments, that the
// resource row (an alias of resources) may have one of topics: true of
// every row that has one, and of few others. Each topic must be written
// in the row's JSON array of topics as it is, between quotes, with no
// escape; the caller checks each element exactly after it.
//
// SQLite looks each topic up as a phrase in the full-text index's topics
// column, which indexes that array's text: a row holding the topic holds
// its words there, one after another (a longer topic holding them too
// passes). It reads the index once, where the exact check parses every
// candidate row's array, and it keeps rows that fail from being read at
// all. PostgreSQL searches the array's text for the quoted topic.
//
// A topic with no letter or number gives no phrase to look up, so there
// is then no prefilter: "" and no arguments.
func (d *DB) TopicsPrefilter(row string, topics []string) (string, []any) {
	checkName(row)
	if len(topics) == 0 {
		return "", nil
	}
	var conds, phrases []string
	var args []any
	for _, t := range topics {
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.In(r, unicode.Letter, unicode.Number, unicode.Co) }) {
			return "", nil
		}
		if d.dialect == Postgres {
			conds, args = append(conds, "strpos("+row+".topics, ?) > 0"), append(args, `"`+t+`"`)
			continue
		}
		phrases = append(phrases, `(topics : "`+strings.ReplaceAll(t, `"`, `""`)+`")`)
	}
	if d.dialect == Postgres {
		return "(" + strings.Join(conds, " OR ") + ")", args
	}
	return row + ".id IN (SELECT rowid FROM resources_fts WHERE resources_fts MATCH ?)", []any{strings.Join(phrases, " OR ")}
}
