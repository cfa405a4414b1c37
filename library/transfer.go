package library

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// File formats the library reads and writes. Export takes these codes;
// reports name the format in words (FileFormatNames).
const (
	FileJSON = "json" // Plenary's own, with demands
	FileCSV  = "csv"  // Zotero's CSV columns
	FileCSL  = "csl"  // CSL-JSON, as Zotero, Pandoc and citeproc use it
)

// FileFormatNames names each file format for people.
var FileFormatNames = map[string]string{FileJSON: "Plenary JSON", FileCSV: "Zotero CSV", FileCSL: "CSL-JSON"}

// Limits on an import file, so that no upload becomes unbounded work.
const (
	MaxImportBytes = 20 << 20
	MaxImportRows  = 50000
)

// libraryFormat and libraryVersion identify our own JSON.
const (
	libraryFormat  = "plenary-library"
	libraryVersion = 1
)

// ErrRejected says an import changed nothing because some rows were wrong;
// the report lists them.
var ErrRejected = errors.New("library: import rejected")

// RowError is one wrong row of an import file. Row is the row as the person
// sees it: in a CSV the spreadsheet row, counting the header as row 1; in
// JSON the 1-based position in its array (resources and demands counted
// apart, so Demand says which). Line is where a CSV row starts in the file,
// which differs from Row once a field above holds a line break.
type RowError struct {
	Row    int
	Line   int // CSV only
	Demand bool
	Field  string // "" when the row as a whole is wrong
	Reason string
}

func (e RowError) String() string {
	s := fmt.Sprintf("row %d", e.Row)
	if e.Demand {
		s = fmt.Sprintf("demand %d", e.Row)
	}
	if e.Line != 0 && e.Line != e.Row {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Reason
}

// ImportReport says what an import did, or why it did nothing.
type ImportReport struct {
	Format         string // in words, from FileFormatNames
	Added          int
	Updated        int
	Duplicates     int // resources already in the library, or twice in the file
	DemandsAdded   int
	DemandsSkipped int // demands whose title is already in the register
	Rejected       []RowError
}

// Decoded is an import file read into rows, before any rule is checked.
type Decoded struct {
	Format    string // in words, from FileFormatNames
	Resources []ResourceRow
	Demands   []DemandRow
	// Rejected are rows whose shape was wrong (a list where text belongs,
	// say), so they could not even be read.
	Rejected []RowError
}

// ResourceRow is one resource of an import file.
type ResourceRow struct {
	Row    int
	Line   int // CSV only: the line the row starts on
	Input  ResourceInput
	Status string // only our JSON carries it
}

// DemandRow is one demand of an import file. Its supporting resources are
// links, since ids differ between databases; Input.Resources is unused.
type DemandRow struct {
	Row    int
	Input  DemandInput
	Status string
	URLs   []string
}

func fileError(format string, args ...any) error {
	return ValidationError{"file": fmt.Sprintf(format, args...)}
}

var utf8BOM = []byte("\uFEFF")

// Decode reads an import file, telling its format from its content: a JSON
// object is our own format, a JSON array is CSL-JSON, anything else must be
// a CSV with Zotero's column names. A file that cannot be read at all gives
// a ValidationError on "file" whose message is safe to show.
func Decode(data []byte) (Decoded, error) {
	if len(data) > MaxImportBytes {
		return Decoded{}, fileError("The file is larger than %d MB; split it into smaller files.", MaxImportBytes>>20)
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return Decoded{}, fileError("The file is in UTF-16; save it as UTF-8 (in Excel: CSV UTF-8) and try again.")
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return Decoded{}, fileError("The file is empty.")
	}
	switch trimmed[0] {
	case '{':
		return decodeLibrary(trimmed)
	case '[':
		return decodeCSL(trimmed)
	default:
		return decodeCSV(data)
	}
}

// jsonProblem says in plain words what is wrong with some JSON.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		if syntax.Offset > 0 && !strings.Contains(syntax.Error(), "unexpected end") {
			return fmt.Sprintf("The file is not valid JSON: %v (at byte %d).", syntax, syntax.Offset)
		}
		return "The file is not valid JSON: it ends too soon, so it may be cut short."
	case errors.As(err, &typ):
		field := typ.Field
		if i := strings.LastIndex(field, "."); i >= 0 {
			field = field[i+1:]
		}
		if field == "" {
			return fmt.Sprintf("Expected %s, found a JSON %s.", jsonKind(typ.Type), typ.Value)
		}
		return fmt.Sprintf("%q should be %s, not a JSON %s.", field, jsonKind(typ.Type), typ.Value)
	}
	return "The file is not valid JSON."
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t == reflect.TypeFor[json.RawMessage]() {
			return "a value"
		}
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "something else"
}

