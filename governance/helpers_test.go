package governance_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"plenary/governance"
	"plenary/internal/db"
	"plenary/internal/db/dbtest"
	"plenary/internal/fakeclock"
)

// env is one test's database, service and clock.
type env struct {
	ctx   context.Context
	d     *db.DB
	s     *governance.Service
	clock *fakeclock.Clock // a test's own time, moved on by hand: nothing sleeps
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t)
	c := fakeclock.New(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	return &env{ctx: context.Background(), d: d, s: governance.New(d, c.Now), clock: c}
}

// password is good enough for every member the tests make: long, not
// common, and built from nobody's name or email.
const password = "correct horse battery staple"

// people gives each member a distinct name and email, so a test can look for
// them in the ledger.
var people = []struct{ name, email string }{
	{"Grace Hopper", "grace.hopper@example.org"},
	{"Ada Lovelace", "ada.lovelace@example.org"},
	{"Katherine Johnson", "katherine.johnson@example.net"},
	{"Robert Owen", "robert.owen@example.coop"},
	{"Beatrice Webb", "beatrice.webb@example.org"},
	{"Mary Seacole", "mary.seacole@example.com"},
	{"Samuel Crompton", "samuel.crompton@example.org"},
	{"Eleanor Rathbone", "eleanor.rathbone@example.net"},
	{"William King", "william.king@example.coop"},
	{"Margaret Bondfield", "margaret.bondfield@example.org"},
}

// details returns the details of person i.
func details(i int) governance.Details {
	p := people[i%len(people)]
	email := p.email
	if i >= len(people) {
		local, domain, _ := strings.Cut(email, "@")
		email = fmt.Sprintf("%s%d@%s", local, i, domain)
	}
	return governance.Details{Name: p.name, Email: email, Password: password, Statement: "I want to help run the co-op."}
}

// erased is not a status but a state a test can ask member for: an active
// member whose personal data has been erased (their status becomes left).
const erased = "erased"

// member makes person i a member in the given status (or erased), through
// the same decisions an admin takes. States other than applicant need admin.
func (e *env) member(t *testing.T, i int, status string, admin governance.Member) governance.Member {
	t.Helper()
	var (
		m   governance.Member
		err error
	)
	switch status {
	case governance.StatusApplicant, governance.StatusRejected:
		m, err = e.s.Apply(e.ctx, details(i))
	default:
		m, err = e.s.AddMember(e.ctx, details(i), governance.RoleMember)
	}
	if err != nil {
		t.Fatalf("make member %d: %v", i, err)
	}
	switch status {
	case governance.StatusRejected:
		err = e.s.Reject(e.ctx, admin, m.ID, "We only admit people who work in the sector.")
	case governance.StatusSuspended:
		err = e.s.Suspend(e.ctx, admin, m.ID, "Abusive comments in the forum.")
	case governance.StatusLeft:
		err = e.s.MarkLeft(e.ctx, admin, m.ID)
	case erased:
		err = e.s.Erase(e.ctx, admin, m.ID, true)
	}
	if err != nil {
		t.Fatalf("put member %d in status %s: %v", i, status, err)
	}
	return e.get(t, m.ID)
}

// admin makes person i an active admin; the first one founds the co-op.
func (e *env) admin(t *testing.T, i int) governance.Member {
	t.Helper()
	m, err := e.s.AddMember(e.ctx, details(i), governance.RoleAdmin)
	if err != nil {
		t.Fatalf("make admin %d: %v", i, err)
	}
	return m
}

func (e *env) get(t *testing.T, id int64) governance.Member {
	t.Helper()
	m, err := e.s.Member(e.ctx, id)
	if err != nil {
		t.Fatalf("member %d: %v", id, err)
	}
	return m
}

// count returns the result of a count(*) query.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.R.GetContext(e.ctx, &n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// snapshot renders every row a governance decision could touch, so a test
// can show a refused action changed nothing.
func (e *env) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM members ORDER BY id`,
		`SELECT * FROM ledger ORDER BY seq`,
		`SELECT * FROM invitations ORDER BY id`,
		`SELECT * FROM setup_tokens ORDER BY token_hash`,
		// What was queued to be emailed changes with what it is about, or
		// not at all.
		`SELECT * FROM notifications ORDER BY id`,
		`SELECT * FROM password_resets ORDER BY id`,
		// A choice's options, ballots and effects.
		`SELECT * FROM proposal_options ORDER BY proposal_id, position`,
		`SELECT * FROM choice_votes ORDER BY proposal_id, member_id`,
		`SELECT * FROM choice_box ORDER BY proposal_id, receipt_hash`,
		`SELECT * FROM demand_priorities ORDER BY proposal_id, position`,
		`SELECT * FROM officers ORDER BY proposal_id, seat`,
	} {
		rows, err := e.d.R.QueryxContext(e.ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			row := map[string]any{}
			if err := rows.MapScan(row); err != nil {
				t.Fatal(err)
			}
			for k, v := range row {
				if bs, ok := v.([]byte); ok {
					row[k] = string(bs)
				}
			}
			fmt.Fprintln(&b, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// entries returns the whole ledger, oldest first.
func (e *env) entries(t *testing.T) []governance.Entry {
	t.Helper()
	var es []governance.Entry
	if err := e.d.R.SelectContext(e.ctx, &es, `SELECT seq, at, kind, body, prev_hash, hash FROM ledger ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	return es
}

