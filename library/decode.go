// Decoding an import file: telling its format from its content, the rows
// it holds, and the words for what is wrong with it.

package library

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"plenary/internal/check"
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

func tooManyRows() error {
	return fileError("The file has more than %d rows; split it into smaller files.", MaxImportRows)
}

var yearPattern = regexp.MustCompile(`\b\d{4}\b`)

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
	if doi, ok := check.DOI(in.DOI); ok {
		in.URL = "https://doi.org/" + doi
	} else if isbn, ok := check.ISBN(in.ISBN); ok {
		in.URL = "https://openlibrary.org/isbn/" + isbn
	}
}

// firstISBN: reference managers keep several ISBNs in one field
// ("9781682190623 1682190629"); the library keeps the first.
func firstISBN(s string) string {
	s = strings.TrimSpace(s)
	if _, ok := check.ISBN(s); ok || s == "" {
		return s
	}
	if f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }); len(f) > 0 {
		if _, ok := check.ISBN(f[0]); ok {
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

// tagNames are the English names of the languages languageNames knows,
// by tag, for people to read where the catalogue keeps a tag.
var tagNames = map[string]string{
	"en": "English", "fr": "French", "es": "Spanish", "de": "German", "pt": "Portuguese", "it": "Italian", "nl": "Dutch",
	"ca": "Catalan", "cy": "Welsh", "ga": "Irish", "eu": "Basque", "el": "Greek", "pl": "Polish", "sv": "Swedish",
	"da": "Danish", "no": "Norwegian", "fi": "Finnish", "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ar": "Arabic",
	"hi": "Hindi", "tr": "Turkish", "ru": "Russian", "uk": "Ukrainian",
}

// LanguageName is a language tag in English words: "en" is English,
// "pt-BR" Portuguese (BR). A tag whose language it does not know stays as
// it is.
func LanguageName(tag string) string {
	base, rest, _ := strings.Cut(tag, "-")
	name, ok := tagNames[strings.ToLower(base)]
	switch {
	case !ok:
		return tag
	case rest != "":
		return name + " (" + rest + ")"
	}
	return name
}

func languageOf(s string) string {
	if tag, ok := languageNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return tag
	}
	return s
}
