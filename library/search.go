package library

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"plenary/internal/db"
)

// Query is a search of the listed library: words, facets, sort and page.
// Facets combine with AND across groups and OR within a group.
type Query struct {
	Text      string
	Topics    []string
	Formats   []string
	Languages []string
	Regions   []string
	YearFrom  int // 0: no lower bound
	YearTo    int // 0: no upper bound
	Sort      string
	Page      int
	PerPage   int
}

// Sort orders.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
	SortYear      = "year"
	SortTitle     = "title"
)

// Sorts lists the orders a reader can choose.
var Sorts = []string{SortRelevance, SortNewest, SortYear, SortTitle}

// Limits on a query, so no request can ask for unbounded work.
const (
	MaxQueryLen    = 2000
	MaxQueryTerms  = 32
	MaxFacetValues = 20
	DefaultPerPage = 20
	MaxPerPage     = 100
	MaxPage        = 10000
)

// Option is one value of a facet with the number of results it would give.
type Option struct {
	Value    string `json:"value"`
	Count    int    `json:"count"`
	Selected bool   `json:"selected"`
}

// Facets are the counts for the current search. Each group's counts apply
// every other group's filters but not its own, so they say what ticking
// one more option in the group would add.
type Facets struct {
	Topics    []Option
	Formats   []Option
	Languages []Option
	Regions   []Option
	Decades   []Option // "1990", "2000", ... by decade start
}

// Results is a page of a search.
type Results struct {
	Query     Query
	Resources []Resource
	Total     int
	Pages     int
	Facets    Facets
	// Words are the terms actually searched for; empty when the text held
	// nothing searchable (only punctuation or emoji, say).
	Words []string
}

// normalise caps and cleans a query so that nothing a person types can
// become an error or unbounded work.
func (q Query) normalise() Query {
	if len(q.Text) > MaxQueryLen {
		q.Text = q.Text[:MaxQueryLen]
	}
	q.Text = strings.ToValidUTF8(q.Text, " ")
	clean := func(vals []string, max int) []string {
		var out []string
		for _, v := range vals {
			v = strings.TrimSpace(strings.ToValidUTF8(v, ""))
			if v != "" && utf8.RuneCountInString(v) <= max && len(out) < MaxFacetValues {
				out = append(out, v)
			}
		}
		return out
	}
	q.Topics = clean(q.Topics, MaxTopicLen)
	q.Formats = clean(q.Formats, 20)
	q.Languages = clean(q.Languages, 35)
	q.Regions = clean(q.Regions, MaxRegionLen)
	if q.YearFrom < MinYear || q.YearFrom > MaxYear {
		q.YearFrom = 0
	}
	if q.YearTo < MinYear || q.YearTo > MaxYear {
		q.YearTo = 0
	}
	if !slices.Contains(Sorts, q.Sort) {
		q.Sort = ""
	}
	if q.Sort == "" || (q.Sort == SortRelevance && strings.TrimSpace(q.Text) == "") {
		q.Sort = SortNewest
		if strings.TrimSpace(q.Text) != "" {
			q.Sort = SortRelevance
		}
	}
	q.Page = min(max(q.Page, 1), MaxPage)
	if q.PerPage <= 0 {
		q.PerPage = DefaultPerPage
	}
	q.PerPage = min(q.PerPage, MaxPerPage)
	return q
}

// terms turns what a person typed into the words to search for: runs of
// letters and numbers, lower-cased. The engines' own syntax (FTS5's quotes,
// AND, OR, NOT, NEAR, *, ^, column filters and parentheses; tsquery's &, |,
// !, <->, :* and quotes) never reaches them.
func terms(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !wordRune(r) }) {
		if len(w) > 64 {
			w = w[:64]
			w = strings.ToValidUTF8(w, "")
		}
		if !strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsMark(r) }) {
			continue // accents alone: nothing the index holds
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
		if len(out) == MaxQueryTerms {
			break
		}
	}
	return out
}

