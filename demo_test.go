package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/internal/db"
	"plenary/internal/demo"
)

// demoArgs is a small co-op: fast enough for every test run, big enough
// for every kind of thing the demo makes.
var demoArgs = []string{"-members", "50", "-resources", "30", "-proposals", "5", "-votes", "100", "-seed", "7"}

func runDemo(t *testing.T, path string, args ...string) result {
	t.Helper()
	t.Setenv("PLENARY_PASSWORD", "")
	return plenary(t, "", append([]string{"demo", "-db", path}, args...)...)
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestDemo(t *testing.T) {
	path := dbPath(t)
	r := runDemo(t, path, demoArgs...)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	d, gov := openTestDB(t, path)
	ctx := context.Background()

	t.Run("the summary tells how to log in", func(t *testing.T) {
		for _, want := range []string{demo.AdminEmail, `"` + demo.DefaultPassword + `"`, "5 closed", "100 votes", "plenary serve -db " + path} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, "demo: ballots: 5 proposals") {
			t.Errorf("no progress on stderr:\n%s", r.stderr)
		}
	})

	t.Run("the admin and every member are active and admitted on the ledger", func(t *testing.T) {
		if n := count(t, d, `SELECT count(*) FROM members WHERE status = 'active'`); n != 51 {
			t.Errorf("%d active members, want 51", n)
		}
		if n := count(t, d, `SELECT count(*) FROM members WHERE role = 'admin' AND email = ? AND id = 1`, demo.AdminEmail); n != 1 {
			t.Errorf("admin %s is not member 1", demo.AdminEmail)
		}
		if n := count(t, d, `SELECT count(*) FROM ledger WHERE kind = 'member.admitted' AND body ->> 'by' = 1`); n != 50 {
			t.Errorf("%d admissions by member 1 on the ledger, want 50", n)
		}
		if n := count(t, d, `SELECT count(*) FROM members WHERE email NOT LIKE '%.' || (id - 1) || '@example.org' AND id > 1`); n != 0 {
			t.Errorf("%d emails are not firstname.lastname.N@example.org", n)
		}
		// The admin founds the co-op through AddMember; the others share one hash.
		if n := count(t, d, `SELECT count(DISTINCT password_hash) FROM members WHERE id > 1`); n != 1 {
			t.Errorf("%d password hashes among the members, want the one shared hash", n)
		}
		for _, email := range []string{demo.AdminEmail, "" /* a member */} {
			if email == "" {
				if err := d.R.Get(&email, `SELECT email FROM members WHERE id = 42`); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := gov.Login(ctx, email, demo.DefaultPassword, "192.0.2.1"); err != nil {
				t.Errorf("log in as %s with the demo password: %v", email, err)
			}
		}
	})

	t.Run("the library has the starter and the generated resources, listed", func(t *testing.T) {
		if n := count(t, d, `SELECT count(*) FROM resources WHERE url LIKE 'https://%.example.%/%'`); n != 30 {
			t.Errorf("%d generated resources, want 30", n)
		}
		if n := count(t, d, `SELECT count(*) FROM resources WHERE url NOT LIKE 'https://%.example.%/%'`); n == 0 {
			t.Error("the starter library is missing")
		}
		if n := count(t, d, `SELECT count(*) FROM resources WHERE status <> 'listed'`); n != 0 {
			t.Errorf("%d resources are not listed", n)
		}
		if n := count(t, d, `SELECT count(*) FROM resources_fts WHERE resources_fts MATCH 'co*'`); n == 0 {
			t.Error("the generated resources cannot be searched")
		}
	})

	t.Run("every proposal went through a real ballot that closed", func(t *testing.T) {
		if n := count(t, d, `SELECT count(*) FROM proposals WHERE status = 'closed' AND roll_size = 51`); n != 5 {
			t.Errorf("%d closed proposals with the whole roll, want 5", n)
		}
		if n := count(t, d, `SELECT sum(yes + no + abstain) FROM proposals`); n != 100 {
			t.Errorf("the tallies count %d votes, want 100", n)
		}
		if n := count(t, d, `SELECT count(*) FROM roll WHERE voted = 1`); n != 100 {
			t.Errorf("%d voters, want 100", n)
		}
		if n := count(t, d, `SELECT (SELECT count(*) FROM votes) + (SELECT count(*) FROM ballot_box)`); n != 100 {
			t.Errorf("%d votes and ballots in the box, want 100", n)
		}
		if n := count(t, d, `SELECT count(*) FROM ledger WHERE kind = 'ballot.closed'`); n != 5 {
			t.Errorf("%d ballots closed on the ledger, want 5", n)
		}
		// A made-up past emails nobody.
		if n := count(t, d, `SELECT count(*) FROM notifications`); n != 0 {
			t.Errorf("%d notifications queued by the demo, want none", n)
		}
		if n := count(t, d, `SELECT count(*) FROM proposals WHERE closed_at <> closes_at OR closes_at > ?`, time.Now()); n != 0 {
			t.Errorf("%d ballots did not close at their time, or close in the future", n)
		}
		if n := count(t, d, `SELECT count(*) FROM rules WHERE min_minutes <> 1`); n != 0 {
			t.Errorf("%d rules keep a minimum period longer than a minute", n)
		}
	})

	t.Run("ledger verify and tally verify pass", func(t *testing.T) {
		if r := plenary(t, "", "ledger", "verify", "-db", path); r.code != 0 {
			t.Errorf("%v", r)
		}
		var ids []int64
		if err := d.R.Select(&ids, `SELECT id FROM proposals WHERE status = 'closed' ORDER BY id`); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if r := plenary(t, "", "tally", "verify", "-db", path, strconv.FormatInt(id, 10)); r.code != 0 {
				t.Errorf("%v", r)
			}
		}
	})

	t.Run("the same seed makes the same co-op", func(t *testing.T) {
		again := dbPath(t)
		if r := runDemo(t, again, demoArgs...); r.code != 0 {
			t.Fatalf("%v", r)
		}
		d2, _ := openTestDB(t, again)
		if a, b := contentDigest(t, d), contentDigest(t, d2); a != b {
			t.Errorf("two runs with seed 7 differ: %s and %s", a, b)
		}
		other := dbPath(t)
		if r := runDemo(t, other, append(demoArgs[:len(demoArgs)-1:len(demoArgs)-1], "8")...); r.code != 0 {
			t.Fatalf("%v", r)
		}
		d3, _ := openTestDB(t, other)
		if contentDigest(t, d) == contentDigest(t, d3) {
			t.Error("seeds 7 and 8 make the same co-op")
		}
	})

	t.Run("a database that has members is refused and left alone", func(t *testing.T) {
		before := count(t, d, `SELECT count(*) FROM ledger`)
		r := runDemo(t, path, demoArgs...)
		if r.code != 1 || !strings.Contains(r.stderr, "already holds a co-op with 51 members") {
			t.Errorf("%v", r)
		}
		if after := count(t, d, `SELECT count(*) FROM ledger`); after != before {
			t.Errorf("the ledger went from %d to %d entries", before, after)
		}
	})
}