// fileResource is a resource in our JSON. Endorsement is written on export,
// for the record, but never read: only a ballot endorses.
type fileResource struct {
	Title     string   `json:"title"`
	URL       string   `json:"url"`
	Authors   []string `json:"authors"`
	Publisher string   `json:"publisher"`
	Year      *int     `json:"year"`
	Format    string   `json:"format"`
	Language  string   `json:"language"`
	Region    string   `json:"region"`
	Topics    []string `json:"topics"`
	Licence   string   `json:"licence"`
	Summary   string   `json:"summary"`
	DOI       string   `json:"doi"`
	ISBN      string   `json:"isbn"`
	Status    string   `json:"status"`
}

type exportResource struct {
	fileResource
	EndorsedAt *time.Time `json:"endorsed_at"`
	EndorsedBy *int64     `json:"endorsed_by_proposal"`
}

type fileDemand struct {
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	Audience  string   `json:"audience"`
	Status    string   `json:"status"`
	Resources []string `json:"resources"`
}

type exportDemand struct {
	fileDemand
	EndorsedAt *time.Time      `json:"endorsed_at"`
	EndorsedBy *int64          `json:"endorsed_by_proposal"`
	Tally      json.RawMessage `json:"tally"`
}

type libraryFile struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Resources []json.RawMessage `json:"resources"`
	Demands   []json.RawMessage `json:"demands"`
}

func decodeLibrary(data []byte) (Decoded, error) {
	var f libraryFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Decoded{}, fileError("%s", jsonProblem(err))
	}
	if f.Format != libraryFormat {
		return Decoded{}, fileError(`This JSON is not a Plenary library export: it should say "format": %q. (CSL-JSON is a list of items, starting with "[".)`, libraryFormat)
	}
	if f.Version > libraryVersion {
		return Decoded{}, fileError("This file is version %d of the library format; this Plenary reads version %d. Upgrade Plenary to import it.", f.Version, libraryVersion)
	}
	if len(f.Resources)+len(f.Demands) > MaxImportRows {
		return Decoded{}, tooManyRows()
	}
	dec := Decoded{Format: FileFormatNames[FileJSON]}
	for i, raw := range f.Resources {
		var r fileResource
		if err := json.Unmarshal(raw, &r); err != nil {
			dec.Rejected = append(dec.Rejected, RowError{Row: i + 1, Reason: jsonProblem(err)})
			continue
		}
		in := ResourceInput{Title: r.Title, URL: r.URL, Authors: strings.Join(r.Authors, "\n"), Publisher: r.Publisher,
			Format: r.Format, Language: r.Language, Region: r.Region, Topics: strings.Join(r.Topics, "\n"),
			Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN}
		if r.Year != nil {
			in.Year = strconv.Itoa(*r.Year)
		}
		dec.Resources = append(dec.Resources, ResourceRow{Row: i + 1, Input: in, Status: r.Status})
	}
	for i, raw := range f.Demands {
		var d fileDemand
		if err := json.Unmarshal(raw, &d); err != nil {
			dec.Rejected = append(dec.Rejected, RowError{Row: i + 1, Demand: true, Reason: jsonProblem(err)})
			continue
		}
		dec.Demands = append(dec.Demands, DemandRow{Row: i + 1, Input: DemandInput{Title: d.Title, Body: d.Body, Audience: d.Audience},
			Status: d.Status, URLs: d.Resources})
	}
	return dec, nil
}

func tooManyRows() error {
	return fileError("The file has more than %d rows; split it into smaller files.", MaxImportRows)
}

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

var yearPattern = regexp.MustCompile(`\b\d{4}\b`)

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

// formatOr is the format an item type maps to, unless the genre (Zotero's
// "Report Type", "Website Type", ...) names one of ours: a report whose type
// is "Policy brief" is a policy brief.
func formatOr(format, genre string) string {
	if g := strings.ToLower(strings.TrimSpace(genre)); slices.Contains(Formats, g) {
		return g
	}
	if format == "" {
		return "other"
	}
	return format
}

