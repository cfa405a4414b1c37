// Package dbtest gives each test a fresh Plenary database with the real
// schema and the real settings: never a shared or in-memory one. It is a
// SQLite file in t.TempDir(), or, with PLENARY_TEST_BACKEND=postgres, a
// PostgreSQL database of its own, copied from a template that holds the
// schema and dropped when the test ends.
package dbtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
)

// Schema returns the text of the repository's schema.sql.
func Schema(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "schema.sql"))
	if err != nil {
		t.Fatalf("dbtest: read schema: %v", err)
	}
	return string(b)
}

// Postgres says whether the tests run on PostgreSQL
// (PLENARY_TEST_BACKEND=postgres) rather than SQLite.
func Postgres() bool { return os.Getenv("PLENARY_TEST_BACKEND") == "postgres" }

// RequireSQLite skips a test that looks at what only SQLite has (its
// pragmas, its file's pages and write-ahead log) when the tests run on
// PostgreSQL. Every test of behaviour runs on both.
func RequireSQLite(t testing.TB) {
	t.Helper()
	if Postgres() {
		t.Skip("dbtest: this test inspects SQLite's own files or settings; the tests run on PostgreSQL")
	}
}

// Path returns where a test's new database is to be: a file name in
// t.TempDir() on SQLite, the URL of a new, empty PostgreSQL database
// (dropped when the test ends) on PostgreSQL. Nothing is created in the
// file; the PostgreSQL database has the schema already.
func Path(t testing.TB) string {
	t.Helper()
	if Postgres() {
		return newPostgres(t, false)
	}
	return filepath.Join(t.TempDir(), "plenary.db")
}

// EmptyPath is Path without the schema: a file name not yet created, or
// the URL of a new PostgreSQL database with nothing in it.
func EmptyPath(t testing.TB) string {
	t.Helper()
	if Postgres() {
		return newPostgres(t, true)
	}
	return filepath.Join(t.TempDir(), "plenary.db")
}

// Open creates a database and closes it when the test ends.
func Open(t testing.TB) *db.DB {
	t.Helper()
	return OpenPath(t, Path(t))
}

// OpenPath opens the database at path, from Path, and closes it when the
// test ends: a second OpenPath of the same path is a second process's view
// of one database.
func OpenPath(t testing.TB, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, Schema(t), db.Options{})
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Tables lists the database's own tables (not SQLite's internal ones, nor
// PostgreSQL's catalogues), sorted by name.
func Tables(t testing.TB, d *db.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name`
	if d.IsPostgres() {
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	var names []string
	if err := d.R.SelectContext(context.Background(), &names, q); err != nil {
		t.Fatalf("dbtest: list tables: %v", err)
	}
	return names
}

// Columns lists the columns of table, in their order.
func Columns(t testing.TB, d *db.DB, table string) []string {
	t.Helper()
	var (
		names []string
		err   error
	)
	if d.IsPostgres() {
		err = d.R.SelectContext(context.Background(), &names, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)
	} else {
		var cols []struct {
			Name string `db:"name"`
		}
		err = sqlx.SelectContext(context.Background(), d.R, &cols, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		for _, c := range cols {
			names = append(names, c.Name)
		}
	}
	if err != nil {
		t.Fatalf("dbtest: columns of %s: %v", table, err)
	}
	return names
}

// ExecWithoutForeignKeys runs one statement on the writer with foreign keys
// not enforced, for a test that sets up a row whose other end would be
// another package's business (an endorsement without its proposal). On
// PostgreSQL, which enforces foreign keys with triggers, the statement
// runs with triggers off (session_replication_role = replica).
func ExecWithoutForeignKeys(t testing.TB, d *db.DB, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := d.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	off, on := `PRAGMA foreign_keys = OFF`, `PRAGMA foreign_keys = ON`
	if d.IsPostgres() {
		off, on = `SET session_replication_role = replica`, `RESET session_replication_role`
	}
	if _, err := conn.ExecContext(ctx, off); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, on)
	if _, err := conn.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
