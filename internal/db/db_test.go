package db_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// open opens the database at path with the real schema and closes it when
// the test ends.
func open(t *testing.T, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path, dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

type settings struct {
	JournalMode  string
	ForeignKeys  int
	Synchronous  int
	QueryOnly    int
	SecureDelete int
}

func settingsOf(t *testing.T, ctx context.Context, c *sqlx.Conn) settings {
	t.Helper()
	var s settings
	for _, p := range []struct {
		pragma string
		dest   any
	}{
		{"journal_mode", &s.JournalMode},
		{"foreign_keys", &s.ForeignKeys},
		{"synchronous", &s.Synchronous},
		{"query_only", &s.QueryOnly},
		{"secure_delete", &s.SecureDelete},
	} {
		if err := c.GetContext(ctx, p.dest, "PRAGMA "+p.pragma); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.pragma, err)
		}
	}
	return s
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("the writer uses WAL, foreign keys, full synchronous commits and secure delete", func(t *testing.T) {
		dbtest.RequireSQLite(t)
		d := dbtest.Open(t)
		c, err := d.W.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		got := settingsOf(t, ctx, c)
		want := settings{JournalMode: "wal", ForeignKeys: 1, Synchronous: 2, QueryOnly: 0, SecureDelete: 1}
		if got != want {
			t.Errorf("writer settings = %+v, want %+v", got, want)
		}
	})

	t.Run("every reader connection has the same settings and is read-only", func(t *testing.T) {
		dbtest.RequireSQLite(t)
		d := dbtest.Open(t)
		// Hold several connections at once so each is a distinct one from
		// the pool, not the same idle connection handed out again.
		const n = 4
		conns := make([]*sqlx.Conn, n)
		for i := range conns {
			c, err := d.R.Connx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns[i] = c
		}
		want := settings{JournalMode: "wal", ForeignKeys: 1, Synchronous: 2, QueryOnly: 1, SecureDelete: 1}
		for i, c := range conns {
			if got := settingsOf(t, ctx, c); got != want {
				t.Errorf("reader %d settings = %+v, want %+v", i, got, want)
			}
		}
		if stats := d.R.Stats(); stats.InUse != n {
			t.Errorf("reader connections in use = %d, want %d distinct ones", stats.InUse, n)
		}
	})

	t.Run("a reader connection refuses to write", func(t *testing.T) {
		d := dbtest.Open(t)
		_, err := d.R.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('account', 'x', '2026-01-01')`)
		if err == nil {
			t.Fatal("insert through the reader pool succeeded; want it refused")
		}
	})

	t.Run("the schema version is recorded", func(t *testing.T) {
		d := dbtest.Open(t)
		if v := schemaVersion(t, d); v != db.Version {
			t.Errorf("schema version = %d, want %d", v, db.Version)
		}
	})

	t.Run("reopening an existing file keeps its data and does not apply the schema again", func(t *testing.T) {
		path := dbtest.Path(t)
		d, err := db.Open(ctx, path, dbtest.Schema(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('account', 'kept', '2026-01-01')`); err != nil {
			t.Fatal(err)
		}
		d.Close()

		// A schema that fails if run proves it is not run on a current database.
		d, err = db.Open(ctx, path, "THIS IS NOT SQL;", db.Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer d.Close()
		var key string
		if err := d.R.GetContext(ctx, &key, `SELECT key FROM login_failures`); err != nil {
			t.Fatalf("row written before reopening: %v", err)
		}
		if key != "kept" {
			t.Errorf("key = %q, want %q", key, "kept")
		}
	})

	t.Run("opening a file a crash left with a write-ahead log keeps its data and truncates the log", func(t *testing.T) {
		dbtest.RequireSQLite(t)
		dir := t.TempDir()
		path := filepath.Join(dir, "plenary.db")
		d := open(t, path)
		if _, err := d.W.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('account', 'in the log', '2026-01-01')`); err != nil {
			t.Fatal(err)
		}
		// Copying the files of an open database is what a crash leaves:
		// the last commits in the log, not yet in the database file.
		crashed := filepath.Join(dir, "crashed.db")
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if suffix == "-wal" && len(b) == 0 {
				t.Fatal("the log is empty before the copy: the test proves nothing")
			}
			if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := open(t, crashed)
		if st, err := os.Stat(crashed + "-wal"); err != nil {
			t.Error(err)
		} else if st.Size() != 0 {
			t.Errorf("after opening, the log holds %d bytes, want none", st.Size())
		}
		var key string
		if err := c.R.GetContext(ctx, &key, `SELECT key FROM login_failures`); err != nil || key != "in the log" {
			t.Errorf("the row committed before the crash: %q, %v", key, err)
		}
	})

	t.Run("a database from a newer version of the program is refused", func(t *testing.T) {
		path := dbtest.Path(t)
		d, err := db.Open(ctx, path, dbtest.Schema(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		bump := fmt.Sprintf(`PRAGMA user_version = %d`, db.Version+1)
		if d.IsPostgres() {
			bump = fmt.Sprintf(`UPDATE schema_version SET version = %d`, db.Version+1)
		}
		if _, err := d.W.ExecContext(ctx, bump); err != nil {
			t.Fatal(err)
		}
		d.Close()

		d, err = db.Open(ctx, path, dbtest.Schema(t), db.Options{})
		if err == nil {
			d.Close()
			t.Fatal("opened a database with a newer schema version; want it refused")
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Errorf("error = %q, want it to say the database is newer", err)
		}
	})
}

func TestWithTx(t *testing.T) {
	ctx := context.Background()
	count := func(t *testing.T, d *db.DB) int {
		t.Helper()
		var n int
		if err := d.R.GetContext(ctx, &n, `SELECT count(*) FROM login_failures`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(tx *sqlx.Tx, key string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('account', ?, '2026-01-01')`, key)
		return err
	}

	t.Run("both writes are committed when fn succeeds", func(t *testing.T) {
		d := dbtest.Open(t)
		err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if err := insert(tx, "a"); err != nil {
				return err
			}
			return insert(tx, "b")
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, d); n != 2 {
			t.Errorf("rows = %d, want 2", n)
		}
	})

	t.Run("an error from fn rolls back the writes already made and is returned", func(t *testing.T) {
		d := dbtest.Open(t)
		boom := errors.New("boom")
		err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if err := insert(tx, "a"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
		if n := count(t, d); n != 0 {
			t.Errorf("rows = %d after rollback, want 0", n)
		}
	})

	t.Run("a failing second statement leaves no half-written rows", func(t *testing.T) {
		d := dbtest.Open(t)
		err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if err := insert(tx, "a"); err != nil {
				return err
			}
			// scope is CHECKed: this insert fails inside the database.
			_, err := tx.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('nonsense', 'b', '2026-01-01')`)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "CHECK constraint failed") && !strings.Contains(err.Error(), "violates check constraint") {
			t.Errorf("err = %v, want the CHECK constraint failure", err)
		}
		if n := count(t, d); n != 0 {
			t.Errorf("rows = %d after rollback, want 0", n)
		}
	})

	t.Run("a panic in fn rolls back and leaves the writer usable", func(t *testing.T) {
		d := dbtest.Open(t)
		func() {
			defer func() {
				if recover() == nil {
					t.Error("WithTx swallowed the panic; want it passed on")
				}
			}()
			d.WithTx(ctx, func(tx *sqlx.Tx) error {
				if err := insert(tx, "a"); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		// The writer has one connection: a transaction left open would make
		// this wait for ever.
		if err := d.WithTx(ctx, func(tx *sqlx.Tx) error { return insert(tx, "b") }); err != nil {
			t.Fatal(err)
		}
		var keys []string
		if err := d.R.SelectContext(ctx, &keys, `SELECT key FROM login_failures`); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0] != "b" {
			t.Errorf("rows = %q, want only the one written after the panic", keys)
		}
	})
}

func TestSecret(t *testing.T) {
	ctx := context.Background()

	t.Run("a secret is generated with the asked length and kept across reopening", func(t *testing.T) {
		path := dbtest.Path(t)
		d, err := db.Open(ctx, path, dbtest.Schema(t), db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		first, err := d.Secret(ctx, "session", 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 64 {
			t.Errorf("len = %d, want 64", len(first))
		}
		if bytes.Equal(first, make([]byte, 64)) {
			t.Error("the secret is all zeros")
		}
		again, err := d.Secret(ctx, "session", 64)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Error("a second call returned a different secret")
		}
		d.Close()

		d = open(t, path)
		reopened, err := d.Secret(ctx, "session", 64)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, reopened) {
			t.Error("the secret changed across reopening")
		}
	})

	t.Run("different names get different secrets", func(t *testing.T) {
		d := dbtest.Open(t)
		a, err := d.Secret(ctx, "session", 32)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Secret(ctx, "csrf", 32)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, b) {
			t.Error("two names share one secret")
		}
	})
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	if dbtest.Postgres() {
		t.Run("on PostgreSQL it makes no copy and points to pg_dump", func(t *testing.T) {
			d := dbtest.Open(t)
			out := filepath.Join(t.TempDir(), "copy.db")
			err := d.Backup(ctx, out)
			if !errors.Is(err, db.ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump") {
				t.Errorf("Backup = %v, want ErrBackupPostgres naming pg_dump", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was written at %s (%v)", out, err)
			}
		})
		return
	}

	t.Run("the copy opens and holds the data", func(t *testing.T) {
		d := dbtest.Open(t)
		secret, err := d.Secret(ctx, "session", 32)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "copy.db")
		if err := d.Backup(ctx, out); err != nil {
			t.Fatalf("backup: %v", err)
		}
		c := open(t, out)
		var v int
		if err := c.R.GetContext(ctx, &v, `PRAGMA user_version`); err != nil {
			t.Fatal(err)
		}
		if v != db.Version {
			t.Errorf("copy's user_version = %d, want %d", v, db.Version)
		}
		got, err := c.Secret(ctx, "session", 32)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, secret) {
			t.Error("the copy's secret differs from the original's")
		}
	})

	t.Run("a copy taken while a writer keeps inserting holds everything committed before it began", func(t *testing.T) {
		d := dbtest.Open(t)
		var committed atomic.Int64 // highest id known committed
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		errc := make(chan error, 1)
		go func() {
			defer wg.Done()
			for i := int64(1); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := d.W.ExecContext(ctx, `INSERT INTO login_failures (id, scope, key, at) VALUES (?, 'address', ?, '2026-01-01')`, i, fmt.Sprint(i))
				if err != nil {
					errc <- err
					return
				}
				committed.Store(i)
			}
		}()
		// Let some rows land first.
		waitFor := func(n int64) {
			for committed.Load() < n {
				select {
				case err := <-errc:
					t.Fatalf("writer: %v", err)
				default:
					runtime.Gosched()
				}
			}
		}
		waitFor(20)
		before := committed.Load()
		out := filepath.Join(t.TempDir(), "copy.db")
		berr := d.Backup(ctx, out)
		// Writes went on while the copy was taken.
		waitFor(committed.Load() + 20)
		close(stop)
		wg.Wait()
		if berr != nil {
			t.Fatalf("backup: %v", berr)
		}

		c := open(t, out)
		var n, maxID int64
		if err := c.R.QueryRowxContext(ctx, `SELECT count(*), coalesce(max(id), 0) FROM login_failures WHERE id <= ?`, before).Scan(&n, &maxID); err != nil {
			t.Fatal(err)
		}
		if n != before {
			t.Errorf("the copy holds %d of the %d rows committed before the backup began", n, before)
		}
		var total, highest int64
		if err := c.R.QueryRowxContext(ctx, `SELECT count(*), coalesce(max(id), 0) FROM login_failures`).Scan(&total, &highest); err != nil {
			t.Fatal(err)
		}
		if total != highest {
			t.Errorf("the copy holds %d rows with ids up to %d: a gap means a torn snapshot", total, highest)
		}
		var check string
		if err := c.R.GetContext(ctx, &check, `PRAGMA integrity_check`); err != nil {
			t.Fatal(err)
		}
		if check != "ok" {
			t.Errorf("integrity_check = %q", check)
		}
	})

	t.Run("an existing file is not overwritten", func(t *testing.T) {
		d := dbtest.Open(t)
		out := filepath.Join(t.TempDir(), "copy.db")
		if err := os.WriteFile(out, []byte("precious"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := d.Backup(ctx, out); err == nil {
			t.Error("backup over an existing file succeeded; want it refused")
		}
		if b, _ := os.ReadFile(out); string(b) != "precious" {
			t.Errorf("the existing file now holds %q", b)
		}
	})
}

func TestDataVersion(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	version := func() int64 {
		t.Helper()
		v, err := d.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// On PostgreSQL a commit's notification comes back a moment after it:
	// settled waits for the version to stop moving, and moved for it to
	// move, for at most a few seconds. SQLite's is read at once.
	settled := func() int64 {
		t.Helper()
		v := version()
		for i := 0; d.IsPostgres() && i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
			w := version()
			if w == v {
				break
			}
			v = w
		}
		return v
	}
	moved := func(from int64) bool {
		t.Helper()
		for i := 0; i < 50; i++ {
			if version() != from {
				return true
			}
			if !d.IsPostgres() {
				return false
			}
			time.Sleep(100 * time.Millisecond)
		}
		return false
	}
	v0 := settled()
	if _, err := d.R.ExecContext(ctx, `SELECT count(*) FROM members`); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0 {
		t.Errorf("a read moved the version from %d to %d", v0, v)
	}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('address', 'a', '2026-01-01')`); err != nil {
		t.Fatal(err)
	}
	if v1 := version(); v1 == v0 {
		t.Error("a commit on the writer left the version unchanged")
	}
	v1 := settled()
	// Another process's commit (here another opening of the same file, as
	// the command line would be) moves it too.
	other := open(t, d.Path)
	if _, err := other.W.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('address', 'b', '2026-01-01')`); err != nil {
		t.Fatal(err)
	}
	if !moved(v1) {
		t.Error("a commit from another connection left the version unchanged")
	}
	// A rolled-back transaction commits nothing.
	v2 := settled()
	err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('address', 'c', '2026-01-01')`); err != nil {
			return err
		}
		return errors.New("change of mind")
	})
	if err == nil {
		t.Fatal("WithTx hid the error")
	}
	if v := settled(); v != v2 {
		t.Errorf("a rolled-back transaction moved the version from %d to %d", v2, v)
	}
	// Nor does one that writes nothing, though it commits: the vote
	// writer's, say, when every vote in it was refused.
	err = d.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE login_failures SET key = 'x' WHERE key = 'no such key'`); err != nil {
			return err
		}
		// A refused statement the transaction survives changes nothing.
		if _, err := db.ExecMayFail(ctx, tx, `UPDATE login_failures SET scope = 'nonsense'`); err == nil {
			return errors.New("the CHECK let scope = 'nonsense' through")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := settled(); v != v2 {
		t.Errorf("a transaction that changed nothing moved the version from %d to %d", v2, v)
	}
}

// A database made by an earlier release, brought forward by the migration
// steps, must end up with exactly the schema a new database gets, and keep
// its data.
func TestMigrateMatchesSchema(t *testing.T) {
	dbtest.RequireSQLite(t)
	ctx := context.Background()
	v1, err := os.ReadFile("testdata/schema-v1.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := sqlx.Open("sqlite3", "file:"+old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(string(v1) + `; PRAGMA user_version = 1;
		INSERT INTO secrets (name, value) VALUES ('kept', zeroblob(32))`); err != nil {
		t.Fatalf("make a version 1 database: %v", err)
	}
	raw.Close()

	migrated := open(t, old)
	fresh := dbtest.Open(t)
	schemaOf := func(d *db.DB) string {
		var rows []string
		if err := d.R.SelectContext(ctx, &rows, `SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(rows, "\n")
	}
	if got, want := schemaOf(migrated), schemaOf(fresh); got != want {
		t.Errorf("migrated schema differs from schema.sql's:\n--- migrated\n%s\n--- fresh\n%s", got, want)
	}
	var v int
	if err := migrated.R.GetContext(ctx, &v, `PRAGMA user_version`); err != nil || v != db.Version {
		t.Errorf("user_version %d (%v), want %d", v, err, db.Version)
	}
	var kept []byte
	if err := migrated.R.GetContext(ctx, &kept, `SELECT value FROM secrets WHERE name = 'kept'`); err != nil || !bytes.Equal(kept, make([]byte, 32)) {
		t.Errorf("the data from before the migration: %v, %v", kept, err)
	}
}

