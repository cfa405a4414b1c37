package main

import (
	"bytes"
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
)

const testPassword = "correct horse battery staple"

// result is what one run of the command line did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// plenary runs the command line with args and stdin.
func plenary(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// dbPath is a database file in the test's own directory, not yet created.
func dbPath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "plenary.db")
}

// addMembers adds an admin (who founds the co-op) and a member to the
// database at path through the command line: two ledger entries.
func addMembers(t *testing.T, path string) {
	t.Helper()
	t.Setenv("PLENARY_PASSWORD", testPassword)
	if r := plenary(t, "", "member", "add", "-db", path, "-email", "ada@example.org", "-name", "Ada Lovelace", "-role", "admin"); r.code != 0 {
		t.Fatalf("member add admin: %v", r)
	}
	if r := plenary(t, "", "member", "add", "-db", path, "-email", "robert@example.coop", "-name", "Robert Owen"); r.code != 0 {
		t.Fatalf("member add: %v", r)
	}
}

// openTestDB opens the database at path for the test to look into.
func openTestDB(t *testing.T, path string) (*db.DB, *governance.Service) {
	t.Helper()
	d, err := db.Open(context.Background(), path, schema(), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, governance.New(d, time.Now)
}

func TestMemberAdd(t *testing.T) {
	t.Run("the first admin added founds the co-op", func(t *testing.T) {
		path := dbPath(t)
		t.Setenv("PLENARY_PASSWORD", testPassword)
		r := plenary(t, "", "member", "add", "-db", path, "-email", "Ada@Example.org", "-name", "Ada Lovelace", "-role", "admin")
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		if want := "Added member 1 (admin, ada@example.org)."; !strings.Contains(r.stdout, want) {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		_, gov := openTestDB(t, path)
		m, err := gov.Login(context.Background(), "ada@example.org", testPassword, "127.0.0.1")
		if err != nil {
			t.Fatalf("log in as the new admin: %v", err)
		}
		if !m.IsAdmin() || m.Name != "Ada Lovelace" {
			t.Errorf("member %+v, want an active admin named Ada Lovelace", m)
		}
		entries, total, err := gov.Ledger(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if total != 1 || entries[0].Kind != governance.EventFounded || entries[0].Fields()["member"] != float64(m.ID) {
			t.Errorf("ledger %+v, want one member.founded entry naming member %d", entries, m.ID)
		}
	})

	t.Run("a later member is admitted by the operator", func(t *testing.T) {
		path := dbPath(t)
		addMembers(t, path)
		_, gov := openTestDB(t, path)
		entries, total, err := gov.Ledger(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || entries[0].Kind != governance.EventAdmitted || entries[0].Fields()["member"] != float64(2) {
			t.Errorf("ledger %+v, want member 2 admitted after the founding", entries)
		}
	})

	t.Run("the password can come from standard input", func(t *testing.T) {
		path := dbPath(t)
		t.Setenv("PLENARY_PASSWORD", "")
		r := plenary(t, testPassword+"\n", "member", "add", "-db", path, "-email", "ada@example.org", "-name", "Ada Lovelace")
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		_, gov := openTestDB(t, path)
		if _, err := gov.Login(context.Background(), "ada@example.org", testPassword, "127.0.0.1"); err != nil {
			t.Errorf("log in with the password typed: %v", err)
		}
	})

	t.Run("a weak password is refused with a message and exit code 1", func(t *testing.T) {
		path := dbPath(t)
		t.Setenv("PLENARY_PASSWORD", "password123")
		r := plenary(t, "", "member", "add", "-db", path, "-email", "ada@example.org", "-name", "Ada Lovelace", "-role", "admin")
		if r.code != 1 {
			t.Errorf("exit %d, want 1\n%v", r.code, r)
		}
		if !strings.Contains(r.stderr, "password: This password is among the most common ones") {
			t.Errorf("stderr %q does not say what is wrong with the password", r.stderr)
		}
		if !strings.Contains(r.stderr, "member not added") {
			t.Errorf("stderr %q does not say the member was not added", r.stderr)
		}
		d, _ := openTestDB(t, path)
		var n int
		if err := d.R.Get(&n, `SELECT count(*) FROM members`); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("members = %d, want 0", n)
		}
	})

	t.Run("an unknown role is refused", func(t *testing.T) {
		t.Setenv("PLENARY_PASSWORD", testPassword)
		r := plenary(t, "", "member", "add", "-db", dbPath(t), "-email", "ada@example.org", "-name", "Ada Lovelace", "-role", "owner")
		if r.code != 1 || !strings.Contains(r.stderr, "role: Choose member or admin.") {
			t.Errorf("want exit 1 and a message about the role\n%v", r)
		}
	})

	t.Run("a missing email is a usage error", func(t *testing.T) {
		t.Setenv("PLENARY_PASSWORD", testPassword)
		r := plenary(t, "", "member", "add", "-db", dbPath(t), "-name", "Ada Lovelace")
		if r.code != 2 || !strings.Contains(r.stderr, "-email") {
			t.Errorf("want exit 2 and the flags listed\n%v", r)
		}
	})
}

func TestHelpAndUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"-h prints the usage", []string{"-h"}, 0, "Usage:\n  plenary [serve]", ""},
		{"--help prints the usage", []string{"--help"}, 0, "plenary ledger verify", ""},
		{"help prints the usage", []string{"help"}, 0, "plenary backup", ""},
		{"serve -h lists serve's flags", []string{"serve", "-h"}, 0, "", "-addr"},
		{"a leading flag still goes to serve", []string{"-frobnicate"}, 2, "", "Usage: plenary serve"},
		{"member add -h lists its flags", []string{"member", "add", "-h"}, 0, "", "-email"},
		{"backup -h says how to restore", []string{"backup", "-h"}, 0, "", "To restore"},
		{"ledger verify -h explains itself", []string{"ledger", "verify", "-h"}, 0, "", "altered, removed or reordered"},
		{"an unknown command exits 2 with the usage", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"member without add exits 2", []string{"member", "remove"}, 2, "", "usage: plenary member add"},
		{"ledger without verify exits 2", []string{"ledger"}, 2, "", "usage: plenary ledger verify"},
		{"an unknown flag exits 2", []string{"backup", "-frobnicate"}, 2, "", "flag provided but not defined"},
		{"backup without a file exits 2", []string{"backup", "-db", "x.db"}, 2, "", "Usage: plenary backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := plenary(t, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\n%v", r.code, tt.code, r)
			}
			if !strings.Contains(r.stdout, tt.inStdout) {
				t.Errorf("stdout %q, want it to contain %q", r.stdout, tt.inStdout)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.inStderr)
			}
		})
	}
}

