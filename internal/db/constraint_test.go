package db_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
)

// constraintSchema has one of each kind of constraint IsConstraint names.
const constraintSchema = `
CREATE TABLE things (
    id    INTEGER PRIMARY KEY,
    email TEXT    COLLATE NOCASE UNIQUE,
    n     INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),
    m     INTEGER NOT NULL DEFAULT 0 CONSTRAINT m_small CHECK (m < 10)
);
CREATE TABLE pairs (a INTEGER, b INTEGER, UNIQUE (a, b));
CREATE UNIQUE INDEX pairs_live ON pairs (a, coalesce(b, 0)) WHERE a > 1;
CREATE TABLE notes (thing_id INTEGER REFERENCES things (id));
CREATE TRIGGER things_kept BEFORE DELETE ON things
BEGIN
    SELECT RAISE(ABORT, 'plenary: things are kept');
END;
INSERT INTO things (id, email) VALUES (1, 'ada@example.org');
INSERT INTO pairs (a, b) VALUES (1, 2);
`

func TestIsConstraint(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "constraints.db"), constraintSchema, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	exec := func(t *testing.T, query string) error {
		t.Helper()
		_, err := d.W.ExecContext(ctx, query)
		if err == nil {
			t.Fatalf("%s: no error", query)
		}
		return err
	}

	for _, c := range []struct {
		name  string
		query string
		is    []string // names the error is
		isNot []string // names it is not
	}{
		{"a UNIQUE column, in another case", `INSERT INTO things (email) VALUES ('ADA@example.org')`,
			[]string{"things.email"}, []string{"email", "things.email, things.id", "things", "UNIQUE constraint failed: things.email"}},
		{"a PRIMARY KEY", `INSERT INTO things (id) VALUES (1)`, []string{"things.id"}, []string{"things.email"}},
		{"a UNIQUE over two columns", `INSERT INTO pairs (a, b) VALUES (1, 2)`, []string{"pairs.a, pairs.b"}, []string{"pairs.a", "pairs.b"}},
		{"a unique index on an expression, by its name", `INSERT INTO pairs (a, b) VALUES (2, NULL), (2, 0)`,
			[]string{"index 'pairs_live'"}, []string{"pairs_live", "pairs.a, pairs.b", "pairs.a"}},
		{"a NOT NULL column", `INSERT INTO things (email, n) VALUES ('bo@example.org', NULL)`, []string{"things.n"}, []string{"n >= 0"}},
		{"an unnamed CHECK, by its expression", `INSERT INTO things (email, n) VALUES ('bo@example.org', -1)`,
			[]string{"n >= 0"}, []string{"things.n", "m_small"}},
		{"a named CHECK, by its name", `INSERT INTO things (email, m) VALUES ('bo@example.org', 10)`,
			[]string{"m_small"}, []string{"m < 10", "n >= 0"}},
		{"a trigger's RAISE, by its whole message", `DELETE FROM things`,
			[]string{"plenary: things are kept"}, []string{"plenary: things", "things are kept", "things.id"}},
		{"a foreign key, which SQLite does not name", `INSERT INTO notes (thing_id) VALUES (99)`,
			nil, []string{"notes.thing_id", "things.id", "FOREIGN KEY constraint failed", ""}},
		{"not a constraint, though its message names one", `SELECT * FROM "things.email"`,
			nil, []string{"things.email", "no such table: things.email"}},
		{"not a constraint, though its message holds a trigger's", `SELECT * FROM "plenary: things are kept"`,
			nil, []string{"plenary: things are kept"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := exec(t, c.query)
			for _, name := range c.is {
				if !db.IsConstraint(err, name) {
					t.Errorf("IsConstraint(%q, %q) = false, want true", err, name)
				}
				wrapped := fmt.Errorf("governance: add member: %w", err)
				joined := errors.Join(errors.New("db: rollback: done"), wrapped)
				if !db.IsConstraint(wrapped, name) || !db.IsConstraint(joined, name) {
					t.Errorf("IsConstraint misses %q once wrapped (%q) or joined (%q)", name, wrapped, joined)
				}
			}
			for _, name := range c.isNot {
				if db.IsConstraint(err, name) {
					t.Errorf("IsConstraint(%q, %q) = true, want false", err, name)
				}
			}
		})
	}

	t.Run("a refusal inside a transaction is recognised after the rollback", func(t *testing.T) {
		err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO things (email) VALUES ('cy@example.org')`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO things (email) VALUES ('cy@example.org')`)
			return fmt.Errorf("test: second insert: %w", err)
		})
		if !db.IsConstraint(err, "things.email") {
			t.Errorf("IsConstraint(%q, things.email) = false, want true", err)
		}
		var n int
		if err := d.R.GetContext(ctx, &n, `SELECT count(*) FROM things WHERE email = 'cy@example.org'`); err != nil || n != 0 {
			t.Errorf("after the rollback %d rows (err %v), want 0", n, err)
		}
	})

	t.Run("no error, or one with a constraint's words but not from the database, is none", func(t *testing.T) {
		for _, err := range []error{nil, errors.New("UNIQUE constraint failed: things.email"), errors.New("plenary: things are kept")} {
			for _, name := range []string{"things.email", "plenary: things are kept", ""} {
				if db.IsConstraint(err, name) {
					t.Errorf("IsConstraint(%v, %q) = true, want false", err, name)
				}
			}
		}
	})
}
