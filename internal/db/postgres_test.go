package db_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

func requirePostgres(t *testing.T) {
	t.Helper()
	if !dbtest.Postgres() {
		t.Skip("PostgreSQL only: run with PLENARY_TEST_BACKEND=postgres (make test-postgres)")
	}
}

func TestPostgresURL(t *testing.T) {
	for _, c := range []struct{ in, redacted string }{
		{"plenary.db", "plenary.db"},
		{"/var/lib/plenary/plenary.db", "/var/lib/plenary/plenary.db"},
		{"postgres://plenary:s3cret@db.example.coop:5432/plenary", "postgres://plenary:xxxxx@db.example.coop:5432/plenary"},
		{"postgresql://plenary@localhost/plenary?password=s3cret&sslmode=require", "postgresql://plenary@localhost/plenary?password=xxxxx&sslmode=require"},
	} {
		if got := db.Redact(c.in); got != c.redacted {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.redacted)
		}
		if strings.Contains(db.Redact(c.in), "s3cret") {
			t.Errorf("Redact(%q) keeps the password", c.in)
		}
		if db.IsPostgresURL(c.in) != strings.HasPrefix(c.in, "postgres") {
			t.Errorf("IsPostgresURL(%q) is wrong", c.in)
		}
	}
}

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`SELECT '?', "a?b" FROM t WHERE b = ? -- why?
			AND c = ? /* really? */`, `SELECT '?', "a?b" FROM t WHERE b = $1 -- why?
			AND c = $2 /* really? */`},
		{`SELECT 'it''s ?' WHERE x = ?`, `SELECT 'it''s ?' WHERE x = $1`},
		{`WHERE (name LIKE ? ESCAPE '\' OR email like ?)`, `WHERE (name COLLATE "C" ILIKE $1 ESCAPE '\' OR email COLLATE "C" ILIKE $2)`},
		{`WHERE name NOT LIKE ?`, `WHERE name COLLATE "C" NOT ILIKE $1`},
		{`WHERE name ILIKE ? AND likely = 1 AND unlike = 2`, `WHERE name ILIKE $1 AND likely = 1 AND unlike = 2`},
		{`SELECT 'LIKE'`, `SELECT 'LIKE'`},
	} {
		if got := db.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// The two schemas hold the same tables with the same columns in the same
// order: only the full-text indexes (SQLite's resources_fts tables,
// PostgreSQL's resources.search column) and PostgreSQL's version table
// are their own.
func TestPostgresSchemaMatchesSQLite(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	lite, err := db.Open(ctx, filepath.Join(t.TempDir(), "plenary.db"), dbtest.Schema(t), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg := dbtest.Open(t)
	own := func(name string) bool { return strings.HasPrefix(name, "resources_fts") || name == "schema_version" }
	var lt, pt []string
	for _, n := range dbtest.Tables(t, lite) {
		if !own(n) {
			lt = append(lt, n)
		}
	}
	for _, n := range dbtest.Tables(t, pg) {
		if !own(n) {
			pt = append(pt, n)
		}
	}
	if !slices.Equal(lt, pt) {
		t.Fatalf("tables differ:\nSQLite     %q\nPostgreSQL %q", lt, pt)
	}
	for _, table := range lt {
		p := dbtest.Columns(t, pg, table)
		if table == "resources" {
			p = slices.DeleteFunc(p, func(c string) bool { return c == "search" })
		}
		if l := dbtest.Columns(t, lite, table); !slices.Equal(l, p) {
			t.Errorf("columns of %s differ:\nSQLite     %q\nPostgreSQL %q", table, l, p)
		}
	}
}

func TestPostgresOpen(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()

	t.Run("one writer connection; readers are read-only; sessions are in UTC", func(t *testing.T) {
		d := dbtest.Open(t)
		if got := d.W.Stats().MaxOpenConnections; got != 1 {
			t.Errorf("writer pool allows %d connections, want 1", got)
		}
		var ro, tz string
		if err := d.R.GetContext(ctx, &ro, `SHOW default_transaction_read_only`); err != nil || ro != "on" {
			t.Errorf("readers: default_transaction_read_only = %q (%v), want on", ro, err)
		}
		if err := d.W.GetContext(ctx, &tz, `SHOW timezone`); err != nil || tz != "UTC" {
			t.Errorf("writer: timezone = %q (%v), want UTC", tz, err)
		}
	})

	t.Run("every version after PostgreSQL's first has a step", func(t *testing.T) {
		if db.PostgresVersion > db.Version {
			t.Fatalf("PostgresVersion %d is past Version %d", db.PostgresVersion, db.Version)
		}
		d := dbtest.Open(t)
		if v := schemaVersion(t, d); v != db.Version {
			t.Errorf("schema version = %d, want %d", v, db.Version)
		}
	})

	t.Run("a bad URL is a clear error", func(t *testing.T) {
		_, err := db.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "", db.Options{})
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("Open = %v, want an error naming the server", err)
		}
	})

	t.Run("times come back in UTC and booleans as 0 and 1", func(t *testing.T) {
		d := dbtest.Open(t)
		var row struct {
			At   string `db:"at"`
			Yes  int    `db:"yes"`
			Flag int    `db:"flag"`
		}
		if err := d.R.GetContext(ctx, &row, `SELECT now()::text AS at, (1 = 1) AS yes, ? AS flag`, true); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(row.At, "+00") || row.Yes != 1 || row.Flag != 1 {
			t.Errorf("got %+v, want a UTC time and 1, 1", row)
		}
	})
}

