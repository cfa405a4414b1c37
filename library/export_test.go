package library

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

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
	endorseDirectly(t, s, `UPDATE resources SET endorsed_at = ?, endorsed_by = 7, endorsed_digest = '0000000000000000000000000000000000000000000000000000000000000000' WHERE id = ?`, transferClock(), endorsed)
	seedResource(t, s, StatusPending, ResourceInput{Title: "Not yet listed", URL: "https://example.org/pending", Format: "other"})

	seedDemand(t, s, Demand{Title: "Open routes for investment into digital co-ops", Body: "National government should **create** routes.",
		Audience: "national government", Status: DemandProposed, Resources: []int64{full, book}})
	won := seedDemand(t, s, Demand{Title: "Count co-ops in public procurement", Body: "Councils should.", Audience: "local government",
		Status: DemandProposed, Resources: []int64{endorsed}})
	endorseDirectly(t, s, `UPDATE demands SET status = 'endorsed', endorsed_at = ?, endorsed_by = 9, endorsed_digest = '0000000000000000000000000000000000000000000000000000000000000000', tally = '{"yes":12,"no":3}' WHERE id = ?`,
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
