package library

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db/dbtest"
)

var transferClock = func() time.Time { return time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) }

func transferService(t testing.TB) *Service {
	t.Helper()
	return New(dbtest.Open(t), transferClock)
}

// seedResource puts a resource straight into the library in a status.
func seedResource(t testing.TB, s *Service, status string, in ResourceInput) int64 {
	t.Helper()
	r, errs := in.resource()
	if len(errs) > 0 {
		t.Fatalf("fixture %q is invalid: %v", in.Title, errs)
	}
	r.Status = status
	var id int64
	err := s.db.WithTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		id, err = s.insertResource(context.Background(), tx, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func seedDemand(t testing.TB, s *Service, d Demand) int64 {
	t.Helper()
	var id int64
	err := s.db.WithTx(context.Background(), func(tx *sqlx.Tx) error {
		var err error
		id, err = s.insertDemand(context.Background(), tx, d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func countRows(t testing.TB, s *Service, table string) int {
	t.Helper()
	var n int
	if err := s.db.R.Get(&n, `SELECT count(*) FROM `+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func byTitle(t testing.TB, s *Service, title string) Resource {
	t.Helper()
	var r Resource
	if err := s.db.R.Get(&r, `SELECT `+resourceColumns+` FROM resources WHERE title = ?`, title); err != nil {
		t.Fatalf("resource %q: %v", title, err)
	}
	return r
}

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

func TestImportRejectsTheWholeFile(t *testing.T) {
	header := `"Key","Item Type","Publication Year","Author","Title","Url"` + "\n"
	good := `"A1","report","2019","Borkin, Simon","Platform co-operatives","https://www.nesta.org.uk/report/platform-co-operatives/"` + "\n"
	tests := []struct {
		name      string
		file      string
		wantError string // the first rejected row, as the person reads it
	}{
		{"a javascript: link names its row and field",
			header + good + `"A2","report","2020","","Trap","javascript:alert(1)"` + "\n",
			"row 3: url: Enter a full web address starting with https:// or http://."},
		{"a year out of range names its row",
			header + `"A3","book","3000","","Far future","https://example.org/future"` + "\n" + good,
			"row 2: year: Enter a year between 1800 and 2100, or leave it empty."},
		{"a row that is a duplicate of a bad row is still checked",
			header + good + `"A4","book","","","","https://example.org/untitled"` + "\n",
			"row 3: title: Enter a title."},
		{"a JSON resource with a status of endorsed is refused: only a ballot endorses",
			`{"format":"plenary-library","version":1,"resources":[{"title":"T","url":"https://example.org/t","format":"report","status":"endorsed"}]}`,
			"row 1: status: Choose listed, pending or hidden."},
		{"a demand citing a link nowhere to be found",
			`{"format":"plenary-library","version":1,"resources":[{"title":"T","url":"https://example.org/t","format":"report"}],
			  "demands":[{"title":"Fund co-ops","body":"Do it.","audience":"funders and investors","resources":["https://example.org/t","https://example.org/missing"]}]}`,
			"demand 1: resources: No resource in this file or in the library has the link https://example.org/missing."},
		{"a demand with an unknown audience",
			`{"format":"plenary-library","version":1,"demands":[{"title":"Fund co-ops","body":"Do it.","audience":"aliens"}]}`,
			"demand 1: audience: Choose who the demand is addressed to."},
		{"a JSON row of the wrong shape",
			`{"format":"plenary-library","version":1,"resources":[{"title":"T","url":"https://example.org/t","format":"report","year":"2020"}]}`,
			`row 1: "year" should be a number, not a JSON string.`},
		{"a CSL item with a bad DOI",
			`[{"type":"book","title":"A book","URL":"https://example.org/b","DOI":"not a doi"}]`,
			"row 1: doi: Enter a DOI such as 10.1177/0896920519870577."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := transferService(t)
			seedResource(t, s, StatusListed, ResourceInput{Title: "Already here", URL: "https://example.org/here", Format: "report"})
			before, beforeDemands := countRows(t, s, "resources"), countRows(t, s, "demands")

			rep, err := s.Import(context.Background(), []byte(tt.file))
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("err = %v, want ErrRejected", err)
			}
			if len(rep.Rejected) == 0 || rep.Rejected[0].String() != tt.wantError {
				t.Fatalf("rejected = %v, want first %q", rep.Rejected, tt.wantError)
			}
			if rep.Added+rep.Updated+rep.Duplicates+rep.DemandsAdded != 0 {
				t.Errorf("a rejected import reports changes: %+v", rep)
			}
			if after := countRows(t, s, "resources"); after != before {
				t.Errorf("resources: %d before, %d after a rejected import", before, after)
			}
			if after := countRows(t, s, "demands"); after != beforeDemands {
				t.Errorf("demands: %d before, %d after a rejected import", beforeDemands, after)
			}
		})
	}

	t.Run("a row below a multi-line abstract is named by row and by line", func(t *testing.T) {
		s := transferService(t)
		file := bytes.Replace(fixture(t, "zotero.csv"), []byte("https://www.nesta.org.uk/report/platform-co-operatives/"), []byte("javascript:alert(1)"), 1)
		rep, err := s.Import(context.Background(), file)
		if !errors.Is(err, ErrRejected) || len(rep.Rejected) != 1 {
			t.Fatalf("err = %v, rejected %v", err, rep.Rejected)
		}
		if got, want := rep.Rejected[0].String(), "row 4 (line 6): url: Enter a full web address starting with https:// or http://."; got != want {
			t.Errorf("rejected = %q, want %q", got, want)
		}
		if n := countRows(t, s, "resources"); n != 0 {
			t.Errorf("%d resources imported from a rejected file", n)
		}
	})

	t.Run("every wrong row is listed, not just the first", func(t *testing.T) {
		s := transferService(t)
		file := header + `"A","report","3000","","One","https://example.org/1"` + "\n" + good +
			`"B","report","","","Two","ftp://example.org/2"` + "\n"
		rep, err := s.Import(context.Background(), []byte(file))
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "2 rows are wrong") {
			t.Fatalf("err = %v", err)
		}
		var got []string
		for _, e := range rep.Rejected {
			got = append(got, fmt.Sprintf("%d %s", e.Row, e.Field))
		}
		if want := []string{"2 year", "4 url"}; !reflect.DeepEqual(got, want) {
			t.Errorf("rejected = %v, want %v", got, want)
		}
		if n := countRows(t, s, "resources"); n != 0 {
			t.Errorf("%d resources imported from a rejected file", n)
		}
	})
}

// buildLibrary makes a library with every field in use, every format, a
// pending and an endorsed resource, and demands in three states.
func buildLibrary(t *testing.T, s *Service) {
	t.Helper()
	full := seedResource(t, s, StatusListed, ResourceInput{
		Title: "Digital Co-Ops and the Democratic Economy", URL: "https://www.common-wealth.org/publications/digital-co-ops-and-the-democratic-economy",
		Authors: "Mathew Lawrence\nThomas Hanna", Publisher: "Common Wealth", Year: "2021", Format: "policy brief", Language: "en-GB",
		Region: "UK", Topics: "platform co-ops, policy, finance and investment", Licence: "CC BY 4.0",
		Summary: "How digital co-ops could grow:\n\n- patient finance\n- public procurement", DOI: "10.5281/zenodo.1234567", ISBN: "978-1-68219-062-3",
	})
	book := seedResource(t, s, StatusListed, ResourceInput{
		Title: "Own This! How Platform Cooperatives Help Workers Build a Democratic Internet", URL: "https://openlibrary.org/isbn/9781839764554",
		Authors: "Trebor Scholz", Publisher: "Verso", Year: "2023", Format: "book", Topics: "platform co-ops, labour", ISBN: "9781839764554",
	})
	seedResource(t, s, StatusListed, ResourceInput{Title: "=HYPERLINK(\"https://evil.example\",\"click\")", URL: "https://example.org/formula",
		Authors: "-Anon", Format: "other", Summary: "+1 for spreadsheets", Topics: "@mentions"})
	for i, f := range Formats {
		seedResource(t, s, StatusListed, ResourceInput{Title: "A " + f, URL: fmt.Sprintf("https://example.org/formats/%d", i),
			Format: f, Language: "fr", Year: fmt.Sprint(2000 + i), DOI: fmt.Sprintf("10.1000/fmt.%d", i), Topics: "formats"})
	}
	endorsed := seedResource(t, s, StatusListed, ResourceInput{Title: "Platform co-operatives – solving the capital conundrum",
		URL: "https://www.nesta.org.uk/report/platform-co-operatives/", Authors: "Simon Borkin", Format: "report", Year: "2019"})
	endorseDirectly(t, s, `UPDATE resources SET endorsed_at = ?, endorsed_by = 7 WHERE id = ?`, transferClock(), endorsed)
	seedResource(t, s, StatusPending, ResourceInput{Title: "Not yet listed", URL: "https://example.org/pending", Format: "other"})

	seedDemand(t, s, Demand{Title: "Open routes for investment into digital co-ops", Body: "National government should **create** routes.",
		Audience: "national government", Status: DemandProposed, Resources: []int64{full, book}})
	won := seedDemand(t, s, Demand{Title: "Count co-ops in public procurement", Body: "Councils should.", Audience: "local government",
		Status: DemandProposed, Resources: []int64{endorsed}})
	endorseDirectly(t, s, `UPDATE demands SET status = 'endorsed', endorsed_at = ?, endorsed_by = 9, tally = '{"yes":12,"no":3}' WHERE id = ?`,
		transferClock(), won)
	seedDemand(t, s, Demand{Title: "A demand since withdrawn", Body: "Never mind.", Audience: "unions", Status: DemandWithdrawn})
}

func export(t *testing.T, s *Service, format string) []byte {
	t.Helper()
	rs, ds, err := s.AllForExport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Export(context.Background(), &buf, format, rs, ds); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withoutEndorsement reads our JSON and drops what only a ballot sets.
func withoutEndorsement(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, r := range m["resources"].([]any) {
		delete(r.(map[string]any), "endorsed_at")
		delete(r.(map[string]any), "endorsed_by_proposal")
	}
	for _, d := range m["demands"].([]any) {
		d := d.(map[string]any)
		delete(d, "endorsed_at")
		delete(d, "endorsed_by_proposal")
		delete(d, "tally")
		if d["status"] == DemandEndorsed {
			d["status"] = DemandProposed
		}
	}
	return m
}

func TestJSONRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := transferService(t)
	buildLibrary(t, a)
	first := export(t, a, FileJSON)

	b := transferService(t)
	rep, err := b.Import(ctx, first)
	if err != nil {
		t.Fatalf("import: %v %v", err, rep.Rejected)
	}
	listed := countRows(t, a, "resources") - 1 // the pending one is not exported
	if rep.Added != listed || rep.DemandsAdded != 3 || rep.Format != "Plenary JSON" {
		t.Fatalf("report = %+v, want %d added and 3 demands", rep, listed)
	}
	second := export(t, b, FileJSON)

	if got, want := withoutEndorsement(t, second), withoutEndorsement(t, first); !reflect.DeepEqual(got, want) {
		t.Errorf("the second export differs from the first beyond endorsement:\nfirst:\n%s\nsecond:\n%s", first, second)
	}
	if !bytes.Contains(first, []byte(`"tally": {`)) || !bytes.Contains(first, []byte(`"endorsed_by_proposal": 7`)) {
		t.Errorf("the export should carry endorsements for the record:\n%s", first)
	}
	if bytes.Contains(second, []byte(`"endorsed_by_proposal": 7`)) || bytes.Contains(second, []byte(`"status": "endorsed"`)) ||
		bytes.Contains(second, []byte(`"tally": {`)) {
		t.Errorf("an import endorsed something:\n%s", second)
	}
	var endorsed int
	b.db.R.Get(&endorsed, `SELECT (SELECT count(*) FROM resources WHERE endorsed_at IS NOT NULL) + (SELECT count(*) FROM demands WHERE endorsed_at IS NOT NULL)`)
	if endorsed != 0 {
		t.Errorf("%d rows endorsed by an import", endorsed)
	}

	var d Demand
	if err := b.db.R.Get(&d, `SELECT `+demandColumns+` FROM demands WHERE title = 'Open routes for investment into digital co-ops'`); err != nil {
		t.Fatal(err)
	}
	d, _ = b.Demand(ctx, d.ID)
	cited, _ := b.ResourcesByID(ctx, Viewer{}, d.Resources)
	if got := titlesOf(cited); !reflect.DeepEqual(got, []string{"Digital Co-Ops and the Democratic Economy",
		"Own This! How Platform Cooperatives Help Workers Build a Democratic Internet"}) {
		t.Errorf("the demand's supporting resources = %q", got)
	}
}

func titlesOf(rs []Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Title
	}
	return out
}

// comparable keeps the fields a format carries, without ids and times.
func comparable(rs []Resource, keepRegion bool) []Resource {
	out := make([]Resource, len(rs))
	for i, r := range rs {
		c := Resource{Title: r.Title, URL: r.URL, Authors: r.Authors, Publisher: r.Publisher, Year: r.Year, Format: r.Format,
			Language: r.Language, Topics: r.Topics, Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN, Status: r.Status}
		if keepRegion {
			c.Region = r.Region
		}
		out[i] = c
	}
	return out
}

func TestCSVAndCSLRoundTrips(t *testing.T) {
	for _, format := range []string{FileCSV, FileCSL} {
		t.Run(format+" keeps every field it carries", func(t *testing.T) {
			ctx := context.Background()
			a := transferService(t)
			buildLibrary(t, a)
			data := export(t, a, format)
			b := transferService(t)
			rep, err := b.Import(ctx, data)
			if err != nil {
				t.Fatalf("import: %v %v", err, rep.Rejected)
			}
			want, _, _ := a.AllForExport(ctx)
			got, _, _ := b.AllForExport(ctx)
			if !reflect.DeepEqual(comparable(got, false), comparable(want, false)) {
				t.Errorf("round trip through %s changed the library:\n got %+v\nwant %+v\nfile:\n%s", format, comparable(got, false), comparable(want, false), data)
			}
			if rep.Added != len(want) {
				t.Errorf("report = %+v", rep)
			}
		})
	}

	t.Run("the CSV starts with a byte order mark and defuses formulas", func(t *testing.T) {
		a := transferService(t)
		buildLibrary(t, a)
		data := export(t, a, FileCSV)
		if !bytes.HasPrefix(data, []byte("\uFEFF\"Key\",\"Item Type\",\"Publication Year\",\"Author\",\"Title\"")) &&
			!bytes.HasPrefix(data, []byte("\uFEFFKey,Item Type,Publication Year,Author,Title,")) {
			t.Errorf("header = %q", data[:80])
		}
		for _, cell := range []string{`"'=HYPERLINK(""https://evil.example"",""click"")"`, "'-Anon", "'+1 for spreadsheets", "'@mentions"} {
			if !bytes.Contains(data, []byte(cell)) {
				t.Errorf("the CSV should hold %s", cell)
			}
		}
	})

	t.Run("CSL-JSON has an id, a type and a date for each item", func(t *testing.T) {
		a := transferService(t)
		buildLibrary(t, a)
		var items []map[string]any
		if err := json.Unmarshal(export(t, a, FileCSL), &items); err != nil {
			t.Fatal(err)
		}
		first := items[0]
		if !strings.HasPrefix(first["id"].(string), "plenary-") || first["type"] != "report" || first["genre"] != "Policy brief" {
			t.Errorf("first item = %v", first)
		}
		if got, _ := json.Marshal(first["issued"]); string(got) != `{"date-parts":[[2021]]}` {
			t.Errorf("issued = %s", got)
		}
		if got, _ := json.Marshal(first["author"]); string(got) != `[{"literal":"Mathew Lawrence"},{"literal":"Thomas Hanna"}]` {
			t.Errorf("author = %s", got)
		}
	})

	t.Run("an unknown format is refused", func(t *testing.T) {
		s := transferService(t)
		var v ValidationError
		if err := s.Export(context.Background(), &bytes.Buffer{}, "xml", nil, nil); !errors.As(err, &v) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestImportingTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		file func(t *testing.T) []byte
	}{
		{"a Zotero CSV", func(t *testing.T) []byte { return fixture(t, "zotero.csv") }},
		{"our JSON with demands", func(t *testing.T) []byte {
			a := transferService(t)
			buildLibrary(t, a)
			return export(t, a, FileJSON)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.file(t)
			s := transferService(t)
			first, err := s.Import(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			snapshot := func() string {
				var buf bytes.Buffer
				var rows []string
				s.db.R.Select(&rows, `SELECT json_array(id, title, url, authors, topics, summary, status, updated_at, listed_at) FROM resources ORDER BY id`)
				buf.WriteString(strings.Join(rows, "\n"))
				rows = nil
				s.db.R.Select(&rows, `SELECT json_array(id, title, status, updated_at) FROM demands ORDER BY id`)
				buf.WriteString(strings.Join(rows, "\n"))
				rows = nil
				s.db.R.Select(&rows, `SELECT json_array(demand_id, resource_id, position) FROM demand_resources ORDER BY 1, 3`)
				buf.WriteString(strings.Join(rows, "\n"))
				return buf.String()
			}
			before := snapshot()
			s.now = func() time.Time { return transferClock().Add(time.Hour) } // an update would show
			second, err := s.Import(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			want := ImportReport{Format: first.Format, Duplicates: first.Added, DemandsSkipped: first.DemandsAdded}
			if !reflect.DeepEqual(second, want) {
				t.Errorf("second import = %+v, want %+v", second, want)
			}
			if after := snapshot(); after != before {
				t.Errorf("a second import changed the database:\n%s\n---\n%s", before, after)
			}
		})
	}
}

func TestImportMatchesExistingResources(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*Service, int64) {
		s := transferService(t)
		id := seedResource(t, s, StatusHidden, ResourceInput{Title: "Platform co-operatives – solving the capital conundrum",
			URL: "https://www.nesta.org.uk/report/platform-co-operatives/", Authors: "Simon Borkin", Format: "report", Year: "2019",
			Region: "UK", DOI: "10.1000/nesta.2019", Summary: "Old summary."})
		endorseDirectly(t, s, `UPDATE resources SET endorsed_at = ?, endorsed_by = 4 WHERE id = ?`, transferClock(), id)
		return s, id
	}
	csvFile := func(rows ...string) []byte {
		return []byte(`"Item Type","Title","Url","DOI","Author","Publication Year","Abstract Note"` + "\n" + strings.Join(rows, "\n"))
	}

	t.Run("a changed title for the same link updates it, keeping status, endorsement and what the file lacks", func(t *testing.T) {
		s, id := setup(t)
		rep, err := s.Import(ctx, csvFile(`"report","Platform co-operatives: solving the capital conundrum","http://nesta.org.uk/report/platform-co-operatives?utm_source=x","","Borkin, Simon","2019",""`))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Updated != 1 || rep.Added != 0 || rep.Duplicates != 0 {
			t.Fatalf("report = %+v", rep)
		}
		r, _ := getResource(ctx, s.db.R, id)
		if r.Title != "Platform co-operatives: solving the capital conundrum" {
			t.Errorf("title = %q", r.Title)
		}
		if r.Status != StatusHidden || !r.Endorsed() || *r.EndorsedBy != 4 {
			t.Errorf("status %q, endorsed by %v: an import must not touch them", r.Status, r.EndorsedBy)
		}
		if r.URL != "https://www.nesta.org.uk/report/platform-co-operatives/" || r.Region != "UK" || r.Summary != "Old summary." || r.DOI != "10.1000/nesta.2019" {
			t.Errorf("kept fields changed: url %q, region %q, summary %q, doi %q", r.URL, r.Region, r.Summary, r.DOI)
		}
		if res, _ := s.Search(ctx, Query{Text: "solving"}); res.Total != 0 {
			// hidden, so not searchable; the point is the FTS trigger ran without error
			t.Logf("search total %d", res.Total)
		}
	})
	t.Run("the same DOI under another link updates the resource but keeps its link", func(t *testing.T) {
		s, id := setup(t)
		rep, err := s.Import(ctx, csvFile(`"report","Platform co-operatives – solving the capital conundrum","https://media.nesta.org.uk/pc.pdf","https://doi.org/10.1000/NESTA.2019","Borkin, Simon","2019","New summary."`))
		if err != nil || rep.Updated != 1 {
			t.Fatalf("report = %+v, err %v", rep, err)
		}
		r, _ := getResource(ctx, s.db.R, id)
		if r.Summary != "New summary." || r.URL != "https://www.nesta.org.uk/report/platform-co-operatives/" {
			t.Errorf("summary %q, url %q", r.Summary, r.URL)
		}
	})
	t.Run("the same title under another link is a duplicate, not a second copy", func(t *testing.T) {
		s, _ := setup(t)
		rep, err := s.Import(ctx, csvFile(`"report","PLATFORM CO-OPERATIVES — Solving the Capital Conundrum!","https://elsewhere.example/pc","","","",""`))
		if err != nil || rep.Duplicates != 1 || rep.Added != 0 || countRows(t, s, "resources") != 1 {
			t.Fatalf("report = %+v, err %v", rep, err)
		}
	})
	t.Run("a resource twice in one file comes in once", func(t *testing.T) {
		s := transferService(t)
		rep, err := s.Import(ctx, csvFile(
			`"book","Own This!","https://openlibrary.org/isbn/9781839764554","","Scholz, Trebor","2023",""`,
			`"book","Own This!","https://www.openlibrary.org/isbn/9781839764554/","","Scholz, Trebor","2023",""`,
			`"book","Own this","https://example.org/own-this","","","",""`))
		if err != nil || rep.Added != 1 || rep.Duplicates != 2 || countRows(t, s, "resources") != 1 {
			t.Fatalf("report = %+v, err %v", rep, err)
		}
	})
	t.Run("a demand may cite a resource already in the library; one with a known title is skipped", func(t *testing.T) {
		s, id := setup(t)
		seedDemand(t, s, Demand{Title: "Already proposed", Body: "x", Audience: "unions", Status: DemandProposed})
		rep, err := s.Import(ctx, []byte(`{"format":"plenary-library","version":1,"demands":[
			{"title":"Fund platform co-ops","body":"Patient capital.","audience":"funders and investors","status":"endorsed",
			 "resources":["https://nesta.org.uk/report/platform-co-operatives"],"endorsed_at":"2026-01-01T00:00:00Z","endorsed_by_proposal":3},
			{"title":"Already proposed","body":"y","audience":"unions"},
			{"title":"Withdrawn one","body":"z","audience":"unions","status":"withdrawn"}]}`))
		if err != nil {
			t.Fatalf("%v %v", err, rep.Rejected)
		}
		if rep.DemandsAdded != 2 || rep.DemandsSkipped != 1 {
			t.Fatalf("report = %+v", rep)
		}
		var ds []Demand
		s.db.R.Select(&ds, `SELECT `+demandColumns+` FROM demands ORDER BY id`)
		if ds[1].Status != DemandProposed || ds[1].EndorsedAt != nil || ds[2].Status != DemandWithdrawn {
			t.Errorf("statuses = %q, %q; endorsed_at %v", ds[1].Status, ds[2].Status, ds[1].EndorsedAt)
		}
		d, _ := s.Demand(ctx, ds[1].ID)
		if !reflect.DeepEqual(d.Resources, []int64{id}) {
			t.Errorf("supporting = %v, want [%d]", d.Resources, id)
		}
	})
}

func TestStarterLibraryImportsCleanly(t *testing.T) {
	s := transferService(t)
	data := fixture(t, "../starter.json")
	rep, err := s.Import(context.Background(), data)
	if err != nil {
		t.Fatalf("%v: %v", err, rep.Rejected)
	}
	var f struct{ Resources, Demands []json.RawMessage }
	json.Unmarshal(data, &f)
	if rep.Added != len(f.Resources) || rep.DemandsAdded != len(f.Demands) {
		t.Errorf("report = %+v, want %d resources and %d demands", rep, len(f.Resources), len(f.Demands))
	}
}

func TestMalformedFiles(t *testing.T) {
	var many strings.Builder
	many.WriteString("Item Type,Title,Url\n")
	for i := range MaxImportRows + 1 {
		fmt.Fprintf(&many, "report,Report %d,https://example.org/%d\n", i, i)
	}
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "The file is empty."},
		{"only a byte order mark and blank lines", "\uFEFF\n\n  \n", "The file is empty."},
		{"not JSON", `{"format": plenary}`, "The file is not valid JSON: invalid character"},
		{"truncated JSON", `{"format":"plenary-library","version":1,"resources":[{"title":"x"`, "it ends too soon"},
		{"truncated CSL-JSON", `[{"title": "x", "author": [{"family": "Sc`, "it ends too soon"},
		{"a JSON object of another kind", `{"items": []}`, "not a Plenary library export"},
		{"a newer version", `{"format":"plenary-library","version":2}`, "version 2"},
		{"resources that are not a list", `{"format":"plenary-library","version":1,"resources":{"title":"x"}}`, `"resources" should be a list`},
		{"a CSV without a header", `"7QK2MZ3D","book","2016","Scholz, Trebor","Ours to Hack and to Own"` + "\n", "no Item Type or Title column"},
		{"a CSV without a Title column", "Item Type,Name\nbook,x\n", "no Title column"},
		{"plain text", "hello, world\n", "no Item Type or Title column"},
		{"a ragged CSV row", "Item Type,Title,Url\nbook,A,https://example.org/a\nbook,B\n", "Row 3 (line 3) has 2 columns but the header has 3"},
		{"UTF-16, as Excel's Unicode Text saves", "\xff\xfeI\x00t\x00", "save it as UTF-8"},
		{"a stray quote", "Item Type,Title,Url\nbook,\"A\"x,https://example.org/a\n", "malformed at line 2"},
		{"50,001 rows", many.String(), "more than 50000 rows"},
		{"more than 20 MB", "[" + strings.Repeat(" ", MaxImportBytes) + "]", "larger than 20 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.file))
			var v ValidationError
			if !errors.As(err, &v) || !strings.Contains(v["file"], tt.want) {
				t.Fatalf("err = %v, want a file error containing %q", err, tt.want)
			}
			s := transferService(t)
			if _, err := s.Import(context.Background(), []byte(tt.file)); err == nil {
				t.Fatal("import succeeded")
			}
			if n := countRows(t, s, "resources"); n != 0 {
				t.Errorf("%d resources imported", n)
			}
		})
	}

	t.Run("50,000 rows are allowed", func(t *testing.T) {
		file := many.String()
		file = file[:strings.LastIndex(strings.TrimSuffix(file, "\n"), "\n")+1]
		dec, err := Decode([]byte(file))
		if err != nil || len(dec.Resources) != MaxImportRows {
			t.Fatalf("%d rows, err %v", len(dec.Resources), err)
		}
	})
	t.Run("CSL items that are not objects are rejected rows", func(t *testing.T) {
		s := transferService(t)
		rep, err := s.Import(context.Background(), []byte(`[1, "two", null]`))
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "3 rows are wrong") {
			t.Fatalf("err = %v, rejected %v", err, rep.Rejected)
		}
		var rows []int
		for _, e := range rep.Rejected {
			rows = append(rows, e.Row)
		}
		if !reflect.DeepEqual(rows, []int{1, 2, 3, 3}) { // null is an empty item: no title, no link
			t.Errorf("rejected rows = %v", rows)
		}
		if got := rep.Rejected[0].String(); got != "row 1: Expected an object, found a JSON number." {
			t.Errorf("rejected = %q", got)
		}
	})
}

func TestCSLImport(t *testing.T) {
	s := transferService(t)
	rep, err := s.Import(context.Background(), []byte(`[
	  {"id": "http://zotero.org/users/1/items/ABC", "type": "article-journal", "title": "An Internet of Ownership",
	   "container-title": "The Sociological Review", "author": [{"family": "Schneider", "given": "Nathan"}],
	   "issued": {"date-parts": [["2018", "3"]]}, "DOI": "10.1177/0038026118758533", "keyword": "ownership, Platform co-ops",
	   "language": "English", "abstract": "On design for shared ownership."},
	  {"type": "report", "genre": "Case study", "title": "Stocksy United", "URL": "https://example.org/stocksy",
	   "author": [{"literal": "Co-operatives UK"}, {"given": "Ludwig", "non-dropping-particle": "van", "family": "Beethoven"}],
	   "issued": {"raw": "2017-05"}},
	  {"type": "book", "title": "Everything for Everyone", "editor": [{"family": "Schneider", "given": "Nathan"}],
	   "ISBN": "9781568589596 1568589597", "publisher": "Nation Books", "issued": {"literal": "Autumn 2018"}}
	]`))
	if err != nil {
		t.Fatalf("%v %v", err, rep.Rejected)
	}
	if rep.Added != 3 || rep.Format != "CSL-JSON" {
		t.Fatalf("report = %+v", rep)
	}
	a := byTitle(t, s, "An Internet of Ownership")
	if a.URL != "https://doi.org/10.1177/0038026118758533" || a.Publisher != "The Sociological Review" || *a.Year != 2018 ||
		!reflect.DeepEqual(a.Topics, List{"ownership", "platform co-ops"}) || a.Language != "en" || a.Format != "article" {
		t.Errorf("article = %+v", a)
	}
	c := byTitle(t, s, "Stocksy United")
	if c.Format != "case study" || *c.Year != 2017 || !reflect.DeepEqual(c.Authors, List{"Co-operatives UK", "Ludwig van Beethoven"}) {
		t.Errorf("case study = %+v", c)
	}
	b := byTitle(t, s, "Everything for Everyone")
	if b.ISBN != "9781568589596" || b.URL != "https://openlibrary.org/isbn/9781568589596" || *b.Year != 2018 ||
		!reflect.DeepEqual(b.Authors, List{"Nathan Schneider"}) {
		t.Errorf("book = %+v", b)
	}
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

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format":"plenary-library","version":1,"resources":[{"title":"x","url":"https://e.org","year":2000}],"demands":[{"resources":["x"]}]}`))
	f.Add([]byte(`[{"type":"book","title":"x","issued":{"date-parts":[[2000]]},"author":[{"family":"a"}]}]`))
	f.Add([]byte("\uFEFF\"Item Type\",\"Title\",\"Author\"\n\"book\",\"x\",\"a, b; c\"\n"))
	f.Add([]byte(`[{"issued": "x"}, {"issued": {"date-parts": [[]]}}, {"issued": {"date-parts": []}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec, err := Decode(data)
		if err != nil {
			return
		}
		for _, r := range dec.Resources {
			r.Input.resource()
		}
	})
}

// endorseDirectly marks an item endorsed as if by proposal number n, without
// running a ballot: these tests are about import and export, and a ballot's
// proposal row would be governance's business. Foreign keys are off for
// this one statement on the writer's single connection.
func endorseDirectly(t *testing.T, s *Service, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.db.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `PRAGMA foreign_keys = ON`)
	if _, err := conn.ExecContext(ctx, query, args...); err != nil {
		t.Fatal(err)
	}
}