// genreOf writes a format as Zotero writes a report's type: "Policy brief".
func genreOf(format string) string {
	if format == "" {
		return ""
	}
	return strings.ToUpper(format[:1]) + format[1:]
}

// fillLink gives a resource without a link one from its DOI or ISBN, since
// reference managers often hold books and articles without a URL.
func fillLink(in *ResourceInput) {
	if strings.TrimSpace(in.URL) != "" {
		return
	}
	if doi, ok := normaliseDOI(in.DOI); ok {
		in.URL = "https://doi.org/" + doi
	} else if isbn, ok := normaliseISBN(in.ISBN); ok {
		in.URL = "https://openlibrary.org/isbn/" + isbn
	}
}

// firstISBN: reference managers keep several ISBNs in one field
// ("9781682190623 1682190629"); the library keeps the first.
func firstISBN(s string) string {
	s = strings.TrimSpace(s)
	if _, ok := normaliseISBN(s); ok || s == "" {
		return s
	}
	if f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }); len(f) > 0 {
		if _, ok := normaliseISBN(f[0]); ok {
			return f[0]
		}
	}
	return s
}

// languageNames turns the language names reference managers often hold
// ("English") into tags.
var languageNames = map[string]string{
	"english": "en", "french": "fr", "français": "fr", "spanish": "es", "español": "es", "castellano": "es",
	"german": "de", "deutsch": "de", "portuguese": "pt", "português": "pt", "italian": "it", "italiano": "it",
	"dutch": "nl", "nederlands": "nl", "catalan": "ca", "català": "ca", "welsh": "cy", "cymraeg": "cy",
	"irish": "ga", "gaeilge": "ga", "basque": "eu", "euskara": "eu", "greek": "el", "polish": "pl",
	"swedish": "sv", "danish": "da", "norwegian": "no", "finnish": "fi", "japanese": "ja", "chinese": "zh",
	"korean": "ko", "arabic": "ar", "hindi": "hi", "turkish": "tr", "russian": "ru", "ukrainian": "uk",
}

func languageOf(s string) string {
	if tag, ok := languageNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return tag
	}
	return s
}

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

// checkedResource is a valid resource row of an import.
type checkedResource struct {
	row ResourceRow
	r   Resource
}

// checkedDemand is a valid demand row of an import, its supporting
// resources still as link keys.
type checkedDemand struct {
	d    Demand
	keys []string
}