func TestBackupCommand(t *testing.T) {
	path := dbPath(t)
	addMembers(t, path)
	out := filepath.Join(t.TempDir(), "copy.db")

	t.Run("backup writes a copy that holds the members", func(t *testing.T) {
		r := plenary(t, "", "backup", "-db", path, out)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		if !strings.Contains(r.stdout, "Backed up") {
			t.Errorf("stdout %q, want it to confirm the backup", r.stdout)
		}
		_, gov := openTestDB(t, out)
		if _, err := gov.Login(context.Background(), "robert@example.coop", testPassword, "127.0.0.1"); err != nil {
			t.Errorf("log in on the copy: %v", err)
		}
		if n, _, err := gov.VerifyLedger(context.Background()); err != nil || n != 2 {
			t.Errorf("the copy's ledger: %d entries, %v; want 2 that verify", n, err)
		}
	})

	t.Run("backup refuses to overwrite an existing file", func(t *testing.T) {
		before, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		r := plenary(t, "", "backup", "-db", path, out)
		if r.code != 1 {
			t.Errorf("exit %d, want 1\n%v", r.code, r)
		}
		if !strings.Contains(r.stderr, "exists") {
			t.Errorf("stderr %q, want it to say the file exists", r.stderr)
		}
		after, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before, after) {
			t.Error("the existing file was changed")
		}
	})
}

func TestLedgerVerifyCommand(t *testing.T) {
	t.Run("a good ledger is ok", func(t *testing.T) {
		path := dbPath(t)
		addMembers(t, path)
		r := plenary(t, "", "ledger", "verify", "-db", path)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		if !strings.HasPrefix(r.stdout, "ledger ok: 2 entries, head ") {
			t.Errorf("stdout %q, want ledger ok with 2 entries", r.stdout)
		}
	})

	t.Run("an edited entry fails and is named", func(t *testing.T) {
		path := dbPath(t)
		addMembers(t, path)
		out, err := exec.Command("sqlite3", path,
			`DROP TRIGGER ledger_no_update; UPDATE ledger SET body = json_set(body, '$.by', 7) WHERE seq = 2;`).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3: %v\n%s", err, out)
		}
		r := plenary(t, "", "ledger", "verify", "-db", path)
		if r.code == 0 {
			t.Fatalf("exit 0 on a tampered ledger\n%v", r)
		}
		if !strings.Contains(r.stderr, "ledger entry 2") {
			t.Errorf("stderr %q, want it to name ledger entry 2", r.stderr)
		}
		if strings.Contains(r.stdout, "ledger ok") {
			t.Errorf("stdout %q says ok", r.stdout)
		}
	})

	t.Run("a missing database is an error, not a new empty one", func(t *testing.T) {
		path := dbPath(t)
		r := plenary(t, "", "ledger", "verify", "-db", path)
		if r.code != 1 || !strings.Contains(r.stderr, "no database") {
			t.Errorf("want exit 1 and no database\n%v", r)
		}
		if _, err := os.Stat(path); err == nil {
			t.Error("verify created a database file")
		}
	})
}
