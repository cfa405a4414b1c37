// Package dbtest gives each test a fresh Plenary database in its own file,
// with the real schema and the real settings: never a shared or in-memory one.
package dbtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

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

// Open creates a database file in t.TempDir() and closes it when the test ends.
func Open(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "plenary.db"), Schema(t), db.Options{})
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