// Import adds an import file's resources and demands to the library, as an
// operator's act: resources come in listed unless our JSON says otherwise.
//
// Every row is checked first, by the rules a form uses; if any is wrong,
// nothing is imported and the report lists each wrong row with ErrRejected.
// Otherwise, in one transaction:
//   - a resource with the link (normalised) or DOI of one in the library
//     updates its metadata if anything differs (a field the file leaves
//     empty, or a format cannot carry, keeps its value; the link, status and
//     endorsement are never changed), and is a duplicate if nothing does;
//   - a resource with only the title (normalised) of one in the library, or
//     with the link, DOI or title of one earlier in the file, is a
//     duplicate and skipped;
//   - any other resource is added;
//   - a demand is added as proposed (or rejected or withdrawn, if the file
//     says so) unless a demand with the same title exists. Its supporting
//     resources are links that must be in the file or in the library.
//
// Import never endorses anything: endorsement comes only from a ballot, so
// an "endorsed" demand in a file comes in as proposed, and endorsement
// fields in a file are ignored.
func (s *Service) Import(ctx context.Context, data []byte) (ImportReport, error) {
	dec, err := Decode(data)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Format: dec.Format, Rejected: dec.Rejected}

	var resources []checkedResource
	inFile := map[string]bool{} // link keys of the file's resources
	for _, row := range dec.Resources {
		r, errs := row.Input.resource()
		switch strings.ToLower(strings.TrimSpace(row.Status)) {
		case "", StatusListed:
			r.Status = StatusListed
		case StatusPending, StatusHidden:
			r.Status = strings.ToLower(strings.TrimSpace(row.Status))
		default:
			errs["status"] = "Choose listed, pending or hidden."
		}
		if r.URL != "" {
			inFile[urlKey(r.URL)] = true
		}
		if len(errs) > 0 {
			rep.Rejected = append(rep.Rejected, rowErrors(row.Row, row.Line, false, errs)...)
			continue
		}
		resources = append(resources, checkedResource{row: row, r: r})
	}

	var demands []checkedDemand
	for _, row := range dec.Demands {
		d, errs := row.Input.demand()
		switch strings.ToLower(strings.TrimSpace(row.Status)) {
		case "", DemandProposed, DemandEndorsed:
			d.Status = DemandProposed
		case DemandRejected, DemandWithdrawn:
			d.Status = strings.ToLower(strings.TrimSpace(row.Status))
		default:
			errs["status"] = "Choose proposed, rejected or withdrawn."
		}
		keys, msg, err := s.supportingKeys(ctx, row.URLs, inFile)
		if err != nil {
			return ImportReport{}, err
		}
		if msg != "" {
			errs["resources"] = msg
		}
		if len(errs) > 0 {
			rep.Rejected = append(rep.Rejected, rowErrors(row.Row, 0, true, errs)...)
			continue
		}
		demands = append(demands, checkedDemand{d: d, keys: keys})
	}

	if n := len(rep.Rejected); n > 0 {
		sort.SliceStable(rep.Rejected, func(i, j int) bool {
			a, b := rep.Rejected[i], rep.Rejected[j]
			if a.Demand != b.Demand {
				return !a.Demand
			}
			return a.Row < b.Row
		})
		rows := map[[2]int]bool{}
		for _, e := range rep.Rejected {
			rows[[2]int{boolInt(e.Demand), e.Row}] = true
		}
		return rep, fmt.Errorf("%w: %d %s wrong, so nothing was imported", ErrRejected, len(rows), plural(len(rows), "row is", "rows are"))
	}

	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		rep.Added, rep.Updated, rep.Duplicates, rep.DemandsAdded, rep.DemandsSkipped = 0, 0, 0, 0, 0
		ids := map[string]int64{} // link key in the file → the resource it became
		seen := fileKeys{}
		for _, c := range resources {
			id, outcome, err := s.importResource(ctx, tx, c, seen)
			if err != nil {
				return err
			}
			switch outcome {
			case added:
				rep.Added++
			case updated:
				rep.Updated++
			default:
				rep.Duplicates++
			}
			ids[urlKey(c.r.URL)] = id
			seen.add(c.r, id)
		}
		titles := map[string]bool{}
		for _, c := range demands {
			var exists bool
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM demands WHERE title = ?)`, c.d.Title); err != nil {
				return fmt.Errorf("library: import: find demand: %w", err)
			}
			if exists || titles[c.d.Title] {
				rep.DemandsSkipped++
				continue
			}
			titles[c.d.Title] = true
			d := c.d
			for _, key := range c.keys {
				id, ok := ids[key]
				if !ok {
					var err error
					if id, err = resourceByLink(ctx, tx, key); err != nil {
						return err
					}
				}
				if !containsID(d.Resources, id) {
					d.Resources = append(d.Resources, id)
				}
			}
			if _, err := s.insertDemand(ctx, tx, d); err != nil {
				return err
			}
			rep.DemandsAdded++
		}
		return nil
	})
	if err != nil {
		return ImportReport{Format: dec.Format}, err
	}
	return rep, nil
}

func rowErrors(row, line int, demand bool, errs ValidationError) []RowError {
	fields := make([]string, 0, len(errs))
	for f := range errs {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	out := make([]RowError, len(fields))
	for i, f := range fields {
		out[i] = RowError{Row: row, Line: line, Demand: demand, Field: f, Reason: errs[f]}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// supportingKeys checks a demand's supporting links: each must be a web
// address of a resource in the file (inFile) or in the library. It returns
// their keys, or a message for the person.
func (s *Service) supportingKeys(ctx context.Context, urls []string, inFile map[string]bool) ([]string, string, error) {
	var keys []string
	for _, raw := range urls {
		link, msg := checkURL(raw)
		if msg != "" {
			return nil, fmt.Sprintf("%q is not a full web address starting with https:// or http://.", raw), nil
		}
		key := urlKey(link)
		if slices.Contains(keys, key) {
			continue
		}
		if !inFile[key] {
			_, err := resourceByLink(ctx, s.db.R, key)
			if errors.Is(err, ErrNotFound) {
				return nil, fmt.Sprintf("No resource in this file or in the library has the link %s.", link), nil
			}
			if err != nil {
				return nil, "", err
			}
		}
		keys = append(keys, key)
	}
	if len(keys) > MaxSupporting {
		return nil, fmt.Sprintf("List at most %d supporting resources.", MaxSupporting), nil
	}
	return keys, "", nil
}

func resourceByLink(ctx context.Context, q sqlx.QueryerContext, key string) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM resources WHERE url_key = ? ORDER BY id LIMIT 1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("library: find resource by link: %w", err)
	}
	return id, nil
}

// fileKeys remembers the resources already imported from a file, so a
// resource twice in one file comes in once.
type fileKeys struct {
	links, dois, titles map[string]int64
}

func (k *fileKeys) add(r Resource, id int64) {
	if k.links == nil {
		k.links, k.dois, k.titles = map[string]int64{}, map[string]int64{}, map[string]int64{}
	}
	k.links[urlKey(r.URL)] = id
	if r.DOI != "" {
		k.dois[r.DOI] = id
	}
	if t := titleKey(r.Title); t != "" {
		k.titles[t] = id
	}
}

func (k fileKeys) match(r Resource) (int64, bool) {
	if id, ok := k.links[urlKey(r.URL)]; ok {
		return id, true
	}
	if id, ok := k.dois[r.DOI]; ok && r.DOI != "" {
		return id, true
	}
	id, ok := k.titles[titleKey(r.Title)]
	return id, ok && titleKey(r.Title) != ""
}

type outcome int

const (
	duplicate outcome = iota
	added
	updated
)

func (s *Service) importResource(ctx context.Context, tx *sqlx.Tx, c checkedResource, seen fileKeys) (int64, outcome, error) {
	r := c.r
	if id, ok := seen.match(r); ok {
		return id, duplicate, nil
	}
	var old Resource
	err := tx.GetContext(ctx, &old, `SELECT `+resourceColumns+` FROM resources
		WHERE url_key = ? OR (? <> '' AND doi = ?) ORDER BY url_key = ? DESC, id LIMIT 1`,
		urlKey(r.URL), r.DOI, r.DOI, urlKey(r.URL))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, 0, fmt.Errorf("library: import: find resource: %w", err)
	default:
		return s.mergeResource(ctx, tx, old, c.row.Input)
	}
	if t := titleKey(r.Title); t != "" {
		var id int64
		err := tx.GetContext(ctx, &id, `SELECT id FROM resources WHERE title_key = ? ORDER BY id LIMIT 1`, t)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, 0, fmt.Errorf("library: import: find title: %w", err)
		default:
			return id, duplicate, nil
		}
	}
	id, err := s.insertResource(ctx, tx, r)
	return id, added, err
}

// mergeResource lays a file's input over a resource already in the library:
// what the file gives replaces, what it leaves empty stays, and the link is
// kept (the two match already, or share a DOI).
func (s *Service) mergeResource(ctx context.Context, tx *sqlx.Tx, old Resource, in ResourceInput) (int64, outcome, error) {
	merged := InputOf(old)
	over := func(dst *string, src string) {
		if strings.TrimSpace(src) != "" {
			*dst = src
		}
	}
	over(&merged.Title, in.Title)
	over(&merged.Authors, in.Authors)
	over(&merged.Publisher, in.Publisher)
	over(&merged.Year, in.Year)
	over(&merged.Format, in.Format)
	over(&merged.Language, in.Language)
	over(&merged.Region, in.Region)
	over(&merged.Topics, in.Topics)
	over(&merged.Licence, in.Licence)
	over(&merged.Summary, in.Summary)
	over(&merged.DOI, in.DOI)
	over(&merged.ISBN, in.ISBN)
	r, errs := merged.resource()
	if len(errs) > 0 {
		return 0, 0, fmt.Errorf("library: import: resource %d with the file's changes: %w", old.ID, errs)
	}
	if sameMetadata(old, r) {
		return old.ID, duplicate, nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE resources SET title = ?, authors = ?, publisher = ?, year = ?, format = ?,
		language = ?, region = ?, topics = ?, licence = ?, summary = ?, doi = ?, isbn = ?, title_key = ?, updated_at = ?
		WHERE id = ?`,
		r.Title, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics, r.Licence, r.Summary,
		r.DOI, r.ISBN, titleKey(r.Title), s.now(), old.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("library: import: update resource: %w", err)
	}
	return old.ID, updated, nil
}

