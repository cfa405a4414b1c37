// CSL-JSON, as Zotero, Pandoc and citeproc use it.

package library

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// cslItem is the part of a CSL-JSON item the library reads.
type cslItem struct {
	Type           string          `json:"type"`
	Title          string          `json:"title"`
	Author         []cslName       `json:"author"`
	Editor         []cslName       `json:"editor"`
	Issued         json.RawMessage `json:"issued"`
	Publisher      string          `json:"publisher"`
	ContainerTitle string          `json:"container-title"`
	Genre          string          `json:"genre"`
	URL            string          `json:"URL"`
	DOI            string          `json:"DOI"`
	ISBN           string          `json:"ISBN"`
	Language       string          `json:"language"`
	Abstract       string          `json:"abstract"`
	Keyword        string          `json:"keyword"`
	License        string          `json:"license"`
}

type cslName struct {
	Family              string `json:"family,omitempty"`
	Given               string `json:"given,omitempty"`
	DroppingParticle    string `json:"dropping-particle,omitempty"`
	NonDroppingParticle string `json:"non-dropping-particle,omitempty"`
	Suffix              string `json:"suffix,omitempty"`
	Literal             string `json:"literal,omitempty"`
}

// name writes a CSL name the way the library stores names: given name first.
func (n cslName) name() string {
	if strings.TrimSpace(n.Literal) != "" {
		return n.Literal
	}
	var parts []string
	for _, p := range []string{n.Given, n.DroppingParticle, n.NonDroppingParticle, n.Family} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	name := strings.Join(parts, " ")
	if s := strings.TrimSpace(n.Suffix); s != "" && name != "" {
		name += ", " + s
	}
	return name
}

// cslFormats maps CSL item types to our formats; anything else is "other".
var cslFormats = map[string]string{
	"book": "book", "chapter": "book", "classic": "book",
	"article": "article", "article-journal": "article", "article-magazine": "article", "article-newspaper": "article",
	"post": "article", "post-weblog": "article", "review": "article", "review-book": "article",
	"paper-conference": "article", "entry": "article", "entry-dictionary": "article", "entry-encyclopedia": "article",
	"report": "report", "pamphlet": "report", "webpage": "website", "dataset": "dataset",
	"motion_picture": "video", "broadcast": "video", "song": "podcast",
}

// cslTypes maps our formats to CSL types. Where the type maps back to a
// different format, the export writes the format as the genre, which the
// import reads back (and which citation styles print, "[Policy brief]").
var cslTypes = map[string]string{
	"report": "report", "article": "article-journal", "book": "book", "toolkit": "report", "case study": "report",
	"policy brief": "report", "video": "motion_picture", "podcast": "broadcast", "course": "webpage",
	"dataset": "dataset", "website": "webpage", "other": "document",
}

func decodeCSL(data []byte) (Decoded, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return Decoded{}, fileError("%s", jsonProblem(err))
	}
	if len(items) > MaxImportRows {
		return Decoded{}, tooManyRows()
	}
	dec := Decoded{Format: FileFormatNames[FileCSL]}
	for i, raw := range items {
		var it cslItem
		if err := json.Unmarshal(raw, &it); err != nil {
			dec.Rejected = append(dec.Rejected, RowError{Row: i + 1, Reason: jsonProblem(err)})
			continue
		}
		format := formatOr(cslFormats[strings.ToLower(strings.TrimSpace(it.Type))], it.Genre)
		names := it.Author
		if len(names) == 0 {
			names = it.Editor
		}
		authors := make([]string, 0, len(names))
		for _, n := range names {
			authors = append(authors, n.name())
		}
		publisher := it.Publisher
		if strings.TrimSpace(publisher) == "" && format == "article" {
			publisher = it.ContainerTitle
		}
		in := ResourceInput{Title: it.Title, URL: it.URL, Authors: strings.Join(authors, "\n"), Publisher: publisher,
			Year: cslYear(it.Issued), Format: format, Language: languageOf(it.Language), Topics: it.Keyword,
			Licence: it.License, Summary: it.Abstract, DOI: it.DOI, ISBN: firstISBN(it.ISBN)}
		fillLink(&in)
		dec.Resources = append(dec.Resources, ResourceRow{Row: i + 1, Input: in})
	}
	return dec, nil
}

// cslYear reads the year of a CSL date: {"date-parts": [[2021, 3]]} with
// numbers or strings, {"raw": "2021-03"}, {"literal": "Spring 2021"}, or a
// bare string.
func cslYear(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return yearPattern.FindString(s)
	}
	var d struct {
		DateParts [][]json.RawMessage `json:"date-parts"`
		Raw       string              `json:"raw"`
		Literal   string              `json:"literal"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return ""
	}
	if len(d.DateParts) > 0 && len(d.DateParts[0]) > 0 {
		// A year the validation will judge, so an odd one is reported, not lost.
		return strings.Trim(string(d.DateParts[0][0]), `"`)
	}
	if y := yearPattern.FindString(d.Raw); y != "" {
		return y
	}
	return yearPattern.FindString(d.Literal)
}

// cslOut is a CSL-JSON item as the export writes it. Names go out as
// literals, as the library holds them (see exportCSV).
type cslOut struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Genre     string    `json:"genre,omitempty"`
	Title     string    `json:"title"`
	Author    []cslName `json:"author,omitempty"`
	Issued    *cslDate  `json:"issued,omitempty"`
	Publisher string    `json:"publisher,omitempty"`
	URL       string    `json:"URL"`
	DOI       string    `json:"DOI,omitempty"`
	ISBN      string    `json:"ISBN,omitempty"`
	Language  string    `json:"language,omitempty"`
	Abstract  string    `json:"abstract,omitempty"`
	Keyword   string    `json:"keyword,omitempty"`
	License   string    `json:"license,omitempty"`
}

type cslDate struct {
	DateParts [][]int `json:"date-parts"`
}

func exportCSL(w io.Writer, rs []Resource) error {
	items := make([]cslOut, 0, len(rs))
	for _, r := range rs {
		it := cslOut{ID: fmt.Sprintf("plenary-%d", r.ID), Type: cslTypes[r.Format], Title: r.Title, Publisher: r.Publisher,
			URL: r.URL, DOI: r.DOI, ISBN: r.ISBN, Language: r.Language, Abstract: r.Summary,
			Keyword: strings.Join(r.Topics, ", "), License: r.Licence}
		if formatOr(cslFormats[it.Type], "") != r.Format {
			it.Genre = genreOf(r.Format)
		}
		for _, a := range r.Authors {
			it.Author = append(it.Author, cslName{Literal: a})
		}
		if r.Year != nil {
			it.Issued = &cslDate{DateParts: [][]int{{*r.Year}}}
		}
		items = append(items, it)
	}
	return encodeJSON(w, items)
}
