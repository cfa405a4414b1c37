package dbtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"plenary/internal/db"
)

// AdminURL is the PostgreSQL database the helpers connect to to create and
// drop the tests' databases: PLENARY_TEST_POSTGRES, or the local server
// as a fresh machine has it.
func AdminURL() string {
	if u := os.Getenv("PLENARY_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// templateLock serialises making templates across the test processes that
// go test runs side by side.
const templateLock int64 = 0x706c656e61727903

var (
	templateMu   sync.Mutex
	templateName string // made (or found) by this process, once
	databases    atomic.Int64
)

// withDatabase returns the admin URL with its database replaced by name.
func withDatabase(name string) (string, error) {
	u, err := url.Parse(AdminURL())
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// template makes, once per schema, the database every test's database is
// copied from: plenary_tmpl_<hash of the schema>. Creating a database from
// a template is a file copy, much faster than applying the schema each
// time. Templates of other schemas (other code) are dropped once a day old.
func template(ctx context.Context) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateName != "" {
		return templateName, nil
	}
	name, err := makeTemplate(ctx)
	if err != nil {
		return "", err
	}
	templateName = name
	return name, nil
}

// forgetTemplate makes the next template call look again: a test run of
// other code may have dropped the template since (earlier versions of this
// file dropped every other template at once).
func forgetTemplate() {
	templateMu.Lock()
	templateName = ""
	templateMu.Unlock()
}

func makeTemplate(ctx context.Context) (string, error) {
	name := "plenary_tmpl_" + db.PostgresSchemaHash()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", db.Redact(AdminURL()), err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, templateLock); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, templateLock)

	dropOrphans(ctx, admin)
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Templates of other schemas are stale, but another checkout's tests
	// may be copying one right now: each says when it was made, and only
	// those a day old go.
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database
		WHERE datname LIKE 'plenary\_tmpl\_%' AND coalesce(shobj_description(oid, 'pg_database'), '') < $1`,
		strconv.FormatInt(time.Now().Add(-24*time.Hour).Unix(), 10))
	if err != nil {
		return "", err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for _, s := range stale {
		admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{s}.Sanitize())
	}
	// Made under another name and renamed when whole, so a run killed
	// half-way leaves no template that looks finished.
	building := name + "_building"
	admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{building}.Sanitize())
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{building}.Sanitize()); err != nil {
		return "", err
	}
	u, err := withDatabase(building)
	if err != nil {
		return "", err
	}
	d, err := db.Open(ctx, u, "", db.Options{})
	if err != nil {
		return "", err
	}
	if err := d.Close(); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, `COMMENT ON DATABASE `+pgx.Identifier{building}.Sanitize()+` IS '`+strconv.FormatInt(time.Now().Unix(), 10)+`'`); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{building}.Sanitize()+` RENAME TO `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return name, nil
}

// newPostgres creates a database for t, from the template or (empty)
// without one, and drops it when the test ends, returning its URL.
func newPostgres(t testing.TB, empty bool) string {
	t.Helper()
	ctx := context.Background()
	tmpl, err := template(ctx)
	if err != nil {
		t.Fatalf("dbtest: PostgreSQL template: %v (is PostgreSQL running? make deps starts it)", err)
	}
	name := fmt.Sprintf("plenary_test_%d_%d", os.Getpid(), databases.Add(1))
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("dbtest: connect to %s: %v", db.Redact(AdminURL()), err)
	}
	defer admin.Close(ctx)
	admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	create := func(tmpl string) error {
		from := ` TEMPLATE ` + pgx.Identifier{tmpl}.Sanitize()
		if empty {
			from = ""
		}
		_, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+from)
		return err
	}
	err = create(tmpl)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "3D000" { // the template is gone
		forgetTemplate()
		if tmpl, err = template(ctx); err == nil {
			err = create(tmpl)
		}
	}
	if err != nil {
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	u, err := withDatabase(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Registered first, so it runs after the test's own cleanups have
		// closed its connections; FORCE ends any left open.
		admin, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	return u
}

// dropOrphans drops the databases of test processes that are gone (killed
// before their cleanups ran): plenary_test_<pid>_<n> with no process pid
// on this machine.
func dropOrphans(ctx context.Context, admin *pgx.Conn) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'plenary\_test\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, n := range names {
		var pid, seq int
		if _, err := fmt.Sscanf(n, "plenary_test_%d_%d", &pid, &seq); err != nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // still running, or a new process with its number: left alone
		}
		admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{n}.Sanitize()+` WITH (FORCE)`)
	}
}
