package library

import (
	"bytes"
	"context"
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

// endorseDirectly marks an item endorsed as if by proposal number n, without
// running a ballot: these tests are about import and export, and a ballot's
// proposal row would be governance's business. Foreign keys are off for
// this one statement on the writer's single connection.
func endorseDirectly(t *testing.T, s *Service, query string, args ...any) {
	t.Helper()
	dbtest.ExecWithoutForeignKeys(t, s.db, query, args...)
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
		return s, id
	}
	csvFile := func(rows ...string) []byte {
		return []byte(`"Item Type","Title","Url","DOI","Author","Publication Year","Abstract Note"` + "\n" + strings.Join(rows, "\n"))
	}

	t.Run("a changed title for the same link updates it, keeping status and what the file lacks, and endorses nothing", func(t *testing.T) {
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
		if r.Status != StatusHidden || r.Endorsed() {
			t.Errorf("status %q, endorsed by %v: an import must not touch the status, nor endorse", r.Status, r.EndorsedBy)
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
	t.Run("two rows updating one resource leave it as the second made it, and free its old title", func(t *testing.T) {
		s, id := setup(t)
		rep, err := s.Import(ctx, csvFile(
			`"report","First new title","https://nesta.org.uk/report/platform-co-operatives","","Author, New","",""`,
			`"report","Second new title","https://media.nesta.org.uk/pc.pdf","10.1000/nesta.2019","","","Second summary."`,
			`"report","Platform co-operatives – solving the capital conundrum","https://elsewhere.example/pc","","","",""`))
		if want := (ImportReport{Format: "Zotero CSV", Added: 1, Updated: 2}); err != nil || !reflect.DeepEqual(rep, want) {
			t.Fatalf("report = %+v, err %v; want %+v", rep, err, want)
		}
		r, _ := getResource(ctx, s.db.R, id)
		if r.Title != "Second new title" || !reflect.DeepEqual(r.Authors, List{"New Author"}) || r.Summary != "Second summary." {
			t.Errorf("title %q, authors %q, summary %q: want the second row laid over the first", r.Title, r.Authors, r.Summary)
		}
		if n := countRows(t, s, "resources"); n != 2 {
			t.Errorf("%d resources: a row with the old title is no duplicate once the title has changed", n)
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

// rowOf is every column of a resource as the database holds it.
func rowOf(t *testing.T, s *Service, id int64) map[string]any {
	t.Helper()
	rows, err := s.db.R.Queryx(`SELECT * FROM resources WHERE id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no resource %d", id)
	}
	m := map[string]any{}
	if err := rows.MapScan(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestImportLeavesEndorsedResourcesAlone(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*Service, int64) {
		s := transferService(t)
		id := seedResource(t, s, StatusListed, ResourceInput{Title: "Platform co-operatives – solving the capital conundrum",
			URL: "https://www.nesta.org.uk/report/platform-co-operatives/", Authors: "Simon Borkin", Format: "report", Year: "2019",
			Region: "UK", DOI: "10.1000/nesta.2019", Summary: "The text members endorsed.", Topics: "finance"})
		endorseDirectly(t, s, `UPDATE resources SET endorsed_at = ?, endorsed_by = 4, endorsed_digest = '0000000000000000000000000000000000000000000000000000000000000000' WHERE id = ?`, transferClock(), id)
		s.now = func() time.Time { return transferClock().Add(time.Hour) } // an update would show
		return s, id
	}
	header := `"Item Type","Title","Url","DOI","Author","Publication Year","Abstract Note","Manual Tags"` + "\n"
	other := `"book","Own This!","https://openlibrary.org/isbn/9781839764554","","Scholz, Trebor","2023","",""` + "\n"
	for _, tt := range []struct{ name, row string }{
		{"a row with its link (written differently) and new details",
			`"policy brief","Platform co-operatives: a new title","http://nesta.org.uk/report/platform-co-operatives?utm_source=x","","Someone, Else","2020","A rewritten summary.","gig economy"` + "\n"},
		{"a row with its DOI under another link",
			`"report","Platform co-operatives – solving the capital conundrum","https://media.nesta.org.uk/pc.pdf","https://doi.org/10.1000/NESTA.2019","Borkin, Simon","2019","A rewritten summary.",""` + "\n"},
		{"a row the same as it",
			`"report","Platform co-operatives – solving the capital conundrum","https://www.nesta.org.uk/report/platform-co-operatives/","10.1000/nesta.2019","Borkin, Simon","2019","The text members endorsed.","finance"` + "\n"},
	} {
		t.Run(tt.name+" is skipped as endorsed and the resource is unchanged, while the rest comes in", func(t *testing.T) {
			s, id := setup(t)
			before := rowOf(t, s, id)
			rep, err := s.Import(ctx, []byte(header+tt.row+other))
			if err != nil {
				t.Fatalf("%v %v", err, rep.Rejected)
			}
			if want := (ImportReport{Format: "Zotero CSV", Added: 1, Endorsed: 1}); !reflect.DeepEqual(rep, want) {
				t.Errorf("report = %+v, want %+v", rep, want)
			}
			if after := rowOf(t, s, id); !reflect.DeepEqual(after, before) {
				t.Errorf("the endorsed resource changed:\nbefore %v\nafter  %v", before, after)
			}
			if res, _ := s.Search(ctx, Query{Text: "rewritten"}); res.Total != 0 {
				t.Errorf("the search index holds the file's summary")
			}
			if n := countRows(t, s, "resources"); n != 2 {
				t.Errorf("%d resources, want the endorsed one and the new one", n)
			}
		})
	}
	t.Run("our JSON cannot change it either, and a demand may still cite it", func(t *testing.T) {
		s, id := setup(t)
		before := rowOf(t, s, id)
		rep, err := s.Import(ctx, []byte(`{"format":"plenary-library","version":1,
			"resources":[{"title":"Replaced","url":"https://nesta.org.uk/report/platform-co-operatives","format":"other","status":"hidden"}],
			"demands":[{"title":"Fund platform co-ops","body":"Patient capital.","audience":"funders and investors",
			  "resources":["https://nesta.org.uk/report/platform-co-operatives"]}]}`))
		if err != nil {
			t.Fatalf("%v %v", err, rep.Rejected)
		}
		if want := (ImportReport{Format: "Plenary JSON", Endorsed: 1, DemandsAdded: 1}); !reflect.DeepEqual(rep, want) {
			t.Errorf("report = %+v, want %+v", rep, want)
		}
		if after := rowOf(t, s, id); !reflect.DeepEqual(after, before) {
			t.Errorf("the endorsed resource changed:\nbefore %v\nafter  %v", before, after)
		}
		var d Demand
		if err := s.db.R.Get(&d, `SELECT `+demandColumns+` FROM demands`); err != nil {
			t.Fatal(err)
		}
		if d, _ = s.Demand(ctx, d.ID); !reflect.DeepEqual(d.Resources, []int64{id}) {
			t.Errorf("the demand cites %v, want [%d]", d.Resources, id)
		}
	})
}

// proposeDirectly puts a proposal to endorse a resource in a status, as
// governance would, the same way round as endorseDirectly.
func proposeDirectly(t *testing.T, s *Service, resource int64, status string) {
	t.Helper()
	now := transferClock()
	endorseDirectly(t, s, `INSERT INTO proposals (kind, title, body, resource_id, author_id, status, created_at, opens_at, closes_at)
		VALUES ('endorse_resource', 'Endorse it', '', ?, 1, ?, ?, ?, ?)`, resource, status, now, now.Add(time.Hour), now.Add(2*time.Hour))
}

func TestImportLeavesResourcesUnderBallotAlone(t *testing.T) {
	ctx := context.Background()
	s := transferService(t)
	id := seedResource(t, s, StatusListed, ResourceInput{Title: "Platform co-operatives – solving the capital conundrum",
		URL: "https://www.nesta.org.uk/report/platform-co-operatives/", Authors: "Simon Borkin", Format: "report", Summary: "As proposed."})
	proposeDirectly(t, s, id, "discussion")
	s.now = func() time.Time { return transferClock().Add(time.Hour) }
	file := []byte(`"Item Type","Title","Url","Abstract Note"` + "\n" +
		`"report","Platform co-operatives – solving the capital conundrum","https://www.nesta.org.uk/report/platform-co-operatives/","Changed."` + "\n" +
		`"book","Own This!","https://openlibrary.org/isbn/9781839764554",""` + "\n")

	before := rowOf(t, s, id)
	rep, err := s.Import(ctx, file)
	if err != nil {
		t.Fatalf("a resource under ballot failed the import: %v %v", err, rep.Rejected)
	}
	if want := (ImportReport{Format: "Zotero CSV", Added: 1, UnderBallot: 1}); !reflect.DeepEqual(rep, want) {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	if after := rowOf(t, s, id); !reflect.DeepEqual(after, before) {
		t.Errorf("the resource under ballot changed:\nbefore %v\nafter  %v", before, after)
	}

	t.Run("once the proposal is withdrawn, the same file brings the change", func(t *testing.T) {
		endorseDirectly(t, s, `UPDATE proposals SET status = 'withdrawn' WHERE resource_id = ?`, id)
		rep, err := s.Import(ctx, file)
		if want := (ImportReport{Format: "Zotero CSV", Updated: 1, Duplicates: 1}); err != nil || !reflect.DeepEqual(rep, want) {
			t.Fatalf("report = %+v, err %v; want %+v", rep, err, want)
		}
		if r, _ := getResource(ctx, s.db.R, id); r.Summary != "Changed." {
			t.Errorf("summary = %q", r.Summary)
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

// hostileCSV is the shape that made an import quadratic, filling size
// bytes: new resources, row after row, each with a link and a DOI (so that,
// when the import asked the database about each row, every row read the
// whole table, which grew as the rows above were inserted), several
// authors, tags, and a quoted abstract with a comma, doubled quotes and a
// line break. It returns the file and its number of rows.
func hostileCSV(size int) ([]byte, int) {
	var b bytes.Buffer
	b.Grow(size + 200)
	b.WriteString(`"Key","Item Type","Publication Year","Author","Title","DOI","Url","Abstract Note","Manual Tags"` + "\n")
	n := 0
	for ; b.Len() < size && n < MaxImportRows; n++ {
		fmt.Fprintf(&b, `"K%d","report","%d","Doe%d, Jane; Roe, Richard; Common Wealth","Report %d on co-ops","10.1000/h.%d",`+
			`"https://example.org/r/%d","She said ""yes"",`+"\n"+`then left.","co-ops; finance; policy"`+"\n", n, 1900+n%200, n, n, n, n)
	}
	return b.Bytes(), n
}

func TestImportHostileCSV(t *testing.T) {
	ctx := context.Background()
	data, rows := hostileCSV(5 << 20)
	if len(data) < 5<<20 || rows < 10000 {
		t.Fatalf("the hostile file is %d bytes in %d rows, want 5 MB in many rows", len(data), rows)
	}
	s := transferService(t)
	rep, err := s.Import(ctx, data)
	if err != nil {
		t.Fatalf("import: %v (first rejected: %v)", err, rep.Rejected[:min(3, len(rep.Rejected))])
	}
	if want := (ImportReport{Format: "Zotero CSV", Added: rows}); !reflect.DeepEqual(rep, want) {
		t.Fatalf("report = %+v, want %+v", rep, want)
	}
	if n := countRows(t, s, "resources"); n != rows {
		t.Fatalf("%d resources in the library, want %d", n, rows)
	}
	for _, i := range []int{0, rows / 2, rows - 1} {
		r := byTitle(t, s, fmt.Sprintf("Report %d on co-ops", i))
		if r.URL != fmt.Sprintf("https://example.org/r/%d", i) || r.DOI != fmt.Sprintf("10.1000/h.%d", i) ||
			r.Year == nil || *r.Year != 1900+i%200 || r.Status != StatusListed {
			t.Errorf("row %d: url %q, doi %q, year %v, status %q", i+2, r.URL, r.DOI, r.Year, r.Status)
		}
		if want := (List{fmt.Sprintf("Jane Doe%d", i), "Richard Roe", "Common Wealth"}); !reflect.DeepEqual(r.Authors, want) {
			t.Errorf("row %d: authors %q, want %q", i+2, r.Authors, want)
		}
		if want := (List{"co-ops", "finance", "policy"}); !reflect.DeepEqual(r.Topics, want) {
			t.Errorf("row %d: topics %q, want %q", i+2, r.Topics, want)
		}
		if r.Summary != "She said \"yes\",\nthen left." {
			t.Errorf("row %d: the abstract's quotes, comma or line break were lost: %q", i+2, r.Summary)
		}
	}
	res, err := s.Search(ctx, Query{Text: fmt.Sprintf("Doe%d", rows-1)})
	if err != nil || res.Total != 1 {
		t.Errorf("searching for the last row's author found %d (err %v): the full-text index missed a batch", res.Total, err)
	}

	again, err := s.Import(ctx, data)
	if want := (ImportReport{Format: "Zotero CSV", Duplicates: rows}); err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("the second import = %+v, err %v; want %+v", again, err, want)
	}
}

// BenchmarkImportHostileCSV imports the 5 MB hostile file into an empty
// library: decoding, checking, matching and one transaction.
func BenchmarkImportHostileCSV(b *testing.B) {
	ctx := context.Background()
	data, rows := hostileCSV(5 << 20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		b.StopTimer()
		s := transferService(b)
		b.StartTimer()
		rep, err := s.Import(ctx, data)
		if err != nil || rep.Added != rows {
			b.Fatalf("import: %+v, %v", rep, err)
		}
	}
}
