package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// plenary copy moves a co-op from its SQLite file into PostgreSQL whole,
// checks it, and refuses what it should without writing anything.
func TestCopyToPostgres(t *testing.T) {
	t.Run("arguments that name no copy are refused before anything opens", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "source.db")
		for _, c := range []struct {
			args []string
			code int
			says string
		}{
			{[]string{"copy"}, 2, "Usage: plenary copy"},
			{[]string{"copy", "-from", src}, 2, "Usage: plenary copy"},
			{[]string{"copy", "-to", "postgres://127.0.0.1:1/x"}, 2, "Usage: plenary copy"},
			{[]string{"copy", "-from", src, "-to", filepath.Join(t.TempDir(), "other.db")}, 1, "must be a postgres:// URL"},
			{[]string{"copy", "-from", "postgres://127.0.0.1:1/x", "-to", "postgres://127.0.0.1:1/y"}, 1, "reads a SQLite database file"},
			{[]string{"copy", "-from", src, "-to", "postgres://127.0.0.1:1/x"}, 1, "no database at"},
			{[]string{"copy", "-from", src, "-to", "postgres://127.0.0.1:1/x", "extra"}, 2, "Usage: plenary copy"},
		} {
			r := plenary(t, "", c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.says) {
				t.Errorf("%q: want exit %d saying %q\n%v", c.args, c.code, c.says, r)
			}
		}
	})

	if !dbtest.Postgres() {
		t.Skip("the rest needs PostgreSQL: PLENARY_TEST_BACKEND=postgres (make test-postgres)")
	}
	ctx := context.Background()
	demo := func(t *testing.T) string {
		t.Helper()
		src := filepath.Join(t.TempDir(), "source.db")
		r := plenary(t, "", "demo", "-db", src, "-members", "60", "-resources", "12", "-proposals", "6", "-votes", "150")
		if r.code != 0 {
			t.Fatalf("demo: %v", r)
		}
		return src
	}

	t.Run("every row arrives, the checks pass, and new rows number on", func(t *testing.T) {
		src := demo(t)
		to := dbtest.EmptyPath(t)
		r := plenary(t, "", "copy", "-from", src, "-to", to)
		if r.code != 0 || !strings.Contains(r.stdout, "copy ok: ledger of") || !strings.Contains(r.stdout, "closed ballots recount as stored") {
			t.Fatalf("copy: %v", r)
		}
		from := openSQL(t, src)
		into := openSQL(t, to)
		for _, table := range dbtest.Tables(t, into) {
			if table == "schema_version" {
				continue
			}
			if a, b := rowCount(t, from, table), rowCount(t, into, table); a != b {
				t.Errorf("%s: %d rows in the file, %d in the copy", table, a, b)
			}
		}
		// Rows as they were, not only as many: the ledger and a box.
		for _, q := range []string{
			`SELECT seq || ' ' || kind || ' ' || body || ' ' || hash FROM ledger ORDER BY seq`,
			`SELECT proposal_id || ' ' || receipt_hash || ' ' || choice FROM ballot_box ORDER BY proposal_id, receipt_hash`,
			`SELECT id || ' ' || email || ' ' || role || ' ' || status FROM members ORDER BY id`,
		} {
			var a, b []string
			if err := from.R.SelectContext(ctx, &a, q); err != nil {
				t.Fatal(err)
			}
			if err := into.R.SelectContext(ctx, &b, q); err != nil {
				t.Fatal(err)
			}
			if strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) == 0 {
				t.Errorf("%s: the copy differs (%d rows in the file, %d in the copy)", q, len(a), len(b))
			}
		}
		// The copy's library can be searched at once: PostgreSQL makes its
		// index from the rows as they arrive, and finds what the file's does.
		for _, word := range []string{"co", "platform", "data", "ownership"} {
			terms := []db.Term{{Word: word, Prefix: true}}
			var a, b []int64
			if err := from.R.SelectContext(ctx, &a, `SELECT r.id FROM resources r WHERE `+from.SearchMatch("r")+` ORDER BY r.id`,
				from.SearchQuery(terms)); err != nil {
				t.Fatal(err)
			}
			if err := into.R.SelectContext(ctx, &b, `SELECT r.id FROM resources r WHERE `+into.SearchMatch("r")+` ORDER BY r.id`,
				into.SearchQuery(terms)); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) || word == "co" && len(a) == 0 {
				t.Errorf("searching %q finds %v in the file, %v in the copy", word, a, b)
			}
		}
		into.Close()
		// The identities go on from the copied rows: a new member is the next.
		before := rowCount(t, from, "members")
		t.Setenv("PLENARY_PASSWORD", testPassword)
		if r := plenary(t, "", "member", "add", "-db", to, "-email", "new@example.org", "-name", "New Member"); r.code != 0 {
			t.Fatalf("member add on the copy: %v", r)
		}
		into = openSQL(t, to)
		var id int64
		if err := into.R.GetContext(ctx, &id, `SELECT id FROM members WHERE email = 'new@example.org'`); err != nil || id != before+1 {
			t.Errorf("the new member is number %d (%v), want %d", id, err, before+1)
		}
		// The guarantees are back on: the ledger is append-only again.
		if _, err := into.W.ExecContext(ctx, `DELETE FROM ledger WHERE seq = 1`); err == nil {
			t.Error("the copy's ledger let an entry be deleted: its triggers were not restored")
		}
		if r := plenary(t, "", "ledger", "verify", "-db", to); r.code != 0 {
			t.Errorf("ledger verify on the copy: %v", r)
		}
	})

	t.Run("a database that holds a co-op is not written over", func(t *testing.T) {
		src := demo(t)
		to := dbtest.Path(t)
		addMembers(t, to)
		r := plenary(t, "", "copy", "-from", src, "-to", to)
		if r.code != 1 || !strings.Contains(r.stderr, "already holds a co-op (2 members") {
			t.Fatalf("want exit 1, already holds a co-op\n%v", r)
		}
		if n := rowCount(t, openSQL(t, to), "members"); n != 2 {
			t.Errorf("the target has %d members, want its own 2", n)
		}
	})

	// Rows whose member does not exist: keys SQLite was told not to
	// check, which the copy's checks at the end find, whether PostgreSQL
	// holds them with a foreign key (comments) or a trigger (the roll).
	for _, orphan := range []struct{ name, query, says string }{
		{"a comment", `INSERT INTO comments (proposal_id, member_id, body, created_at) VALUES (1, 99999, 'orphan', '2026-01-01 00:00:00')`, "violates foreign key"},
		{"a roll row", `DROP TRIGGER roll_frozen_insert; INSERT INTO roll (proposal_id, member_id, voted) VALUES (1, 99999, 0)`, "roll (1, 99999) names no member"},
	} {
		t.Run("a copy that fails writes nothing: "+orphan.name+" of no member", func(t *testing.T) {
			src := demo(t)
			from := openSQL(t, src)
			dbtest.ExecWithoutForeignKeys(t, from, orphan.query)
			from.Close()
			to := dbtest.EmptyPath(t)
			r := plenary(t, "", "copy", "-from", src, "-to", to)
			if r.code != 1 || !strings.Contains(r.stderr, "copy FAILED, nothing was written") || !strings.Contains(r.stderr, orphan.says) {
				t.Fatalf("want exit 1, nothing written, saying %q\n%v", orphan.says, r)
			}
			into := openSQL(t, to)
			for _, table := range []string{"members", "ledger", "proposals", "ballot_box", "comments", "roll"} {
				if n := rowCount(t, into, table); n != 0 {
					t.Errorf("%s holds %d rows after the failed copy", table, n)
				}
			}
		})
	}

	t.Run("a file altered behind Plenary's back is copied, and the check says so", func(t *testing.T) {
		src := demo(t)
		from := openSQL(t, src)
		if _, err := from.W.ExecContext(ctx, `DROP TRIGGER ledger_no_update`); err != nil {
			t.Fatal(err)
		}
		if _, err := from.W.ExecContext(ctx, `UPDATE ledger SET body = replace(body, '"member":1', '"member":2') WHERE seq = 1`); err != nil {
			t.Fatal(err)
		}
		from.Close()
		r := plenary(t, "", "copy", "-from", src, "-to", dbtest.EmptyPath(t))
		if r.code != 1 || !strings.Contains(r.stderr, "the copy's ledger FAILED to verify") {
			t.Errorf("want exit 1, the ledger failing\n%v", r)
		}
	})
}

// openSQL opens a database (a file or a URL) for the test to read.
func openSQL(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := openDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func rowCount(t *testing.T, d *db.DB, table string) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := d.R.GetContext(context.Background(), &n, `SELECT count(*) FROM `+table); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n.Int64
}