func sameMetadata(a, b Resource) bool {
	return a.Title == b.Title && a.URL == b.URL && slicesEqual(a.Authors, b.Authors) && a.Publisher == b.Publisher &&
		((a.Year == nil) == (b.Year == nil) && (a.Year == nil || *a.Year == *b.Year)) &&
		a.Format == b.Format && a.Language == b.Language && a.Region == b.Region && slicesEqual(a.Topics, b.Topics) &&
		a.Licence == b.Licence && a.Summary == b.Summary && a.DOI == b.DOI && a.ISBN == b.ISBN
}

func slicesEqual(a, b List) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// AllForExport returns every listed resource, in library order, and every
// demand with its supporting resources' ids.
func (s *Service) AllForExport(ctx context.Context) ([]Resource, []Demand, error) {
	var rs []Resource
	if err := s.db.R.SelectContext(ctx, &rs, `SELECT `+resourceColumns+` FROM resources WHERE status = 'listed' ORDER BY id`); err != nil {
		return nil, nil, fmt.Errorf("library: export resources: %w", err)
	}
	var ds []Demand
	if err := s.db.R.SelectContext(ctx, &ds, `SELECT `+demandColumns+` FROM demands ORDER BY id`); err != nil {
		return nil, nil, fmt.Errorf("library: export demands: %w", err)
	}
	var links []struct {
		Demand   int64 `db:"demand_id"`
		Resource int64 `db:"resource_id"`
	}
	if err := s.db.R.SelectContext(ctx, &links, `SELECT demand_id, resource_id FROM demand_resources ORDER BY demand_id, position`); err != nil {
		return nil, nil, fmt.Errorf("library: export demand resources: %w", err)
	}
	index := make(map[int64]int, len(ds))
	for i, d := range ds {
		index[d.ID] = i
	}
	for _, l := range links {
		if i, ok := index[l.Demand]; ok {
			ds[i].Resources = append(ds[i].Resources, l.Resource)
		}
	}
	return rs, ds, nil
}