// postgresConstraints adds one of each kind of refusal IsConstraint names
// to a PostgreSQL database, named as postgres.sql names them.
const postgresConstraints = `
CREATE TABLE things (
    id    BIGINT PRIMARY KEY,
    email TEXT   COLLATE plenary_nocase,
    n     INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),
    m     INTEGER NOT NULL DEFAULT 0 CONSTRAINT m_small CHECK (m < 10),
    CONSTRAINT "things.email" UNIQUE (email)
);
CREATE TABLE pairs (a INTEGER, b INTEGER, CONSTRAINT "pairs.a, pairs.b" UNIQUE (a, b));
CREATE UNIQUE INDEX pairs_live ON pairs (a, coalesce(b, 0)) WHERE a > 1;
CREATE TABLE notes (thing_id BIGINT REFERENCES things (id));
CREATE FUNCTION things_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM plenary_refuse('plenary: things are kept');
    RETURN NULL;
END $$;
CREATE TRIGGER things_kept BEFORE DELETE ON things FOR EACH ROW EXECUTE FUNCTION things_kept();
INSERT INTO things (id, email) VALUES (1, 'ada@example.org');
INSERT INTO pairs (a, b) VALUES (1, 2);
`

func TestPostgresIsConstraint(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	if _, err := d.W.ExecContext(ctx, postgresConstraints); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		query string
		is    []string
		isNot []string
	}{
		{"a UNIQUE column, in another case", `INSERT INTO things (id, email) VALUES (2, 'ADA@example.org')`,
			[]string{"things.email"}, []string{"email", "things", "things_email_key"}},
		{"a UNIQUE over two columns", `INSERT INTO pairs (a, b) VALUES (1, 2)`, []string{"pairs.a, pairs.b"}, []string{"pairs.a"}},
		{"a unique index on an expression, as SQLite names it", `INSERT INTO pairs (a, b) VALUES (2, NULL), (2, 0)`,
			[]string{"index 'pairs_live'", "pairs_live"}, []string{"pairs.a, pairs.b", "pairs.a"}},
		{"a NOT NULL column", `INSERT INTO things (id, email, n) VALUES (3, 'bo@example.org', NULL)`, []string{"things.n"}, []string{"n >= 0"}},
		{"a named CHECK, by its name", `INSERT INTO things (id, email, m) VALUES (4, 'bo@example.org', 10)`,
			[]string{"m_small"}, []string{"m < 10"}},
		{"a trigger's refusal, by its whole message", `DELETE FROM things`,
			[]string{"plenary: things are kept"}, []string{"plenary: things", "things.id"}},
		{"a foreign key", `INSERT INTO notes (thing_id) VALUES (99)`, nil, []string{"notes.thing_id", "things.id", ""}},
		{"not a constraint, though its message names one", `SELECT * FROM "things.email"`, nil, []string{"things.email"}},
		{"the ledger refuses a change", `INSERT INTO ledger (seq, at, kind, body, prev_hash, hash) VALUES (1, 'x', 'k', '{}', '', 'h');
			UPDATE ledger SET kind = 'other'`, []string{"plenary: the ledger is append-only"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.W.ExecContext(ctx, c.query)
			if err == nil {
				t.Fatalf("%s: no error", c.query)
			}
			for _, name := range c.is {
				wrapped := fmt.Errorf("governance: add member: %w", err)
				if !db.IsConstraint(err, name) || !db.IsConstraint(errors.Join(errors.New("x"), wrapped), name) {
					t.Errorf("IsConstraint(%q, %q) = false, want true", err, name)
				}
			}
			for _, name := range c.isNot {
				if db.IsConstraint(err, name) {
					t.Errorf("IsConstraint(%q, %q) = true, want false", err, name)
				}
			}
		})
	}
}

