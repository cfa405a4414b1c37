package library

import (
	"bytes"
	"context"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

func TestImportZoteroCSV(t *testing.T) {
	data := fixture(t, "zotero.csv")
	if !bytes.HasPrefix(data, []byte("\uFEFF")) {
		t.Fatal("the fixture should start with a byte order mark, as Zotero writes it")
	}
	check := func(t *testing.T, data []byte) {
		s := transferService(t)
		rep, err := s.Import(context.Background(), data)
		if err != nil {
			t.Fatalf("import: %v (rejected %v)", err, rep.Rejected)
		}
		want := ImportReport{Format: "Zotero CSV", Added: 5}
		if !reflect.DeepEqual(rep, want) {
			t.Fatalf("report = %+v, want %+v", rep, want)
		}

		book := byTitle(t, s, "Ours to Hack and to Own: The Rise of Platform Cooperativism, a New Vision for the Future of Work and a Fairer Internet")
		if !reflect.DeepEqual(book.Authors, List{"Trebor Scholz", "Nathan Schneider"}) {
			t.Errorf("book authors = %q", book.Authors)
		}
		if book.Year == nil || *book.Year != 2016 || book.Format != "book" || book.Publisher != "OR Books" {
			t.Errorf("book = year %v, format %q, publisher %q", book.Year, book.Format, book.Publisher)
		}
		if book.ISBN != "9781682190623" || book.URL != "https://openlibrary.org/isbn/9781682190623" {
			t.Errorf("a book without a URL should link to its ISBN: isbn %q, url %q", book.ISBN, book.URL)
		}
		if !reflect.DeepEqual(book.Topics, List{"platform co-ops", "ownership", "digital commons"}) {
			t.Errorf("book topics = %q (manual tags only, not automatic ones)", book.Topics)
		}
		if book.Status != StatusListed || book.Endorsed() {
			t.Errorf("book status %q, endorsed %v: an operator's import is listed and never endorsed", book.Status, book.Endorsed())
		}

		article := byTitle(t, s, "Entrepreneurial Activism? Platform Cooperativism Between Subversion and Co-optation")
		if article.Format != "article" || article.DOI != "10.1177/0896920519870577" || article.Publisher != "Critical Sociology" {
			t.Errorf("article = format %q, doi %q, publisher %q", article.Format, article.DOI, article.Publisher)
		}
		if !strings.Contains(article.Summary, "for all their promise,") || !strings.Contains(article.Summary, "criticise.\n\nThe article") {
			t.Errorf("the abstract's comma and paragraphs were lost: %q", article.Summary)
		}
		if article.Year == nil || *article.Year != 2020 {
			t.Errorf("article year = %v", article.Year)
		}

		report := byTitle(t, s, "Platform co-operatives – solving the capital conundrum")
		if report.Format != "policy brief" || report.Language != "en-GB" || !reflect.DeepEqual(report.Authors, List{"Simon Borkin"}) {
			t.Errorf("a report whose Type is Policy brief = format %q, language %q, authors %q", report.Format, report.Language, report.Authors)
		}

		nef := byTitle(t, s, "Co-operatives Unleashed: Doubling the Size of the UK's Co-operative Sector")
		if !reflect.DeepEqual(nef.Authors, List{"Mathew Lawrence", "Andrew Pendleton", "Sara Mahmoud"}) {
			t.Errorf("authors out of order: %q", nef.Authors)
		}
		if nef.Language != "en" || nef.Licence != "CC BY-NC-SA 4.0" || nef.Format != "report" {
			t.Errorf("nef = language %q (from \"English\"), licence %q, format %q", nef.Language, nef.Licence, nef.Format)
		}

		site := byTitle(t, s, "Platform Cooperativism Resource Library")
		if !reflect.DeepEqual(site.Authors, List{"Platform Cooperativism Consortium"}) || site.Format != "website" || site.Year == nil {
			t.Errorf("an organisation's name stays whole: authors %q, format %q, year %v", site.Authors, site.Format, site.Year)
		}
	}

	t.Run("a Zotero export with a byte order mark imports with names, years, formats and topics", func(t *testing.T) {
		check(t, data)
	})
	t.Run("without a byte order mark it imports the same", func(t *testing.T) {
		check(t, bytes.TrimPrefix(data, []byte("\uFEFF")))
	})
	t.Run("columns are matched by name, in any order, and unknown ones ignored", func(t *testing.T) {
		check(t, reorderColumns(t, data))
	})
}

// reorderColumns reverses a CSV's columns and adds one Zotero never writes.
func reorderColumns(t *testing.T, data []byte) []byte {
	dec, err := Decode(data) // only to be sure the input is sound
	if err != nil || len(dec.Resources) != 5 {
		t.Fatalf("decode: %v", err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for i, rec := range recs {
		rev := []string{"Shelf"}
		if i > 0 {
			rev[0] = "B-12"
		}
		for j := len(rec) - 1; j >= 0; j-- {
			rev = append(rev, rec[j])
		}
		w.Write(rev)
	}
	w.Flush()
	return out.Bytes()
}

func TestZoteroAuthors(t *testing.T) {
	tests := map[string]string{
		"Scholz, Trebor; Schneider, Nathan": "Trebor Scholz\nNathan Schneider",
		"Common Wealth":                     "Common Wealth",
		"de Peuter, G.;  ; Machaka, S.":     "G. de Peuter\nS. Machaka",
		"Martin Luther King, Jr.":           "Martin Luther King, Jr.",
		"Plato,":                            "Plato",
		"":                                  "",
	}
	for in, want := range tests {
		if got := zoteroAuthors(in); got != want {
			t.Errorf("zoteroAuthors(%q) = %q, want %q", in, got, want)
		}
	}
}
