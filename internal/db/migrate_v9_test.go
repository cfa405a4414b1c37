package db_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
	"plenary/internal/db/dbtest"
)

// Version 9 adds general meetings, proxies and recusals. A version 8
// database with an open ballot and a vote in it comes out with both as
// they were, the rules' new settings at their defaults (no proxies, no
// early close, quorum on the roll), and the new tables' triggers in force.
func TestMigrateV8ToV9(t *testing.T) {
	ctx := context.Background()
	var path string
	if dbtest.Postgres() {
		path = dbtest.EmptyPath(t)
	} else {
		v1, err := os.ReadFile("testdata/schema-v1.sql")
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(t.TempDir(), "v8.db")
		raw, err := sqlx.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(v1) + `; PRAGMA user_version = 1`); err != nil {
			t.Fatalf("make a version 1 database: %v", err)
		}
		raw.Close()
	}
	old, err := db.OpenTo(ctx, path, dbtest.Schema(t), 8)
	if err != nil {
		t.Fatalf("bring a database to version 8: %v", err)
	}
	if err := old.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, q := range []string{
			`INSERT INTO members (id, name, email, password_hash, role, status, applied_at, joined_at) VALUES
				(1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', '2026-01-01', '2026-01-01'),
				(2, 'Bo', 'bo@example.org', 'x', 'member', 'active', '2026-01-01', '2026-01-01'),
				(3, 'Cy', 'cy@example.org', 'x', 'member', 'active', '2026-01-01', '2026-01-01')`,
			`INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at)
				VALUES (1, 'motion', 'Meet on Mondays', '', 1, 'discussion', '2026-01-01', '2026-01-01', '2026-01-08')`,
			`INSERT INTO roll (proposal_id, member_id) VALUES (1, 1), (1, 2), (1, 3)`,
			`UPDATE proposals SET status = 'voting', quorum_pct = 25, threshold = 'majority', secret = 0, roll_size = 3,
				roll_digest = 'd', opened_at = '2026-01-01' WHERE id = 1`,
			`INSERT INTO votes (proposal_id, member_id, choice) VALUES (1, 1, 'yes')`,
			`UPDATE roll SET voted = 1 WHERE proposal_id = 1 AND member_id = 1`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("fill the version 8 database: %v", err)
	}
	old.Close()

	d := open(t, path)
	if v := schemaVersion(t, d); v != db.Version {
		t.Errorf("schema version %d after migrating, want %d", v, db.Version)
	}
	var motion struct {
		Title      string  `db:"title"`
		Status     string  `db:"status"`
		RollSize   int     `db:"roll_size"`
		ProxyCap   *int    `db:"proxy_cap"`
		EarlyClose *int    `db:"early_close"`
		QuorumOn   *string `db:"quorum_on"`
		Recused    *int    `db:"recused"`
		QuorumBase *int    `db:"quorum_base"`
	}
	if err := d.R.GetContext(ctx, &motion, `SELECT title, status, roll_size, proxy_cap, early_close, quorum_on, recused, quorum_base
		FROM proposals WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if motion.Title != "Meet on Mondays" || motion.Status != "voting" || motion.RollSize != 3 || motion.ProxyCap != nil ||
		motion.EarlyClose != nil || motion.QuorumOn != nil || motion.Recused != nil || motion.QuorumBase != nil {
		t.Errorf("the open motion after migrating: %+v, want it as it was, its new columns NULL", motion)
	}
	var ballot struct {
		Choice string `db:"choice"`
		Voted  int    `db:"voted"`
		Roll   int    `db:"roll"`
	}
	if err := d.R.GetContext(ctx, &ballot, `SELECT v.choice, r.voted, (SELECT count(*) FROM roll) AS roll FROM votes v
		JOIN roll r ON r.proposal_id = v.proposal_id AND r.member_id = v.member_id WHERE v.proposal_id = 1 AND v.member_id = 1`); err != nil {
		t.Fatal(err)
	}
	if ballot.Choice != "yes" || ballot.Voted != 1 || ballot.Roll != 3 {
		t.Errorf("Ada's vote after migrating: %+v, want yes, voted, on a roll of 3", ballot)
	}
	var rules []struct {
		Kind       string `db:"kind"`
		ProxyCap   int    `db:"proxy_cap"`
		EarlyClose int    `db:"early_close"`
		QuorumOn   string `db:"quorum_on"`
	}
	if err := d.R.SelectContext(ctx, &rules, `SELECT kind, proxy_cap, early_close, quorum_on FROM rules ORDER BY kind`); err != nil {
		t.Fatal(err)
	}
	if len(rules) != 11 {
		t.Errorf("%d rules after migrating, want the 11 kinds'", len(rules))
	}
	for _, r := range rules {
		if r.ProxyCap != 0 || r.EarlyClose != 0 || r.QuorumOn != "roll" {
			t.Errorf("rule %+v, want no proxies, no early close, quorum on the roll", r)
		}
	}

	// Each write in turn, on the database as the ones before left it.
	const capped = "plenary: the proxy holder holds as many proxies as the rules allow"
	appoint := `INSERT INTO proxies (id, principal_id, holder_id, proposal_id, appointed_at) VALUES (?, ?, ?, ?, '2026-01-02')`
	for _, tt := range []struct {
		name    string
		query   string
		args    []any
		refusal string // the refusal IsConstraint names; "" if the write is accepted, "check" for a CHECK
	}{
		{"a proxy while the rules allow none", appoint, []any{1, 3, 2, 1}, capped},
		{"the motions' cap raised to one", `UPDATE rules SET proxy_cap = 1 WHERE kind = 'motion'`, nil, ""},
		{"a rule's cap past 20", `UPDATE rules SET proxy_cap = 21 WHERE kind = 'poll'`, nil, "check"},
		{"Cy's proxy to Bo for the motion", appoint, []any{1, 3, 2, 1}, ""},
		{"Ada's proxy to Bo for the motion, past his cap", appoint, []any{2, 1, 2, 1}, capped},
		{"Cy's second live proxy for the motion", appoint, []any{3, 3, 1, 1}, "index 'proxies_live'"},
		{"a proxy to oneself", appoint, []any{4, 1, 1, nil}, "check"},
		{"Cy's proxy given to another", `UPDATE proxies SET holder_id = 1 WHERE id = 1`, nil, "plenary: a proxy is only ever revoked"},
		{"Cy's proxy deleted", `DELETE FROM proxies WHERE id = 1`, nil, "plenary: a proxy is only ever revoked"},
		{"Cy's proxy revoked", `UPDATE proxies SET revoked_at = '2026-01-03' WHERE id = 1`, nil, ""},
		{"Cy's revoked proxy revived", `UPDATE proxies SET revoked_at = NULL WHERE id = 1`, nil, "plenary: a proxy is only ever revoked"},
		{"Ada's proxy to Bo once Cy's is revoked", appoint, []any{2, 1, 2, 1}, ""},
		{"the roll's proxies added to once voting opened", `INSERT INTO roll_proxies (proposal_id, principal_id, holder_id)
			VALUES (1, 1, 2)`, nil, "plenary: the roll is frozen"},
		{"Ada, who voted, stands aside", `INSERT INTO recusals (proposal_id, member_id, reason) VALUES (1, 1, 'My shop')`, nil,
			"plenary: only a member on the roll who has not voted stands aside"},
		{"Bo stands aside", `INSERT INTO recusals (proposal_id, member_id, reason) VALUES (1, 2, 'My landlord')`, nil, ""},
		{"Bo votes after standing aside", `UPDATE roll SET voted = 1 WHERE proposal_id = 1 AND member_id = 2`, nil,
			"plenary: a member who stood aside does not vote"},
		{"Cy votes", `UPDATE roll SET voted = 1 WHERE proposal_id = 1 AND member_id = 3`, nil, ""},
		{"Bo's recusal withdrawn", `DELETE FROM recusals WHERE member_id = 2`, nil, "plenary: a recusal stands"},
		{"a meeting", `INSERT INTO meetings (id, title, starts_at, place, chair_id, checkin_code, created_at)
			VALUES (1, 'AGM', '2026-02-01 18:00', 'The hall', 1, 'K7Q2ZX', '2026-01-02')`, nil, ""},
		{"a meeting nowhere", `INSERT INTO meetings (id, title, starts_at, chair_id, checkin_code, created_at)
			VALUES (2, 'AGM', '2026-02-01 18:00', 1, 'K7Q2ZX', '2026-01-02')`, nil, "check"},
		{"Bo checks in", `INSERT INTO attendance (meeting_id, member_id, how) VALUES (1, 2, 'code')`, nil, ""},
		{"the register frozen", `UPDATE meetings SET register_frozen_at = '2026-02-01 18:30' WHERE id = 1`, nil, ""},
		{"Cy checks in late", `INSERT INTO attendance (meeting_id, member_id, how) VALUES (1, 3, 'chair')`, nil,
			"plenary: the attendance register is frozen"},
		{"Bo struck off the register", `DELETE FROM attendance WHERE member_id = 2`, nil, "plenary: the attendance register is kept"},
		{"the register reopened", `UPDATE meetings SET register_frozen_at = NULL WHERE id = 1`, nil, "plenary: the attendance register is frozen"},
	} {
		_, err := d.W.ExecContext(ctx, tt.query, tt.args...)
		// PostgreSQL names a CHECK otherwise than SQLite, which names it
		// by its expression.
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s: %v, want it accepted", tt.name, err)
		case tt.refusal == "check" && err == nil:
			t.Errorf("%s: accepted, want a CHECK's refusal", tt.name)
		case tt.refusal != "" && tt.refusal != "check" && !db.IsConstraint(err, tt.refusal):
			t.Errorf("%s: %v, want the refusal %q", tt.name, err, tt.refusal)
		}
	}
}
