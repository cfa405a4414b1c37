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

// Version 8 adds choices among many options. A version 7 database with a
// closed yes/no ballot in it comes out with the ballot as it was (no
// method, no result), the rules of the four new kinds with their methods,
// and the new constraints and tables in force.
func TestMigrateV7ToV8(t *testing.T) {
	ctx := context.Background()
	var path string
	if dbtest.Postgres() {
		path = dbtest.EmptyPath(t)
	} else {
		v1, err := os.ReadFile("testdata/schema-v1.sql")
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(t.TempDir(), "v7.db")
		raw, err := sqlx.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(string(v1) + `; PRAGMA user_version = 1`); err != nil {
			t.Fatalf("make a version 1 database: %v", err)
		}
		raw.Close()
	}
	old, err := db.OpenTo(ctx, path, dbtest.Schema(t), 7)
	if err != nil {
		t.Fatalf("bring a database to version 7: %v", err)
	}
	if err := old.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, q := range []string{
			`INSERT INTO members (id, name, email, password_hash, role, status, applied_at, joined_at)
				VALUES (1, 'Ada', 'ada@example.org', 'x', 'admin', 'active', '2026-01-01', '2026-01-01')`,
			`INSERT INTO members (id, name, email, password_hash, role, status, applied_at, joined_at)
				VALUES (2, 'Bo', 'bo@example.org', 'x', 'member', 'active', '2026-01-01', '2026-01-01')`,
			`INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at, quorum_pct, threshold,
				secret, roll_size, roll_digest, opened_at, yes, no, abstain, quorum_met, outcome, box_digest, closed_at)
				VALUES (1, 'motion', 'Meet on Mondays', '', 1, 'closed', '2026-01-01', '2026-01-01', '2026-01-02', 25, 'majority',
				1, 2, 'd', '2026-01-01', 1, 0, 0, 1, 'carried', 'b', '2026-01-02')`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("fill the version 7 database: %v", err)
	}
	old.Close()

	d := open(t, path)
	if v := schemaVersion(t, d); v != db.Version {
		t.Errorf("schema version %d after migrating, want %d", v, db.Version)
	}
	var motion struct {
		Outcome string  `db:"outcome"`
		Method  *string `db:"method"`
		Result  *string `db:"result"`
	}
	if err := d.R.GetContext(ctx, &motion, `SELECT outcome, method, result FROM proposals WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if motion.Outcome != "carried" || motion.Method != nil || motion.Result != nil {
		t.Errorf("the old motion after migrating: %+v, want carried with no method and no result", motion)
	}
	var rules []struct {
		Kind        string `db:"kind"`
		Methods     string `db:"methods"`
		ApprovalPct int    `db:"approval_pct"`
		Reminder    int    `db:"hours"`
	}
	if err := d.R.SelectContext(ctx, &rules, `SELECT r.kind, r.methods, r.approval_pct, h.hours FROM rules r
		JOIN reminder_rules h ON h.kind = r.kind WHERE r.methods <> '' ORDER BY r.kind`); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"choose_resources": "approval", "elect": "stv,irv,approval", "poll": "approval,schulze,irv",
		"prioritise_demands": "schulze,approval"}
	if len(rules) != len(want) {
		t.Errorf("rules with methods: %+v, want the four new kinds'", rules)
	}
	for _, r := range rules {
		if want[r.Kind] != r.Methods || r.ApprovalPct != 50 || r.Reminder != 24 {
			t.Errorf("rule %+v, want methods %q, approval 50%%, a reminder 24 hours before", r, want[r.Kind])
		}
	}

	poll := `INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at, method) VALUES
		(?, 'poll', 'Lunch', '', 1, 'discussion', '2026-03-01', '2026-03-01', '2026-03-02', ?)`
	for _, tt := range []struct {
		name  string
		query string
		args  []any
		ok    bool
	}{
		{"a poll with a method", poll, []any{2, "approval"}, true},
		{"a poll without one", poll, []any{3, nil}, false},
		{"a poll counted by a method that is none", poll, []any{4, "borda"}, false},
		{"a motion with a method", `INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at, method)
			VALUES (5, 'motion', 'M', '', 1, 'discussion', '2026-03-01', '2026-03-01', '2026-03-02', 'approval')`, nil, false},
		{"an election without seats", `INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at,
			method, office) VALUES (6, 'elect', 'Board', '', 1, 'discussion', '2026-03-01', '2026-03-01', '2026-03-02', 'stv', 'Board')`, nil, false},
		{"an election of 2 by IRV", `INSERT INTO proposals (id, kind, title, body, author_id, status, created_at, opens_at, closes_at,
			method, office, seats) VALUES (7, 'elect', 'Board', '', 1, 'discussion', '2026-03-01', '2026-03-01', '2026-03-02', 'irv', 'Board', 2)`, nil, false},
		{"a text option", `INSERT INTO proposal_options (proposal_id, position, kind, label) VALUES (2, 0, 'text', 'Soup')`, nil, true},
		{"the same text twice", `INSERT INTO proposal_options (proposal_id, position, kind, label) VALUES (2, 1, 'text', 'Soup')`, nil, false},
		{"a text option with a member", `INSERT INTO proposal_options (proposal_id, position, kind, member_id, label)
			VALUES (2, 1, 'text', 1, 'Ada')`, nil, false},
		{"option 50", `INSERT INTO proposal_options (proposal_id, position, kind, label) VALUES (2, 50, 'text', 'Bread')`, nil, false},
		{"a second text option", `INSERT INTO proposal_options (proposal_id, position, kind, label) VALUES (2, 1, 'text', 'Bread')`, nil, true},
		{"an option changed", `UPDATE proposal_options SET label = 'Stew' WHERE proposal_id = 2 AND position = 0`, nil, false},
		{"a box row that is not JSON", `INSERT INTO choice_box (proposal_id, receipt_hash, ballot) VALUES (2, 'h', 'yes')`, nil, false},
		{"a box row that is an array", `INSERT INTO choice_box (proposal_id, receipt_hash, ballot) VALUES (2, 'h', '[1,0]')`, nil, true},
		{"an open ballot from no roll", `INSERT INTO choice_votes (proposal_id, member_id, ballot) VALUES (2, 1, '[0]')`, nil, false},
		{"officers that no ballot elected", `INSERT INTO officers (proposal_id, seat, position, name, office) VALUES (2, 1, 0, 'Soup', 'Chef')`, nil, false},
		{"priorities that no ballot set", `INSERT INTO demand_priorities (proposal_id, position, demand_id) VALUES (2, 0, 1)`, nil, false},
	} {
		_, err := d.W.ExecContext(ctx, tt.query, tt.args...)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want accepted %t", tt.name, err, tt.ok)
		}
	}
	// Options go in only while the proposal is in discussion.
	if _, err := d.W.ExecContext(ctx, `UPDATE proposals SET status = 'voting', roll_size = 0, roll_digest = 'd', opened_at = '2026-03-01'
		WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO proposal_options (proposal_id, position, kind, label) VALUES (2, 2, 'text', 'Rice')`); err == nil {
		t.Error("an option was added to a ballot in voting")
	}
}
