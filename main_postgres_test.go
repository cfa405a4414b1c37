package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plenary/internal/db/dbtest"
)

// The command line on PostgreSQL: a URL wherever a file name goes.
func TestCommandsOnPostgres(t *testing.T) {
	t.Run("backup says to use pg_dump, exits 1 and writes nothing, without connecting", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "copy.db")
		r := plenary(t, "", "backup", "-db", "postgres://plenary:s3cret@127.0.0.1:1/plenary", out)
		if r.code != 1 || !strings.Contains(r.stderr, "pg_dump") {
			t.Errorf("want exit 1 naming pg_dump\n%v", r)
		}
		if strings.Contains(r.stderr+r.stdout, "s3cret") {
			t.Errorf("the password is in the output\n%v", r)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a file was written at %s", out)
		}
	})

	if !dbtest.Postgres() {
		t.Skip("the rest needs PostgreSQL: PLENARY_TEST_BACKEND=postgres (make test-postgres)")
	}

	t.Run("members, the ledger, the demo and tally verify work on a URL", func(t *testing.T) {
		url := dbtest.Path(t)
		addMembers(t, url)
		r := plenary(t, "", "ledger", "verify", "-db", url)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "ledger ok: 2 entries") {
			t.Fatalf("ledger verify: %v", r)
		}
		fresh := dbtest.Path(t)
		r = plenary(t, "", "demo", "-db", fresh, "-members", "30", "-resources", "5", "-proposals", "3", "-votes", "40")
		if r.code != 0 {
			t.Fatalf("demo: %v", r)
		}
		if r := plenary(t, "", "ledger", "verify", "-db", fresh); r.code != 0 {
			t.Errorf("ledger verify after the demo: %v", r)
		}
		if r := plenary(t, "", "tally", "verify", "-db", fresh, "1"); r.code != 0 || !strings.HasPrefix(r.stdout, "tally ok") {
			t.Errorf("tally verify after the demo: %v", r)
		}
	})

	t.Run("a database without Plenary's schema is no database, and is left alone", func(t *testing.T) {
		url := dbtest.EmptyPath(t)
		r := plenary(t, "", "ledger", "verify", "-db", url)
		if r.code != 1 || !strings.Contains(r.stderr, "no database") {
			t.Errorf("want exit 1 and no database\n%v", r)
		}
	})
}