// Version 3 rekeys the ballot box by receipt hash. A version 2 database
// with ballots in its box keeps every one of them, choice and all.
func TestMigrateKeepsTheBallotBox(t *testing.T) {
	dbtest.RequireSQLite(t)
	ctx := context.Background()
	v2, err := os.ReadFile("testdata/schema-v2.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.db")
	raw, err := sqlx.Open("sqlite3", "file:"+old+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(string(v2) + `; PRAGMA user_version = 2;
		INSERT INTO members (id, name, email, password_hash, role, status, applied_at)
			VALUES (1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', '2026-01-01');
		INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at,
			quorum_pct, threshold, secret, roll_size, roll_digest, opened_at)
			VALUES (7, 'motion', 'A motion', '', 1, 'voting', '2026-01-01', '2026-01-01', '2026-01-08',
			25, 'majority', 1, 1, 'd', '2026-01-01');
		INSERT INTO ballot_box (proposal_id, id, receipt_hash, choice) VALUES
			(7, 'b2', 'hash-b', 'no'), (7, 'a1', 'hash-a', 'yes'), (7, 'c3', 'hash-c', 'abstain')`); err != nil {
		t.Fatalf("make a version 2 database: %v", err)
	}
	raw.Close()

	d := open(t, old)
	var box []struct {
		Proposal int64  `db:"proposal_id"`
		Hash     string `db:"receipt_hash"`
		Choice   string `db:"choice"`
	}
	if err := d.R.SelectContext(ctx, &box, `SELECT proposal_id, receipt_hash, choice FROM ballot_box ORDER BY receipt_hash`); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(box)
	if want := "[{7 hash-a yes} {7 hash-b no} {7 hash-c abstain}]"; got != want {
		t.Errorf("the box after migrating: %s, want %s", got, want)
	}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO ballot_box (proposal_id, receipt_hash, choice) VALUES (7, 'hash-a', 'no')`); !db.IsConstraint(err, "ballot_box.proposal_id, ballot_box.receipt_hash") {
		t.Errorf("a second ballot under one receipt in one ballot: %v, want the primary key's refusal", err)
	}
}

// schemaVersion reads the version the database records of its schema.
func schemaVersion(t *testing.T, d *db.DB) int {
	t.Helper()
	q := `PRAGMA user_version`
	if d.IsPostgres() {
		q = `SELECT version FROM schema_version`
	}
	var v int
	if err := d.R.GetContext(context.Background(), &v, q); err != nil {
		t.Fatal(err)
	}
	return v
}
