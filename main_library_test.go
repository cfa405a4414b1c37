package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// libraryCLI runs the command line and returns the exit code and outputs.
func libraryCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// exportedResources exports our JSON through the command line and returns
// its resources' titles.
func exportedResources(t *testing.T, path string) []string {
	t.Helper()
	code, stdout, stderr := libraryCLI(t, "export", "-db", path, "-format", "json")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	var f struct {
		Format    string
		Resources []struct{ Title string }
	}
	if err := json.Unmarshal([]byte(stdout), &f); err != nil || f.Format != "plenary-library" {
		t.Fatalf("export wrote %q: %v", stdout, err)
	}
	var out []string
	for _, r := range f.Resources {
		out = append(out, r.Title)
	}
	return out
}

func TestImportCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plenary.db")
	fixture := filepath.Join("library", "testdata", "zotero.csv")

	t.Run("a Zotero CSV imports and says what it did", func(t *testing.T) {
		code, stdout, stderr := libraryCLI(t, "import", "-db", path, fixture)
		want := "Imported Zotero CSV from " + fixture + ": 5 added, 0 updated, 0 duplicates skipped, 0 demands added.\n"
		if code != 0 || stdout != want {
			t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, stdout, want, stderr)
		}
		if got := exportedResources(t, path); len(got) != 5 {
			t.Errorf("the library holds %q", got)
		}
	})

	t.Run("the same file again adds nothing", func(t *testing.T) {
		code, stdout, _ := libraryCLI(t, "import", "-db", path, fixture)
		if code != 0 || !strings.Contains(stdout, ": 0 added, 0 updated, 5 duplicates skipped, 0 demands added.") {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
	})

	t.Run("a file with a bad row imports nothing, names the row and exits 1", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(bad, []byte("\"Item Type\",\"Title\",\"Url\"\n"+
			"\"report\",\"A new report\",\"https://example.org/new\"\n"+
			"\"report\",\"A trap\",\"javascript:alert(1)\"\n"), 0o644)
		code, stdout, stderr := libraryCLI(t, "import", "-db", path, bad)
		if code != 1 || stdout != "" {
			t.Fatalf("exit %d, stdout %q", code, stdout)
		}
		for _, want := range []string{"row 3: url: Enter a full web address starting with https:// or http://.\n", "Nothing was imported.\n"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q, want it to contain %q", stderr, want)
			}
		}
		if got := exportedResources(t, path); len(got) != 5 {
			t.Errorf("after a rejected import the library holds %d resources, want 5", len(got))
		}
	})

	t.Run("a file that is not an import file says why", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "notes.txt")
		os.WriteFile(bad, []byte("just some notes\n"), 0o644)
		code, _, stderr := libraryCLI(t, "import", "-db", path, bad)
		if code != 1 || !strings.Contains(stderr, "notes.txt: This is not JSON, nor a CSV with Zotero's columns") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})

	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"-h explains the formats and the rules", []string{"import", "-h"}, 0, "only a ballot endorses"},
		{"without a file it shows its usage", []string{"import", "-db", path}, 2, "Usage: plenary import"},
		{"a missing file is an error", []string{"import", "-db", path, "no-such-file.json"}, 1, "no-such-file.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := libraryCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.inStderr)
			}
		})
	}
}

func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plenary.db")
	if code, _, stderr := libraryCLI(t, "import", "-db", path, filepath.Join("library", "starter.json")); code != 0 {
		t.Fatalf("import the starter library: %s", stderr)
	}

	t.Run("CSV goes to a file with a byte order mark and Zotero's columns", func(t *testing.T) {
		out := filepath.Join(dir, "library.csv")
		code, stdout, stderr := libraryCLI(t, "export", "-db", path, "-format", "csv", "-o", out)
		if code != 0 || !strings.HasPrefix(stdout, "Exported 18 resources and 0 demands as Zotero CSV to "+out) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		b, _ := os.ReadFile(out)
		if !bytes.HasPrefix(b, []byte("\uFEFFKey,Item Type,Publication Year,Author,Title,")) {
			t.Errorf("file starts %q", b[:min(len(b), 80)])
		}
	})

	t.Run("our JSON carries the demands and imports into an empty database", func(t *testing.T) {
		out := filepath.Join(dir, "library.json")
		if code, _, stderr := libraryCLI(t, "export", "-db", path, "-o", out); code != 0 {
			t.Fatal(stderr)
		}
		code, stdout, stderr := libraryCLI(t, "import", "-db", filepath.Join(dir, "fresh.db"), out)
		if code != 0 || !strings.HasSuffix(stdout, ": 18 added, 0 updated, 0 duplicates skipped, 13 demands added.\n") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	t.Run("CSL-JSON goes to standard output", func(t *testing.T) {
		code, stdout, _ := libraryCLI(t, "export", "-db", path, "-format", "csl")
		var items []map[string]any
		if code != 0 || json.Unmarshal([]byte(stdout), &items) != nil || len(items) != 18 || items[0]["type"] == nil {
			t.Errorf("exit %d, stdout %.200q", code, stdout)
		}
	})

	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"-h explains each format", []string{"export", "-h"}, 0, "csl is CSL-JSON"},
		{"an unknown format exits 2", []string{"export", "-db", path, "-format", "xml"}, 2, `-format must be json, csv or csl, not "xml"`},
		{"a missing database is an error, not a new empty one", []string{"export", "-db", filepath.Join(dir, "none.db")}, 1, "no database at"},
		{"a stray argument exits 2", []string{"export", "-db", path, "library.json"}, 2, "Usage: plenary export"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := libraryCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.inStderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("export created a database")
	}
}