// lastEntry returns the newest ledger entry.
func (e *env) lastEntry(t *testing.T) governance.Entry {
	t.Helper()
	es := e.entries(t)
	if len(es) == 0 {
		t.Fatal("the ledger is empty")
	}
	return es[len(es)-1]
}

// checkEntry asserts that entry is of kind and names the member and the
// actor by number.
func checkEntry(t *testing.T, entry governance.Entry, kind string, member, by int64) {
	t.Helper()
	if entry.Kind != kind {
		t.Errorf("ledger entry %d kind = %q, want %q", entry.Seq, entry.Kind, kind)
	}
	f := entry.Fields()
	if got, _ := f["member"].(float64); int64(got) != member {
		t.Errorf("ledger entry %d names member %v, want %d (body %s)", entry.Seq, f["member"], member, entry.Body)
	}
	if got, _ := f["by"].(float64); int64(got) != by {
		t.Errorf("ledger entry %d is by %v, want %d (body %s)", entry.Seq, f["by"], by, entry.Body)
	}
}

// checkAnonymous asserts that no ledger entry carries a name or email of
// the given people (even erased ones: it is checked against what they gave).
func (e *env) checkAnonymous(t *testing.T, people ...governance.Details) {
	t.Helper()
	for _, entry := range e.entries(t) {
		text := strings.ToLower(entry.Kind + " " + entry.Body)
		for _, p := range people {
			for _, secret := range []string{p.Name, p.Email, strings.SplitN(p.Email, "@", 2)[0]} {
				if secret != "" && strings.Contains(text, strings.ToLower(secret)) {
					t.Errorf("ledger entry %d (%s %s) contains %q", entry.Seq, entry.Kind, entry.Body, secret)
				}
			}
		}
	}
}

// tamperDB runs SQL outside the app and its triggers' protection once the
// script drops them: how someone with the file, or the database's
// superuser, would tamper with it. On SQLite it is the sqlite3 shell; on
// PostgreSQL a connection of its own with triggers off
// (session_replication_role = replica) stands for the script's DROP
// TRIGGERs, which it leaves out.
func tamperDB(t *testing.T, d *db.DB, script string) {
	t.Helper()
	if !d.IsPostgres() {
		out, err := exec.Command("sqlite3", d.Path, script).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3: %v\n%s", err, out)
		}
		return
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, d.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	script = dropTrigger.ReplaceAllString(script, "")
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica; "+script); err != nil {
		t.Fatalf("tamper: %v\n%s", err, script)
	}
}

var dropTrigger = regexp.MustCompile(`(?i)DROP TRIGGER (IF EXISTS )?\w+;`)

func isValidation(err error, field string) (string, bool) {
	var v governance.ValidationError
	if !errors.As(err, &v) {
		return "", false
	}
	msg, ok := v[field]
	return msg, ok
}

// wantValidation asserts that err is a ValidationError with a message for
// field containing want.
func wantValidation(t *testing.T, err error, field, want string) {
	t.Helper()
	msg, ok := isValidation(err, field)
	if !ok {
		t.Fatalf("err = %v, want a ValidationError for %q", err, field)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("message for %q = %q, want it to contain %q", field, msg, want)
	}
}

// atOnce calls f(0) … f(n-1), each in its own goroutine, all released
// together, and counts their answers: how many succeeded (a nil error or
// one matching ok) and how many were throttled. Any other answer fails t.
func atOnce(t *testing.T, n int, ok error, f func(i int) error) (passed, throttled int) {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make(chan error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results <- f(i)
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	for err := range results {
		switch {
		case err == nil || (ok != nil && errors.Is(err, ok)):
			passed++
		case errors.Is(err, governance.ErrThrottled):
			throttled++
		default:
			t.Errorf("an attempt got %v", err)
		}
	}
	return passed, throttled
}
