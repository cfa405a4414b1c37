package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"

	"plenary/governance"
	"plenary/internal/content"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// Version 4 freezes endorsed content. A version 3 database with an endorsed
// resource and demand comes out with their digests kept beside them and on
// the ledger (which still verifies), every one matching, and both frozen.
func TestMigrateRecordsDigestsOfWhatWasEndorsed(t *testing.T) {
	dbtest.RequireSQLite(t)
	ctx := context.Background()
	v3, err := os.ReadFile("testdata/schema-v3.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := sqlx.Open("sqlite3", "file:"+old+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(string(v3) + `; PRAGMA user_version = 3;
		INSERT INTO members (id, name, email, password_hash, role, status, applied_at)
			VALUES (1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', '2026-01-01');
		INSERT INTO proposals (id, kind, title, body, resource_id, author_id, status, created_at, opens_at, closes_at,
			quorum_pct, threshold, secret, roll_size, roll_digest, opened_at, yes, no, abstain, quorum_met, outcome, box_digest, closed_at)
			VALUES (1, 'motion', 'A motion', '', NULL, 1, 'closed', '2026-01-01', '2026-01-01', '2026-01-08',
			25, 'majority', 0, 1, 'd', '2026-01-01', 1, 0, 0, 1, 'carried', 'b', '2026-01-08');
		INSERT INTO resources (id, title, url, authors, year, format, topics, summary, url_key, title_key, status,
			endorsed_at, endorsed_by, created_at, updated_at)
			VALUES (5, 'Ours to Hack', 'https://example.org/ours', '["Trebor Scholz","Nathan Schneider"]', 2016, 'book',
			'["platform co-ops"]', 'A *classic*.', 'example.org/ours', 'ourstohack', 'listed', '2026-01-08', 1, '2026-01-01', '2026-01-08'),
			(6, 'Not endorsed', 'https://example.org/not', '[]', NULL, 'report', '[]', '', 'example.org/not', 'notendorsed', 'listed',
			NULL, NULL, '2026-01-01', '2026-01-01');
		INSERT INTO demands (id, title, body, audience, status, created_at, updated_at, endorsed_at, endorsed_by, tally)
			VALUES (3, 'Open procurement', 'Buy from co-ops.', 'local government', 'endorsed', '2026-01-01', '2026-01-08', '2026-01-08', 1, '{}');
		INSERT INTO demand_resources (demand_id, resource_id, position) VALUES (3, 6, 0), (3, 5, 1);`); err != nil {
		t.Fatalf("make a version 3 database: %v", err)
	}
	raw.Close()

	d := open(t, old)
	wantR := content.Resource{Title: "Ours to Hack", URL: "https://example.org/ours", Authors: []string{"Trebor Scholz", "Nathan Schneider"},
		Year: func() *int { y := 2016; return &y }(), Format: "book", Language: "en", Topics: []string{"platform co-ops"}, Summary: "A *classic*."}.Digest()
	wantD := content.Demand{Title: "Open procurement", Body: "Buy from co-ops.", Audience: "local government", Resources: []int64{6, 5}}.Digest()
	var got struct {
		R  *string `db:"r"`
		D  *string `db:"d"`
		No *string `db:"no"`
	}
	if err := d.R.GetContext(ctx, &got, `SELECT (SELECT endorsed_digest FROM resources WHERE id = 5) AS r,
		(SELECT endorsed_digest FROM demands WHERE id = 3) AS d, (SELECT endorsed_digest FROM resources WHERE id = 6) AS no`); err != nil {
		t.Fatal(err)
	}
	if got.R == nil || *got.R != wantR || got.D == nil || *got.D != wantD || got.No != nil {
		t.Errorf("digests after migrating: resource %v, demand %v, not endorsed %v; want %s, %s, none", got.R, got.D, got.No, wantR, wantD)
	}
	var bodies []string
	if err := d.R.SelectContext(ctx, &bodies, `SELECT body FROM ledger WHERE kind = 'endorsement.digest_recorded' ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	if want := `{"digest":"` + wantR + `","proposal":1,"resource":5}|{"demand":3,"digest":"` + wantD + `","proposal":1}`; strings.Join(bodies, "|") != want {
		t.Errorf("ledger after migrating:\n%s\nwant\n%s", strings.Join(bodies, "\n"), want)
	}
	gov := governance.New(d, time.Now)
	if n, _, err := gov.VerifyLedger(ctx); err != nil || n != 2 {
		t.Errorf("VerifyLedger: %d entries, %v", n, err)
	}
	es, err := gov.CheckEndorsements(ctx)
	if err != nil || len(es) != 2 || !es[0].OK() || !es[1].OK() {
		t.Errorf("CheckEndorsements: %+v, %v", es, err)
	}
	if _, err := d.W.ExecContext(ctx, `UPDATE resources SET title = 'Changed' WHERE id = 5`); err == nil || !strings.Contains(err.Error(), "endorsed by ballot") {
		t.Errorf("changing the endorsed resource after migrating: %v, want it refused", err)
	}
	if _, err := d.W.ExecContext(ctx, `UPDATE resources SET title = 'Changed' WHERE id = 6`); err != nil {
		t.Errorf("changing a resource not endorsed: %v", err)
	}
	var kinds []string
	if err := d.R.SelectContext(ctx, &kinds, `SELECT kind FROM rules WHERE kind LIKE 'amend_%' ORDER BY kind`); err != nil || strings.Join(kinds, ",") != "amend_demand,amend_resource" {
		t.Errorf("the amend kinds' rules: %v, %v", kinds, err)
	}
}

// The same on PostgreSQL: a database at PostgreSQL's first version (3)
// with endorsed items comes out of step 4 with their digests recorded.
func TestPostgresMigrateRecordsDigestsOfWhatWasEndorsed(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	// An empty database of the test's own, dropped when it ends (a
	// cleanup on an admin connection closed by then left one behind on
	// every run).
	u := dbtest.EmptyPath(t)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, db.PostgresSchema); err != nil {
		t.Fatalf("make a version 3 database: %v", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_version (version integer NOT NULL);
		INSERT INTO schema_version (version) VALUES (3);
		INSERT INTO members (id, name, email, password_hash, role, status, applied_at)
			VALUES (1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', '2026-01-01');
		INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at,
			quorum_pct, threshold, secret, roll_size, roll_digest, opened_at, yes, no, abstain, quorum_met, outcome, box_digest, closed_at)
			VALUES (1, 'motion', 'A motion', '', 1, 'closed', '2026-01-01', '2026-01-01', '2026-01-08',
			25, 'majority', 0, 1, 'd', '2026-01-01', 1, 0, 0, 1, 'carried', 'b', '2026-01-08');
		INSERT INTO resources (id, title, url, authors, year, format, topics, summary, url_key, title_key, status,
			endorsed_at, endorsed_by, created_at, updated_at)
			VALUES (5, 'Ours to Hack', 'https://example.org/ours', '["Trebor Scholz"]', 2016, 'book', '[]', 'A <classic> & more.',
			'example.org/ours', 'ourstohack', 'listed', '2026-01-08', 1, '2026-01-01', '2026-01-08');
		INSERT INTO demands (id, title, body, audience, status, created_at, updated_at, endorsed_at, endorsed_by, tally)
			VALUES (3, 'Open procurement', 'Buy from co-ops.', 'local government', 'endorsed', '2026-01-01', '2026-01-08', '2026-01-08', 1, '{}');
		INSERT INTO demand_resources (demand_id, resource_id, position) VALUES (3, 5, 0);`); err != nil {
		t.Fatalf("fill the version 3 database: %v", err)
	}
	conn.Close(ctx)

	d, err := db.Open(ctx, u, dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	defer d.Close()
	year := 2016
	wantR := content.Resource{Title: "Ours to Hack", URL: "https://example.org/ours", Authors: []string{"Trebor Scholz"}, Year: &year,
		Format: "book", Language: "en", Summary: "A <classic> & more."}.Digest()
	var got string
	if err := d.R.GetContext(ctx, &got, `SELECT endorsed_digest FROM resources WHERE id = 5`); err != nil || got != wantR {
		t.Errorf("the resource's digest: %q (%v), want %s", got, err, wantR)
	}
	gov := governance.New(d, time.Now)
	if n, _, err := gov.VerifyLedger(ctx); err != nil || n != 2 {
		t.Errorf("VerifyLedger: %d entries, %v", n, err)
	}
	es, err := gov.CheckEndorsements(ctx)
	if err != nil || len(es) != 2 || !es[0].OK() || !es[1].OK() {
		t.Errorf("CheckEndorsements: %+v, %v", es, err)
	}
	if _, err := d.W.ExecContext(ctx, `UPDATE demands SET body = 'Changed' WHERE id = 3`); err == nil || !strings.Contains(err.Error(), "endorsed by ballot") {
		t.Errorf("changing the endorsed demand after migrating: %v, want it refused", err)
	}
}