// contentDigest sums up what a seed decides: names, emails, resources,
// proposals and their results (not the random receipts, salts and times).
func contentDigest(t *testing.T, d *db.DB) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		`SELECT name || ' ' || email FROM members ORDER BY id`,
		`SELECT title || authors || topics || summary || url FROM resources ORDER BY id`,
		`SELECT title || body || audience || status FROM demands ORDER BY id`,
		`SELECT title || kind || yes || ' ' || no || ' ' || abstain || outcome FROM proposals ORDER BY id`,
		`SELECT proposal_id || ' ' || member_id FROM roll WHERE voted = 1 ORDER BY 1`,
		`SELECT proposal_id || body FROM comments ORDER BY id`,
	} {
		var rows []string
		if err := d.R.Select(&rows, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		fmt.Fprintln(h, strings.Join(rows, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDemoRefusesImpossibleCounts(t *testing.T) {
	for _, args := range [][]string{
		{"-members", "2", "-proposals", "1", "-votes", "4"}, // three on the roll
		{"-members", "-1"},
		{"-proposals", "0", "-votes", "1"},
	} {
		path := dbPath(t)
		if r := runDemo(t, path, args...); r.code != 1 {
			t.Errorf("demo %v: %v", args, r)
		}
	}
}

func TestDemoFailingLeavesNoFile(t *testing.T) {
	path := dbPath(t)
	t.Setenv("PLENARY_PASSWORD", "short")
	r := plenary(t, "", append([]string{"demo", "-db", path}, demoArgs...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "password") {
		t.Errorf("%v", r)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed demo left %s behind: %v", path, err)
	}
}