// Writers in separate processes queue on the writers' lock: two DBs on one
// database stand for two processes, and a read-then-write in one never
// interleaves with the other's.
func TestPostgresWritersSerialise(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	a := dbtest.Open(t)
	b, err := db.Open(ctx, a.Path, "", db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 40
	errs := make(chan error, 2)
	for _, d := range []*db.DB{a, b} {
		go func() {
			for i := 0; i < n; i++ {
				err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
					var c int
					if err := tx.GetContext(ctx, &c, `SELECT count(*) FROM login_failures`); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO login_failures (scope, key, at) VALUES ('address', ?, now())`, fmt.Sprint(c))
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var distinct int
	if err := a.R.GetContext(ctx, &distinct, `SELECT count(DISTINCT key) FROM login_failures`); err != nil {
		t.Fatal(err)
	}
	if distinct != 2*n {
		t.Errorf("%d distinct counts seen by %d transactions: two writers read the same state", distinct, 2*n)
	}
}

// Numbers travel as typed literals, so PostgreSQL sees a number wherever
// it stands, as SQLite does; the rest stay parameters.
func TestPostgresNumbersAreNumbers(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	year := 2021
	var none *int
	var got []struct {
		A int64   `db:"a"`
		B *int64  `db:"b"`
		C string  `db:"c"`
		F float64 `db:"f"`
	}
	err := d.R.SelectContext(ctx, &got, `SELECT u.column1 + 1 AS a, u.column2 AS b, u.column3 AS c, u.column4 AS f
		FROM (VALUES (?, ?, ?, ?), (?, ?, ?, ?)) AS u ORDER BY 1`, -5, &year, "it's -- ?", 0.5, int32(7), none, "x", 1e300)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].A != -4 || got[0].B == nil || *got[0].B != 2021 || got[0].C != "it's -- ?" || got[0].F != 0.5 ||
		got[1].A != 8 || got[1].B != nil || got[1].F != 1e300 {
		t.Errorf("got %+v", got)
	}
	var n int
	if err := d.R.GetContext(ctx, &n, `SELECT 10-?`, -3); err != nil || n != 13 {
		t.Errorf("10 - (-3) = %d (%v), want 13", n, err)
	}
}

// The roll's guarantees hold in PostgreSQL's schema: rows only while the
// proposal is in discussion, never removed, a vote once marked stays
// marked; only the close's rewrite, inside its transaction, may delete and
// insert a ballot's rows again, and it puts them in member order.
func TestPostgresRollIsFrozen(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	setup := `INSERT INTO members (id, name, email, password_hash, role, status, applied_at) VALUES
			(1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', now()), (2, 'Bo', 'bo@example.org', 'x', 'member', 'active', now()),
			(3, 'Cy', 'cy@example.org', 'x', 'member', 'active', now());
		INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at)
			VALUES (1, 'motion', 'M', 'B', 1, 'discussion', now(), now(), now() + interval '1 day');
		INSERT INTO roll (proposal_id, member_id) VALUES (1, 1), (1, 2), (1, 3);
		UPDATE proposals SET status = 'voting', roll_size = 3, roll_digest = 'd', opened_at = now() WHERE id = 1;
		UPDATE roll SET voted = 1 WHERE member_id = 3;
		UPDATE roll SET voted = 1 WHERE member_id = 1`
	if _, err := d.W.ExecContext(ctx, setup); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, refusal string }{
		{`INSERT INTO roll (proposal_id, member_id) VALUES (1, 4)`, "plenary: the roll is frozen"},
		{`DELETE FROM roll WHERE member_id = 2`, "plenary: the roll is frozen"},
		{`TRUNCATE roll CASCADE`, "plenary: the roll is frozen"},
		{`UPDATE roll SET voted = 1 WHERE member_id = 1`, "plenary: a vote once cast stays cast"},
		{`UPDATE roll SET voted = 0 WHERE member_id = 1`, "plenary: a vote once cast stays cast"},
	} {
		if _, err := d.W.ExecContext(ctx, c.query); !db.IsConstraint(err, c.refusal) {
			t.Errorf("%s: err = %v, want %q", c.query, err, c.refusal)
		}
	}
	order := func() string {
		t.Helper()
		var rows []string
		if err := d.R.SelectContext(ctx, &rows, `SELECT member_id || ':' || voted FROM roll ORDER BY ctid`); err != nil {
			t.Fatal(err)
		}
		return strings.Join(rows, " ")
	}
	if got := order(); got != "2:0 3:1 1:1" {
		t.Fatalf("before the rewrite the rows lie as %q, want the order of the votes, 2:0 3:1 1:1: the test proves nothing", got)
	}
	err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
		return db.RewriteInKeyOrder(ctx, tx, "roll", "proposal_id, member_id, voted", "member_id", "proposal_id = ?", 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := order(); got != "1:1 2:0 3:1" {
		t.Errorf("after the rewrite the rows lie as %q, want member order, 1:1 2:0 3:1", got)
	}
	if _, err := d.W.ExecContext(ctx, `DELETE FROM roll`); !db.IsConstraint(err, "plenary: the roll is frozen") {
		t.Errorf("after the rewrite's transaction, DELETE: err = %v, want the roll frozen again", err)
	}
}

// Meetings, proxies and recusals (postgres_v9.go) hold on PostgreSQL as
// on SQLite: a holder takes no proxy past the cap, counting the rows of
// the same statement; the roll's proxies are frozen with the roll; only a
// member on the roll who has not voted stands aside, and then does not
// vote, while the close's rewrite of the roll still passes; and the
// attendance register is frozen with the first vote.
func TestPostgresProxiesAndRecusals(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	setup := `INSERT INTO members (id, name, email, password_hash, role, status, applied_at) VALUES
			(1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', now()), (2, 'Bo', 'bo@example.org', 'x', 'member', 'active', now()),
			(3, 'Cy', 'cy@example.org', 'x', 'member', 'active', now()), (4, 'Di', 'di@example.org', 'x', 'member', 'active', now());
		UPDATE rules SET proxy_cap = 1 WHERE kind = 'motion';
		INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at) VALUES
			(1, 'motion', 'M', 'B', 1, 'discussion', now(), now(), now() + interval '1 day'),
			(2, 'motion', 'N', 'B', 1, 'discussion', now(), now(), now() + interval '1 day');
		INSERT INTO proxies (id, principal_id, holder_id, proposal_id, appointed_at) VALUES (1, 4, 2, 1, now());
		INSERT INTO roll (proposal_id, member_id) VALUES (1, 1), (1, 2), (1, 3), (1, 4);
		INSERT INTO roll_proxies (proposal_id, principal_id, holder_id) VALUES (1, 4, 2);
		UPDATE proposals SET status = 'voting', roll_size = 4, roll_digest = 'd', opened_at = now() WHERE id = 1;
		UPDATE roll SET voted = 1 WHERE member_id = 1;
		INSERT INTO meetings (id, title, starts_at, place, chair_id, checkin_code, created_at)
			VALUES (1, 'AGM', now(), 'The hall', 1, 'K7Q2ZX', now());
		INSERT INTO attendance (meeting_id, member_id, how) VALUES (1, 1, 'chair');
		UPDATE meetings SET register_frozen_at = now() WHERE id = 1`
	if _, err := d.W.ExecContext(ctx, setup); err != nil {
		t.Fatal(err)
	}
	const capped = "plenary: the proxy holder holds as many proxies as the rules allow"
	for _, c := range []struct{ query, refusal string }{
		{`INSERT INTO proxies (id, principal_id, holder_id, proposal_id, appointed_at) VALUES (2, 3, 2, 1, now())`, capped},
		{`INSERT INTO proxies (id, principal_id, holder_id, proposal_id, appointed_at) VALUES (2, 1, 3, 2, now()), (3, 2, 3, 2, now())`, capped},
		{`INSERT INTO proxies (id, principal_id, holder_id, appointed_at) VALUES (2, 1, 3, now()), (3, 2, 3, now())`, capped},
		{`INSERT INTO proxies (id, principal_id, holder_id, proposal_id, appointed_at) VALUES (2, 4, 3, 1, now())`, "index 'proxies_live'"},
		{`UPDATE proxies SET holder_id = 3 WHERE id = 1`, "plenary: a proxy is only ever revoked"},
		{`DELETE FROM proxies WHERE id = 1`, "plenary: a proxy is only ever revoked"},
		{`TRUNCATE proxies CASCADE`, "plenary: a proxy is only ever revoked"},
		{`INSERT INTO roll_proxies (proposal_id, principal_id, holder_id) VALUES (1, 3, 2)`, "plenary: the roll is frozen"},
		{`UPDATE roll_proxies SET holder_id = 3 WHERE principal_id = 4`, "plenary: the roll is frozen"},
		{`DELETE FROM roll_proxies`, "plenary: the roll is frozen"},
		{`TRUNCATE roll_proxies CASCADE`, "plenary: the roll is frozen"},
		{`INSERT INTO recusals (proposal_id, member_id, reason) VALUES (2, 2, 'R')`, "plenary: only a member on the roll who has not voted stands aside"},
		{`INSERT INTO recusals (proposal_id, member_id, reason) VALUES (1, 1, 'R')`, "plenary: only a member on the roll who has not voted stands aside"},
		{`INSERT INTO attendance (meeting_id, member_id, how) VALUES (1, 2, 'code')`, "plenary: the attendance register is frozen"},
		{`UPDATE meetings SET register_frozen_at = NULL`, "plenary: the attendance register is frozen"},
		{`UPDATE attendance SET how = 'code'`, "plenary: the attendance register is kept"},
		{`DELETE FROM attendance`, "plenary: the attendance register is kept"},
		{`TRUNCATE attendance CASCADE`, "plenary: the attendance register is kept"},
	} {
		if _, err := d.W.ExecContext(ctx, c.query); !db.IsConstraint(err, c.refusal) {
			t.Errorf("%s: err = %v, want %q", c.query, err, c.refusal)
		}
	}
	// What the refusals let through: a proxy revoked, then another in its
	// place; a recusal; and a vote from one who did not stand aside.
	if _, err := d.W.ExecContext(ctx, `UPDATE proxies SET revoked_at = now() WHERE id = 1;
		INSERT INTO proxies (id, principal_id, holder_id, proposal_id, appointed_at) VALUES (2, 3, 2, 1, now());
		INSERT INTO recusals (proposal_id, member_id, reason) VALUES (1, 2, 'My landlord');
		UPDATE roll SET voted = 1 WHERE member_id = 3`); err != nil {
		t.Fatalf("writes the rules allow refused: %v", err)
	}
	for _, c := range []struct{ query, refusal string }{
		{`UPDATE roll SET voted = 1 WHERE proposal_id = 1 AND member_id = 2`, "plenary: a member who stood aside does not vote"},
		{`UPDATE recusals SET reason = 'None'`, "plenary: a recusal stands"},
		{`DELETE FROM recusals`, "plenary: a recusal stands"},
		{`TRUNCATE recusals CASCADE`, "plenary: a recusal stands"},
		{`UPDATE proxies SET revoked_at = NULL WHERE id = 1`, "plenary: a proxy is only ever revoked"},
	} {
		if _, err := d.W.ExecContext(ctx, c.query); !db.IsConstraint(err, c.refusal) {
			t.Errorf("%s: err = %v, want %q", c.query, err, c.refusal)
		}
	}
	// The close rewrites the roll, the recused member's row with it.
	err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
		return db.RewriteInKeyOrder(ctx, tx, "roll", "proposal_id, member_id, voted", "member_id", "proposal_id = ?", 1)
	})
	if err != nil {
		t.Fatalf("the close's rewrite of a roll with a recusal: %v", err)
	}
	var roll []string
	if err := d.R.SelectContext(ctx, &roll, `SELECT member_id || ':' || voted FROM roll WHERE proposal_id = 1 ORDER BY ctid`); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(roll, " "); got != "1:1 2:0 3:1 4:0" {
		t.Errorf("the roll after the rewrite: %q, want 1:1 2:0 3:1 4:0", got)
	}
}

// The references PostgreSQL checks per statement (postgres_v5.go) refuse
// what the foreign keys they replace refused: a roll row naming no member
// or proposal, a vote from off the roll, a box row of no proposal, in a
// statement of many rows as in one; and, on the referenced side, deleting
// or renumbering a member or a proposal, which nothing in Plenary does.
func TestPostgresReferencesPerStatement(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	setup := `INSERT INTO members (id, name, email, password_hash, role, status, applied_at) VALUES
			(1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', now()), (2, 'Bo', 'bo@example.org', 'x', 'member', 'active', now());
		INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at) VALUES
			(1, 'motion', 'M', 'B', 1, 'discussion', now(), now(), now() + interval '1 day'),
			(2, 'motion', 'N', 'B', 1, 'discussion', now(), now(), now() + interval '1 day');
		INSERT INTO roll (proposal_id, member_id) VALUES (1, 1), (1, 2), (2, 1);
		UPDATE proposals SET status = 'voting', roll_size = 2, roll_digest = 'd', opened_at = now() WHERE id = 1`
	if _, err := d.W.ExecContext(ctx, setup); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, refusal string }{
		{`INSERT INTO roll (proposal_id, member_id) VALUES (2, 2), (2, 99)`, "plenary: a roll names a proposal and a member that exist"},
		{`INSERT INTO roll (proposal_id, member_id) VALUES (99, 1)`, "plenary: a roll names a proposal and a member that exist"},
		{`INSERT INTO votes (proposal_id, member_id, choice) VALUES (1, 1, 'yes'), (2, 2, 'no')`, "plenary: a vote comes from the roll"},
		{`INSERT INTO ballot_box (proposal_id, receipt_hash, choice) VALUES (1, 'a', 'yes'), (99, 'b', 'no')`, "plenary: a ballot box belongs to a proposal"},
		{`DELETE FROM members WHERE id = 2`, "plenary: members are never deleted"},
		{`TRUNCATE members CASCADE`, "plenary: members are never deleted"},
		{`UPDATE members SET id = 20 WHERE id = 2`, "plenary: members keep their ids"},
		{`DELETE FROM proposals WHERE id = 2`, "plenary: proposals are never deleted"},
		{`TRUNCATE proposals CASCADE`, "plenary: proposals are never deleted"},
		{`UPDATE proposals SET id = 20 WHERE id = 2`, "plenary: proposals keep their ids"},
	} {
		if _, err := d.W.ExecContext(ctx, c.query); !db.IsConstraint(err, c.refusal) {
			t.Errorf("%s: err = %v, want %q", c.query, err, c.refusal)
		}
	}
	// What the refusals left, and what they let through.
	if _, err := d.W.ExecContext(ctx, `INSERT INTO votes (proposal_id, member_id, choice) VALUES (1, 1, 'yes');
		UPDATE votes SET choice = 'no' WHERE proposal_id = 1;
		INSERT INTO ballot_box (proposal_id, receipt_hash, choice) VALUES (1, 'a', 'yes');
		INSERT INTO roll (proposal_id, member_id) VALUES (2, 2)`); err != nil {
		t.Fatalf("rows with their references refused: %v", err)
	}
	var rows int
	if err := d.R.GetContext(ctx, &rows, `SELECT (SELECT count(*) FROM roll) + (SELECT count(*) FROM votes) + (SELECT count(*) FROM ballot_box)`); err != nil || rows != 6 {
		t.Errorf("%d rows in roll, votes and box (%v), want 6", rows, err)
	}
	var dangling *string
	if err := d.R.GetContext(ctx, &dangling, `SELECT plenary_dangling()`); err != nil || dangling != nil {
		t.Errorf("plenary_dangling() = %v (%v), want NULL", dangling, err)
	}
	dbtest.ExecWithoutForeignKeys(t, d, `INSERT INTO votes (proposal_id, member_id, choice) VALUES (2, 99, 'yes')`)
	if err := d.R.GetContext(ctx, &dangling, `SELECT plenary_dangling()`); err != nil || dangling == nil || *dangling != "vote (2, 99) is not on the roll" {
		t.Errorf("plenary_dangling() = %v (%v), want the vote off the roll", dangling, err)
	}
}

// What SQLite takes, PostgreSQL takes too: a NUL or bytes that are not
// UTF-8 in text (stored as U+FFFD), and JSON with the escape \u0000 (Go's
// for NUL).
func TestPostgresTakesWhatSQLiteTakes(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	_, err := d.W.ExecContext(ctx, `INSERT INTO ledger (seq, at, kind, body, prev_hash, hash) VALUES (1, ?, 'k', ?, '', 'h')`,
		"a\x00b\xff", `{"reason":"a\u0000b"}`)
	if err != nil {
		t.Fatal(err)
	}
	var at, body string
	if err := d.R.QueryRowxContext(ctx, `SELECT at, body FROM ledger WHERE kind = ?`, "k\x00").Scan(&at, &body); err == nil {
		t.Error("a NUL in a comparison matched a row without it")
	}
	if err := d.R.QueryRowxContext(ctx, `SELECT at, body FROM ledger`).Scan(&at, &body); err != nil {
		t.Fatal(err)
	}
	if at != "a\uFFFDb\uFFFD" || body != `{"reason":"a\u0000b"}` {
		t.Errorf("stored %q and %q", at, body)
	}
}

// The JSON helpers read a field of a body that holds \u0000 elsewhere.
func TestPostgresJSONFields(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d := dbtest.Open(t)
	_, err := d.W.ExecContext(ctx, `INSERT INTO ledger (seq, at, kind, body, prev_hash, hash) VALUES (1, 'x', 'k', ?, '', 'h')`,
		`{"proposal":12,"reason":"a\u0000b","digest":"d1"}`)
	if err != nil {
		t.Fatal(err)
	}
	var digest string
	if err := d.R.GetContext(ctx, &digest, `SELECT `+d.JSONField("body", "digest")+` FROM ledger WHERE `+d.JSONNumber("body", "proposal")+` = ?`, 12); err != nil || digest != "d1" {
		t.Errorf("digest %q, %v; want d1", digest, err)
	}
	var topics []string
	if err := d.R.SelectContext(ctx, &topics, `SELECT t.value FROM `+d.JSONEach(`'["b","a"]'`, "t")); err != nil || strings.Join(topics, ",") != "b,a" {
		t.Errorf("topics %v, %v", topics, err)
	}
}

// A new PostgreSQL database gets the base schema and every step after it
// in the one Open: a server started on an empty database runs at this
// program's version from its first request.
func TestPostgresNewDatabaseIsCurrent(t *testing.T) {
	requirePostgres(t)
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.EmptyPath(t), "", db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var v int
	if err := d.R.GetContext(ctx, &v, `SELECT version FROM schema_version`); err != nil || v != db.Version {
		t.Errorf("schema version %d (%v), want %d", v, err, db.Version)
	}
}