// wordRune says whether r is part of a word. A word may only break where
// FTS5's unicode61 tokenizer breaks the indexed text, or the words looked
// for are not the words indexed: it keeps letters, numbers (all of them:
// "x²" is one token) and private-use characters, and combining marks
// belong to their letter ("résumé" with decomposed accents, as macOS
// often sends it, is one word, not "re" and "sume"). Where the tokenizer
// breaks a word further, it does the same inside the quoted word; so does
// PostgreSQL's plenary_search_query, which splits each word as the
// document was split (postgres.sql).
func wordRune(r rune) bool {
	return unicode.In(r, unicode.Letter, unicode.Number, unicode.Mark, unicode.Co)
}

// searchTerms makes the words into the terms of a search: all of them
// required, and words of two or more letters also matched as prefixes, so
// "cooperative" finds "cooperatives" and "co-op" (the words "co" and "op")
// finds "co-operatives". How each database is asked is db.SearchQuery's.
func searchTerms(words []string) []db.Term {
	ts := make([]db.Term, len(words))
	for i, w := range words {
		ts[i] = db.Term{Word: w, Prefix: utf8.RuneCountInString(w) >= 2}
	}
	return ts
}

// filter builds the WHERE clause for listed resources matching q: the
// text match and every facet group's condition.
func (q Query) filter(d *db.DB, match string) (string, []any) {
	where := []string{"r.status = 'listed'"}
	var args []any
	if match != "" {
		where = append(where, d.SearchMatch("r"))
		args = append(args, match)
	}
	for _, g := range facetGroups {
		cond, a := q.groupCond(d, g)
		where, args = append(where, cond), append(args, a...)
	}
	return strings.Join(where, " AND "), args
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// Search runs a query over the listed library.
func (s *Service) Search(ctx context.Context, q Query) (Results, error) {
	q = q.normalise()
	res := Results{Query: q, Words: terms(q.Text)}
	if strings.TrimSpace(q.Text) != "" && len(res.Words) == 0 {
		// Only punctuation or symbols: nothing to look for, so nothing found.
		res.Pages = 1
		return res, nil
	}
	match := ""
	if len(res.Words) > 0 {
		match = s.db.SearchQuery(searchTerms(res.Words))
	}
	var err error
	if res.Total, res.Facets, err = s.counts(ctx, q, match); err != nil {
		return Results{}, err
	}
	res.Pages = max(1, (res.Total+q.PerPage-1)/q.PerPage)
	if res.Resources, err = s.matching(ctx, q, match, q.PerPage, (q.Page-1)*q.PerPage); err != nil {
		return Results{}, err
	}
	return res, nil
}

// matching returns limit resources matching q from offset, in q's order.
//
// The page is chosen first, by id, and only its rows are then read whole:
// ordering every match with its whole row (summary, authors and all) cost
// more than finding them, a third of the library for a common word.
// Ordered by relevance, the ranked search holds only the matches, so the
// filter leaves the text out rather than run the search a second time.
func (s *Service) matching(ctx context.Context, q Query, match string, limit, offset int) ([]Resource, error) {
	var order, outer string
	from, picked, filterMatch := "resources r", "r.id", match
	rankArgs := []any{}
	switch q.Sort {
	case SortRelevance:
		from = "resources r JOIN " + s.db.SearchRanked("f") + " ON f.id = r.id"
		rankArgs = append(rankArgs, match)
		order, picked, outer, filterMatch = "f.rank, r.id", "r.id, f.rank", "ids.rank, r.id", ""
	case SortYear:
		order = "r.year IS NULL, r.year DESC, " + s.db.NoCase("r.title")
	case SortTitle:
		order = s.db.NoCase("r.title") + ", r.id"
	default:
		order = "r.listed_at DESC, r.id DESC"
	}
	if outer == "" {
		outer = order // the same columns of the same rows
	}
	cond, args := q.filter(s.db, filterMatch)
	var rs []Resource
	err := s.db.R.SelectContext(ctx, &rs, `SELECT `+prefixed("r.", resourceColumns)+` FROM resources r JOIN (SELECT `+picked+
		` FROM `+from+` WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?) ids ON ids.id = r.id ORDER BY `+outer,
		append(append(rankArgs, args...), limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("library: search: %w", err)
	}
	return rs, nil
}

// Newest returns the n most recently listed resources, without the facet
// counts a search computes: the home page and feeds need only the list.
func (s *Service) Newest(ctx context.Context, n int) ([]Resource, error) {
	return s.matching(ctx, Query{Sort: SortNewest}, "", min(max(n, 1), MaxPerPage), 0)
}

// MaxExport caps how many resources one export holds.
const MaxExport = 50_000

// SearchAll returns every listed resource matching q (page and page size
// ignored), up to MaxExport, for exports of the current search.
func (s *Service) SearchAll(ctx context.Context, q Query) ([]Resource, error) {
	q = q.normalise()
	words := terms(q.Text)
	if strings.TrimSpace(q.Text) != "" && len(words) == 0 {
		return nil, nil
	}
	match := ""
	if len(words) > 0 {
		match = s.db.SearchQuery(searchTerms(words))
	}
	return s.matching(ctx, q, match, MaxExport, 0)
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// facetGroups are the facet groups in the order facets counts them.
var facetGroups = []string{"topic", "format", "language", "region", "year"}

// groupCond is the SQL condition of one facet group's filter over a row r,
// always true ("1 = 1") when the group has no selection.
func (q Query) groupCond(d *db.DB, group string) (string, []any) {
	in := func(column string, vals []string) (string, []any) {
		if len(vals) == 0 {
			return "1 = 1", nil
		}
		args := make([]any, len(vals))
		for i, v := range vals {
			args[i] = v
		}
		return column + " IN (" + placeholders(len(vals)) + ")", args
	}
	switch group {
	case "topic":
		if len(q.Topics) == 0 {
			return "1 = 1", nil
		}
		cond, args := in("t.value", q.Topics)
		exact := "EXISTS (SELECT 1 FROM " + d.JSONEach("r.topics", "t") + " WHERE " + cond + ")"
		if pre, preArgs := topicsPrefilter(d, q.Topics); pre != "" {
			return "(" + pre + ") AND " + exact, append(preArgs, args...)
		}
		return exact, args
	case "format":
		return in("r.format", q.Formats)
	case "language":
		return in("r.language", q.Languages)
	case "region":
		return in("r.region", q.Regions)
	}
	var conds []string
	var args []any
	if q.YearFrom != 0 {
		conds, args = append(conds, "r.year >= ?"), append(args, q.YearFrom)
	}
	if q.YearTo != 0 {
		conds, args = append(conds, "r.year <= ?"), append(args, q.YearTo)
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

// topicsPrefilter is db.TopicsPrefilter's condition for topics, or ""
// when one of them has no prefilter. Without it, every row matching the
// words is read and its whole array parsed by the exact check (groupCond's
// json_each): "platform" and the topic "platform co-ops", over the demo's
// 10,000 resources, read 3,249 rows to keep 763.
//
// It is a trade (issue 17; the server's CPU a page, 300 reads of the demo
// one after another): a search whose words match much of the library costs
// 1.5-3.5 ms less (9.8 ms for that one, against 11.5-13.2; "worker" with
// "governance" 8.6 against 10.6), and one that matches little, or has no
// words, 0.4-0.6 ms more (4.7 against 4.3 ms for a topic alone), for the
// index's reading of the topic's words in every column. Searching each
// row's text for the topic's JSON string instead (instr) never cost more
// but saved less (10.9-12.4 ms for the first), as every matching row is
// still read.
//
// Plenary writes every array with encoding/json (List.Value), so a topic
// whose JSON string is itself between quotes is stored as it is; SQLite's
// own json functions would write it so too, as would any encoder that
// escapes only what it must. A topic with an escape (quotes, a backslash,
// or <, > and &, which encoding/json escapes for HTML) gets no prefilter,
// and the exact check alone decides.
func topicsPrefilter(d *db.DB, topics []string) (string, []any) {
	for _, t := range topics {
		if b, err := json.Marshal(t); err != nil || string(b) != `"`+t+`"` {
			return "", nil
		}
	}
	return d.TopicsPrefilter("r", topics)
}

// facets counts the matching resources and each facet's options in one
// statement: the text match and the scan of the library run once, into a
// table of the matches with a flag per facet group saying whether the row
// passes that group's filter; each group's counts then take the rows that
// pass every other group.
func (s *Service) facets(ctx context.Context, q Query, match string) (int, Facets, error) {
	var cols []string
	var args []any
	for _, g := range facetGroups {
		cond, a := q.groupCond(s.db, g)
		cols = append(cols, "("+cond+") AS f_"+g)
		args = append(args, a...)
	}
	where := "r.status = 'listed'"
	if match != "" {
		where += " AND " + s.db.SearchMatch("r")
		args = append(args, match)
	}
	others := func(except string) string {
		var fs []string
		for _, g := range facetGroups {
			if g != except {
				fs = append(fs, "f_"+g)
			}
		}
		return strings.Join(fs, " AND ")
	}
	count := func(group, expr, from string) string {
		return `SELECT * FROM (SELECT '` + group + `', ` + expr + ` AS v, count(*) AS n FROM ` + from + ` WHERE ` + others(group) +
			` AND ` + expr + ` IS NOT NULL AND ` + expr + ` <> '' GROUP BY v ORDER BY n DESC, v LIMIT 50) AS ` + group + `_counts`
	}
	query := `WITH h AS MATERIALIZED (SELECT r.format, r.language, r.region, r.year, r.topics, ` + strings.Join(cols, ", ") +
		` FROM resources r WHERE ` + where + `)
		SELECT 'total', '', count(*) FROM h WHERE ` + others("") + `
		UNION ALL ` + count("topic", "t.value", "h, "+s.db.JSONEach("h.topics", "t")) + `
		UNION ALL ` + count("format", "format", "h") + `
		UNION ALL ` + count("language", "language", "h") + `
		UNION ALL ` + count("region", "region", "h") + `
		UNION ALL ` + count("year", "CAST(year / 10 * 10 AS TEXT)", "h")
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, Facets{}, fmt.Errorf("library: count facets: %w", err)
	}
	defer rows.Close()
	var total int
	var f Facets
	groups := map[string]*[]Option{"topic": &f.Topics, "format": &f.Formats, "language": &f.Languages, "region": &f.Regions, "year": &f.Decades}
	selected := map[string][]string{"topic": q.Topics, "format": q.Formats, "language": q.Languages, "region": q.Regions}
	for rows.Next() {
		var group string
		var o Option
		if err := rows.Scan(&group, &o.Value, &o.Count); err != nil {
			return 0, Facets{}, fmt.Errorf("library: read facets: %w", err)
		}
		if group == "total" {
			total = o.Count
			continue
		}
		o.Selected = slices.Contains(selected[group], o.Value)
		*groups[group] = append(*groups[group], o)
	}
	if err := rows.Err(); err != nil {
		return 0, Facets{}, fmt.Errorf("library: read facets: %w", err)
	}
	// A selected option with no results still shows, so it can be unticked.
	for group, vals := range selected {
		for _, v := range vals {
			found := false
			for _, o := range *groups[group] {
				found = found || o.Value == v
			}
			if !found {
				*groups[group] = append(*groups[group], Option{Value: v, Selected: true})
			}
		}
	}
	sort.Slice(f.Decades, func(i, j int) bool { return f.Decades[i].Value < f.Decades[j].Value })
	return total, f, nil
}
