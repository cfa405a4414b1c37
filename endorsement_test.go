package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/fakeclock"
	"plenary/library"
)

// endorsedFixture makes a database with an endorsed resource and an
// endorsed demand, through the services and real ballots, and returns
// their numbers and a resource that is not endorsed.
func endorsedFixture(t *testing.T, path string) (resource, demand, plain int64) {
	t.Helper()
	ctx := context.Background()
	addMembers(t, path)
	d, err := db.Open(ctx, path, schema(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	clock := fakeclock.New(time.Now().UTC())
	gov, lib := governance.New(d, clock.Now), library.New(d, clock.Now)
	admin, err := gov.Member(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	v := library.Viewer{ID: admin.ID, Active: true, Admin: true}
	add := func(title string) int64 {
		r, err := lib.SubmitResource(ctx, v, library.ResourceInput{Title: title, URL: "https://example.org/" + strings.ReplaceAll(title, " ", "-"),
			Format: "report", Summary: "What it says."})
		if err != nil {
			t.Fatal(err)
		}
		if err := lib.SetResourceStatus(ctx, v, r.ID, library.StatusListed); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	resource, plain = add("Ours to Share"), add("Not endorsed")
	dm, err := lib.DraftDemand(ctx, v, library.DemandInput{Title: "Open procurement", Body: "Buy from co-ops.", Audience: "local government",
		Resources: fmt.Sprint(resource)})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []governance.ProposalInput{
		{Kind: governance.KindEndorseResource, Title: "Endorse it", ResourceID: fmt.Sprint(resource), Opens: "now", Days: "3"},
		{Kind: governance.KindEndorseDemand, Title: "Endorse the demand", DemandID: fmt.Sprint(dm.ID), Opens: "now", Days: "7"},
	} {
		p, err := gov.Propose(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{1, 2} {
			m, _ := gov.Member(ctx, id)
			if _, err := gov.Vote(ctx, m, p.ID, governance.ChoiceYes, ""); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(p.ClosesAt.Sub(clock.Now()))
		if err := gov.Advance(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return resource, dm.ID, plain
}

func sqlite3(t *testing.T, path, script string) {
	t.Helper()
	if out, err := exec.Command("sqlite3", path, script).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
}

func TestEndorsementVerifyCommand(t *testing.T) {
	path := dbPath(t)
	resource, demand, plain := endorsedFixture(t, path)

	t.Run("every endorsement matches", func(t *testing.T) {
		r := plenary(t, "", "endorsement", "verify", "-db", path)
		if r.code != 0 || !strings.Contains(r.stdout, "endorsements ok: 2 checked") ||
			!strings.Contains(r.stdout, fmt.Sprintf("resource %d ok: digest ", resource)) {
			t.Errorf("%v", r)
		}
		r = plenary(t, "", "endorsement", "verify", "-db", path, "demand", fmt.Sprint(demand))
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("demand %d ok", demand)) {
			t.Errorf("%v", r)
		}
		r = plenary(t, "", "ledger", "verify", "-db", path)
		if r.code != 0 || !strings.Contains(r.stdout, "2 endorsed items match their digests") {
			t.Errorf("%v", r)
		}
	})

	t.Run("asking about something not endorsed, or not there, is a clear error", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"resource", fmt.Sprint(plain)}, fmt.Sprintf("resource %d is not endorsed", plain)},
			{[]string{"demand", "999"}, "there is no demand 999"},
			{[]string{"proposal", "1"}, `"proposal": say resource or demand`},
			{[]string{"resource", "x"}, `"x" is not a resource number`},
		} {
			r := plenary(t, "", append([]string{"endorsement", "verify", "-db", path}, c.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%v: want a failure saying %q\n%v", c.args, c.want, r)
			}
		}
	})

	t.Run("an import cannot change what was endorsed", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "in.csv")
		csv := "Item Type,Title,Url,Abstract Note\nreport,Retitled by import,https://example.org/Ours-to-Share,Overwritten\n"
		if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		r := plenary(t, "", "import", "-db", path, file)
		if r.code != 0 || !strings.Contains(r.stdout, "1 endorsed resources were skipped and left unchanged") {
			t.Errorf("%v", r)
		}
		if r := plenary(t, "", "endorsement", "verify", "-db", path); r.code != 0 {
			t.Errorf("after the import: %v", r)
		}

		// Our own JSON may say more: a new status for the resource, a new
		// text and status for the demand. Neither changes.
		file = filepath.Join(t.TempDir(), "in.json")
		doc := `{"format":"plenary-library","version":1,
			"resources":[{"title":"Retitled again","url":"https://example.org/Ours-to-Share","format":"report","status":"hidden"}],
			"demands":[{"title":"Open procurement","body":"Rewritten by import.","audience":"unions","status":"withdrawn"}]}`
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		r = plenary(t, "", "import", "-db", path, file)
		if r.code != 0 || !strings.Contains(r.stdout, "1 endorsed resources were skipped and left unchanged") ||
			!strings.Contains(r.stdout, "1 demands were skipped") {
			t.Errorf("%v", r)
		}
		if r := plenary(t, "", "endorsement", "verify", "-db", path); r.code != 0 {
			t.Errorf("after the JSON import: %v", r)
		}
	})

	t.Run("content changed behind Plenary's back fails verification", func(t *testing.T) {
		// The freeze's trigger dropped, or disarmed by rewriting the schema.
		sqlite3(t, path, fmt.Sprintf(`DROP TRIGGER resources_endorsed_frozen; UPDATE resources SET title = 'Tampered' WHERE id = %d;`, resource))
		sqlite3(t, path, `PRAGMA writable_schema = ON;
			UPDATE sqlite_schema SET sql = replace(sql, 'WHEN OLD.status = ''endorsed''', 'WHEN 0') WHERE name = 'demands_endorsed_frozen';`)
		sqlite3(t, path, fmt.Sprintf(`UPDATE demands SET body = 'Tampered' WHERE id = %d;`, demand))

		r := plenary(t, "", "ledger", "verify", "-db", path)
		if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("resource %d's content does not match the digest on the ledger", resource)) ||
			!strings.Contains(r.stderr, fmt.Sprintf("demand %d's content does not match", demand)) || !strings.Contains(r.stderr, "FAILED") {
			t.Errorf("ledger verify after tampering:\n%v", r)
		}
		r = plenary(t, "", "endorsement", "verify", "-db", path, "resource", fmt.Sprint(resource))
		if r.code == 0 || !strings.Contains(r.stderr, "changed outside a ballot") || strings.Contains(r.stdout, "ok") {
			t.Errorf("endorsement verify after tampering:\n%v", r)
		}
	})
}