// Export writes resources, and in our JSON demands too, in format (FileJSON,
// FileCSV or FileCSL). It writes what it is given, so the caller decides
// what may be seen. A demand's supporting resources are written as the
// links of those among rs, so a file always imports into an empty library
// and never names a resource the caller left out.
func (s *Service) Export(ctx context.Context, w io.Writer, format string, rs []Resource, ds []Demand) error {
	var err error
	switch format {
	case FileJSON:
		err = exportJSON(w, rs, ds)
	case FileCSV:
		err = exportCSV(w, rs)
	case FileCSL:
		err = exportCSL(w, rs)
	default:
		return ValidationError{"format": "Choose json, csv or csl."}
	}
	if err != nil {
		return fmt.Errorf("library: export %s: %w", format, err)
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func nonNil(l List) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func exportJSON(w io.Writer, rs []Resource, ds []Demand) error {
	out := struct {
		Format    string           `json:"format"`
		Version   int              `json:"version"`
		Resources []exportResource `json:"resources"`
		Demands   []exportDemand   `json:"demands"`
	}{Format: libraryFormat, Version: libraryVersion, Resources: []exportResource{}, Demands: []exportDemand{}}
	links := make(map[int64]string, len(rs))
	for _, r := range rs {
		links[r.ID] = r.URL
		out.Resources = append(out.Resources, exportResource{
			fileResource: fileResource{Title: r.Title, URL: r.URL, Authors: nonNil(r.Authors), Publisher: r.Publisher,
				Year: r.Year, Format: r.Format, Language: r.Language, Region: r.Region, Topics: nonNil(r.Topics),
				Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN, Status: r.Status},
			EndorsedAt: r.EndorsedAt, EndorsedBy: r.EndorsedBy})
	}
	for _, d := range ds {
		urls := []string{}
		for _, id := range d.Resources {
			if link, ok := links[id]; ok {
				urls = append(urls, link)
			}
		}
		var tally json.RawMessage
		if d.Tally != nil && json.Valid([]byte(*d.Tally)) {
			tally = json.RawMessage(*d.Tally)
		}
		out.Demands = append(out.Demands, exportDemand{
			fileDemand: fileDemand{Title: d.Title, Body: d.Body, Audience: d.Audience, Status: d.Status, Resources: urls},
			EndorsedAt: d.EndorsedAt, EndorsedBy: d.EndorsedBy, Tally: tally})
	}
	return encodeJSON(w, out)
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
