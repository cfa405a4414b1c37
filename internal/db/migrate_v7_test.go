package db_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// Version 7 adds members' time zones, the co-op's settings, calendar
// tokens and invitations tied to an address. A version 6 database with
// members and invitations in it comes out with every row kept, the old
// invitations as links for whoever has them (no email, role member), and
// the new columns' and tables' constraints in force.
func TestMigrateV6ToV7(t *testing.T) {
	ctx := context.Background()
	var path string
	if dbtest.Postgres() {
		path = dbtest.EmptyPath(t)
	} else {
		// SQLite makes a new database at the latest version only: start
		// from the first release's schema and take the steps to 6.
		v1, err := os.ReadFile("testdata/schema-v1.sql")
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(t.TempDir(), "v6.db")
		raw, err := sqlx.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(v1) + `; PRAGMA user_version = 1`); err != nil {
			t.Fatalf("make a version 1 database: %v", err)
		}
		raw.Close()
	}
	old, err := db.OpenTo(ctx, path, dbtest.Schema(t), 6)
	if err != nil {
		t.Fatalf("bring a database to version 6: %v", err)
	}
	if v := schemaVersion(t, old); v != 6 {
		t.Fatalf("the old database is at version %d, want 6", v)
	}
	if err := old.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, q := range []string{
			`INSERT INTO members (id, name, email, password_hash, role, status, applied_at, joined_at)
				VALUES (1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', '2026-01-01', '2026-01-01')`,
			`INSERT INTO members (id, name, email, password_hash, role, status, applied_at)
				VALUES (2, 'Bo', 'bo@example.org', 'x', 'member', 'applicant', '2026-01-02')`,
			`INSERT INTO members (id, name, email, password_hash, role, status, applied_at, joined_at)
				VALUES (3, 'Cy', 'cy@example.org', 'x', 'member', 'left', '2026-01-02', '2026-01-03')`,
			`INSERT INTO ledger (seq, at, kind, body, prev_hash, hash)
				VALUES (1, '2026-02-01T10:00:00Z', 'member.left', '{"by":1,"member":3}', 'p', 'h1')`,
			`INSERT INTO invitations (token_hash, note, created_by, created_at, expires_at)
				VALUES ('hash-1', 'for the AGM', 1, '2026-01-01', '2026-01-15')`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("fill the version 6 database: %v", err)
	}
	old.Close()

	d := open(t, path)
	if v := schemaVersion(t, d); v != db.Version {
		t.Errorf("schema version %d after migrating, want %d", v, db.Version)
	}
	var members []struct {
		ID   int64   `db:"id"`
		Name string  `db:"name"`
		Zone *string `db:"time_zone"`
	}
	if err := d.R.SelectContext(ctx, &members, `SELECT id, name, time_zone FROM members ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 || members[0].Name != "Ada" || members[1].Name != "Bo" || members[0].Zone != nil || members[1].Zone != nil {
		t.Errorf("members after migrating: %+v, want Ada, Bo and Cy with no zone of their own", members)
	}
	var left []struct {
		ID     int64      `db:"id"`
		LeftAt *time.Time `db:"left_at"`
	}
	if err := d.R.SelectContext(ctx, &left, `SELECT id, left_at FROM members ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if left[0].LeftAt != nil || left[1].LeftAt != nil || left[2].LeftAt == nil ||
		!left[2].LeftAt.Equal(time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("when members left, after migrating: %+v; want Cy's from the ledger, 2026-02-01 10:00 UTC", left)
	}
	var inv struct {
		Note  string  `db:"note"`
		Email *string `db:"email"`
		Name  string  `db:"name"`
		Role  string  `db:"role"`
	}
	if err := d.R.GetContext(ctx, &inv, `SELECT note, email, name, role FROM invitations WHERE token_hash = 'hash-1'`); err != nil {
		t.Fatal(err)
	}
	if inv.Note != "for the AGM" || inv.Email != nil || inv.Name != "" || inv.Role != "member" {
		t.Errorf("the old invitation after migrating: %+v, want its note kept, no email, no name, role member", inv)
	}

	for _, tt := range []struct {
		name, query string
		ok          bool
	}{
		{"a member's zone", `UPDATE members SET time_zone = 'Europe/London' WHERE id = 2`, true},
		{"a date of leaving for a member who has not left", `UPDATE members SET left_at = '2026-03-01' WHERE id = 2`, false},
		{"a zone too long", `UPDATE members SET time_zone = '` + strings.Repeat("x", 65) + `' WHERE id = 2`, false},
		{"an empty zone", `UPDATE members SET time_zone = '' WHERE id = 2`, false},
		{"an invitation for someone", `INSERT INTO invitations (token_hash, created_by, created_at, expires_at, email, name, role)
			VALUES ('hash-2', 1, '2026-01-01', '2026-01-15', 'cy@example.org', 'Cy', 'admin')`, true},
		{"an invitation with a role that is none", `INSERT INTO invitations (token_hash, created_by, created_at, expires_at, email, role)
			VALUES ('hash-3', 1, '2026-01-01', '2026-01-15', 'di@example.org', 'owner')`, false},
		{"the default time zone", `INSERT INTO settings (name, value) VALUES ('time_zone', 'Europe/Paris')`, true},
		{"a setting that is none", `INSERT INTO settings (name, value) VALUES ('colour', 'red')`, false},
		{"a calendar token", `INSERT INTO calendar_tokens (member_id, token_hash, created_at) VALUES (1, 'cal-1', '2026-01-01')`, true},
		{"a second for the same member", `INSERT INTO calendar_tokens (member_id, token_hash, created_at) VALUES (1, 'cal-2', '2026-01-01')`, false},
		{"one for nobody", `INSERT INTO calendar_tokens (member_id, token_hash, created_at) VALUES (99, 'cal-3', '2026-01-01')`, false},
	} {
		_, err := d.W.ExecContext(ctx, tt.query)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want accepted %t", tt.name, err, tt.ok)
		}
	}
	var zone string
	if err := d.R.GetContext(ctx, &zone, `SELECT value FROM settings WHERE name = 'time_zone'`); err != nil || zone != "Europe/Paris" {
		t.Errorf("the default zone: %q, %v", zone, err)
	}
	// Invitations are looked up by address, whatever its case.
	var n int
	if err := d.R.GetContext(ctx, &n, `SELECT count(*) FROM invitations WHERE email = ?`, "CY@Example.ORG"); err != nil || n != 1 {
		t.Errorf("invitations to CY@Example.ORG: %d, %v; want 1", n, err)
	}
}
