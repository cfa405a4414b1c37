// Zotero's CSV, read by column name and written with Zotero's columns.

package library

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// zoteroFormats maps Zotero item types to our formats; anything else is
// "other".
var zoteroFormats = map[string]string{
	"book": "book", "bookSection": "book",
	"journalArticle": "article", "magazineArticle": "article", "newspaperArticle": "article", "blogPost": "article",
	"conferencePaper": "article", "preprint": "article", "encyclopediaArticle": "article", "dictionaryEntry": "article",
	"forumPost": "article", "report": "report", "standard": "report", "webpage": "website", "dataset": "dataset",
	"videoRecording": "video", "film": "video", "tvBroadcast": "video",
	"podcast": "podcast", "audioRecording": "podcast", "radioBroadcast": "podcast",
}

// zoteroTypes maps our formats to Zotero item types; see cslTypes for how
// the finer formats survive the trip.
var zoteroTypes = map[string]string{
	"report": "report", "article": "journalArticle", "book": "book", "toolkit": "report", "case study": "report",
	"policy brief": "report", "video": "videoRecording", "podcast": "podcast", "course": "webpage",
	"dataset": "dataset", "website": "webpage", "other": "document",
}

// csvColumns are the columns the export writes: a subset of Zotero's, in
// Zotero's order.
var csvColumns = []string{"Key", "Item Type", "Publication Year", "Author", "Title", "ISBN", "DOI", "Url",
	"Abstract Note", "Publisher", "Language", "Rights", "Type", "Manual Tags"}

func decodeCSV(data []byte) (Decoded, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked below, to say which row is ragged
	header, err := r.Read()
	if err == io.EOF {
		return Decoded{}, fileError("The file is empty.")
	}
	if err != nil {
		return Decoded{}, csvProblem(err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[h]; !dup {
			cols[h] = i
		}
	}
	var missing []string
	for _, want := range []string{"Item Type", "Title"} {
		if _, ok := cols[strings.ToLower(want)]; !ok {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return Decoded{}, fileError("This is not JSON, nor a CSV with Zotero's columns: its first line has no %s column. "+
			"Export from Zotero as CSV, or name the columns as Zotero does (Item Type, Title, Author, Url, ...).",
			strings.Join(missing, " or "))
	}
	dec := Decoded{Format: FileFormatNames[FileCSV]}
	for row := 2; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Decoded{}, csvProblem(err)
		}
		if row-1 > MaxImportRows {
			return Decoded{}, tooManyRows()
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			return Decoded{}, fileError("Row %d (line %d) has %d columns but the header has %d; the file may be damaged.",
				row, line, len(rec), len(header))
		}
		if blank(rec) {
			continue
		}
		get := func(name string) string {
			if i, ok := cols[strings.ToLower(name)]; ok {
				return unescapeCell(rec[i])
			}
			return ""
		}
		itemType := strings.TrimSpace(get("Item Type"))
		format := formatOr(zoteroFormats[itemType], get("Type"))
		authors := get("Author")
		if strings.TrimSpace(authors) == "" {
			authors = get("Editor")
		}
		year := strings.TrimSpace(get("Publication Year"))
		if year == "" {
			year = yearPattern.FindString(get("Date"))
		}
		publisher := get("Publisher")
		if strings.TrimSpace(publisher) == "" && format == "article" {
			publisher = get("Publication Title")
		}
		doi := get("DOI")
		if strings.TrimSpace(doi) == "" {
			doi = extraField(get("Extra"), "doi")
		}
		in := ResourceInput{Title: get("Title"), URL: get("Url"), Authors: zoteroAuthors(authors), Publisher: publisher,
			Year: year, Format: format, Language: languageOf(get("Language")), Topics: get("Manual Tags"),
			Licence: get("Rights"), Summary: get("Abstract Note"), DOI: doi, ISBN: firstISBN(get("ISBN"))}
		fillLink(&in)
		dec.Resources = append(dec.Resources, ResourceRow{Row: row, Line: line, Input: in})
	}
	return dec, nil
}

func csvProblem(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileError("The CSV is malformed at line %d, column %d: %v. Check the quotes around that field.", pe.Line, pe.Column, pe.Err)
	}
	return fileError("The CSV could not be read: %v.", err)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// extraField finds "Key: value" in Zotero's Extra field, where Zotero keeps
// fields an item type lacks (a report's DOI, say).
func extraField(extra, key string) string {
	for _, line := range strings.Split(extra, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// nameSuffixes are what may follow a comma in a name that is not inverted.
var nameSuffixes = map[string]bool{"jr": true, "jr.": true, "sr": true, "sr.": true, "ii": true, "iii": true, "iv": true}

// zoteroAuthors turns Zotero's "Last, First; Last, First" into one name a
// line, given name first. A name without a comma (an organisation, or a
// name Zotero holds in one field) stays as it is.
func zoteroAuthors(s string) string {
	var out []string
	for _, name := range strings.Split(s, ";") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if last, first, ok := strings.Cut(name, ","); ok {
			last, first = strings.TrimSpace(last), strings.TrimSpace(first)
			switch {
			case nameSuffixes[strings.ToLower(first)]:
			case first == "":
				name = last
			case last == "":
				name = first
			default:
				name = first + " " + last
			}
		}
		out = append(out, name)
	}
	return strings.Join(out, "\n")
}

// A cell starting with one of these is a formula to a spreadsheet. The
// export prefixes such cells with an apostrophe, so that a title a member
// typed cannot run in an admin's Excel; the import takes it off again.
const formulaStarts = "=+-@\t\r"

// A cell that already looks escaped (apostrophes, then a formula start) is
// escaped once more, so that a title typed as "'=x" comes back as it was.
func escapeCell(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) || escaped(s) {
		return "'" + s
	}
	return s
}

func unescapeCell(s string) string {
	if escaped(s) {
		return s[1:]
	}
	return s
}

func escaped(s string) bool {
	rest := strings.TrimLeft(s, "'")
	return len(rest) < len(s) && rest != "" && strings.ContainsRune(formulaStarts, rune(rest[0]))
}

// exportCSV writes Zotero's columns with a byte order mark, so Excel reads
// the file as UTF-8. Names are written as the library holds them, given
// name first: the library cannot tell a person from an organisation, and
// "Wealth, Common" would be worse than "Common Wealth".
func exportCSV(w io.Writer, rs []Resource) error {
	if _, err := w.Write(utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for _, r := range rs {
		itemType := zoteroTypes[r.Format]
		genre := ""
		if formatOr(zoteroFormats[itemType], "") != r.Format {
			genre = genreOf(r.Format)
		}
		year := ""
		if r.Year != nil {
			year = strconv.Itoa(*r.Year)
		}
		rec := []string{fmt.Sprintf("plenary-%d", r.ID), itemType, year, strings.Join(r.Authors, "; "), r.Title,
			r.ISBN, r.DOI, r.URL, r.Summary, r.Publisher, r.Language, r.Licence, genre, strings.Join(r.Topics, "; ")}
		for i := range rec {
			rec[i] = escapeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
