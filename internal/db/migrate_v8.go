package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// stepV8 is step 8: choices among many options (issue 14). The rules gain
// the counting methods each kind allows and the approval share that
// endorses a resource; the four new kinds get their rules; proposals gain
// their method, seats, approval limit, office, approval share and result;
// and the options, the choice ballots (open and secret) and the effects'
// tables are created.
//
// The rules' and proposals' new constraints only widen what the kinds
// admit, or hold for every existing row (they concern the new columns,
// NULL or default in every row so far), so, as steps 4 and 7 do, the new
// columns are added with ALTER TABLE and the two tables' CREATE statements
// then written into sqlite_schema and every row checked against them
// (rewriteTables): schema.sql's statements as they were at version 8
// (v8Tables), since step 9 adds columns to both tables.
func stepV8(ctx context.Context, tx *sqlx.Tx, schema string) error {
	for _, q := range []string{
		`ALTER TABLE rules ADD COLUMN methods TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE rules ADD COLUMN approval_pct INTEGER NOT NULL DEFAULT 50`,
		`ALTER TABLE proposals ADD COLUMN method TEXT`,
		`ALTER TABLE proposals ADD COLUMN seats INTEGER`,
		`ALTER TABLE proposals ADD COLUMN max_approvals INTEGER`,
		`ALTER TABLE proposals ADD COLUMN office TEXT`,
		`ALTER TABLE proposals ADD COLUMN approval_pct INTEGER`,
		`ALTER TABLE proposals ADD COLUMN result TEXT`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := rewriteTables(ctx, tx, v8Tables, "rules", "proposals"); err != nil {
		return err
	}
	// The new kinds' rules, as a new database gets them (schema.sql), and
	// their reminders, 24 hours before close as every kind's.
	i := strings.Index(schema, "    ('prioritise_demands',")
	j := strings.Index(schema[max(i, 0):], ";")
	if i < 0 || j < 0 {
		return fmt.Errorf("schema.sql has no rule for prioritise_demands")
	}
	newRules := `INSERT INTO rules (kind, quorum_pct, threshold, min_minutes, secret, methods) VALUES
` + schema[i:i+j]
	for _, q := range []string{newRules, `INSERT INTO reminder_rules (kind, hours) SELECT kind, 24 FROM rules
		WHERE kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rules of the new kinds: %w", err)
		}
	}
	var created []string
	for _, t := range []string{"proposal_options", "choice_votes", "choice_box", "demand_priorities", "officers"} {
		text, err := statement(schema, "CREATE TABLE "+t+" (")
		if err != nil {
			return err
		}
		created = append(created, text)
	}
	for _, prefix := range []string{"CREATE UNIQUE INDEX proposal_options_label ", "CREATE INDEX proposal_options_demand ",
		"CREATE INDEX proposal_options_resource "} {
		index, err := oneLine(schema, prefix)
		if err != nil {
			return err
		}
		created = append(created, index)
	}
	// What a choice's options name is frozen under it as under a yes/no
	// ballot about it: the three triggers are made anew.
	for _, name := range []string{"demands_frozen_under_ballot", "demand_resources_frozen_under_ballot", "resources_frozen_under_ballot"} {
		created = append(created, "DROP TRIGGER "+name)
	}
	for _, name := range []string{"proposal_options_frozen_insert", "proposal_options_frozen_update", "proposal_options_frozen_delete",
		"demand_priorities_by_ballot", "demand_priorities_kept", "demand_priorities_no_delete",
		"officers_by_ballot", "officers_kept", "officers_no_delete",
		"demands_frozen_under_ballot", "demand_resources_frozen_under_ballot", "resources_frozen_under_ballot"} {
		text, err := trigger(schema, name)
		if err != nil {
			return err
		}
		created = append(created, text)
	}
	for _, q := range created {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.40s: %w", q, err)
		}
	}
	return nil
}

// trigger returns schema.sql's CREATE TRIGGER name, up to its END.
func trigger(schema, name string) (string, error) {
	prefix := "CREATE TRIGGER " + name + " "
	i := strings.Index(schema, prefix)
	if i < 0 {
		return "", fmt.Errorf("schema.sql has no trigger %s", name)
	}
	j := strings.Index(schema[i:], "\nEND;")
	if j < 0 {
		return "", fmt.Errorf("schema.sql: trigger %s does not end", name)
	}
	return schema[i : i+j+len("\nEND")], nil
}

// v7Tables holds the CREATE statements of rules and proposals as
// schema.sql had them from version 4 to 7. Step 4 writes these two
// tables' definitions: it writes these, not schema.sql's of today, so that
// the later steps find the tables as step 4 left them (step 8 adds
// columns to both).
var v7Tables = map[string]string{
	"rules": `CREATE TABLE rules (
    kind        TEXT    PRIMARY KEY CHECK (kind IN ('endorse_demand', 'endorse_resource', 'withdraw_endorsement', 'adopt_demand', 'motion',
                                                    'amend_demand', 'amend_resource')),
    quorum_pct  INTEGER NOT NULL CHECK (quorum_pct BETWEEN 0 AND 100),
    threshold   TEXT    NOT NULL CHECK (threshold IN ('majority', 'two_thirds')),
    min_minutes INTEGER NOT NULL CHECK (min_minutes BETWEEN 1 AND 129600), -- 1 minute to 90 days, the longest vote
    secret      INTEGER NOT NULL CHECK (secret IN (0, 1))
) WITHOUT ROWID`,
	"proposals": `CREATE TABLE proposals (
    id            INTEGER PRIMARY KEY,
    kind          TEXT      NOT NULL REFERENCES rules (kind),
    title         TEXT      NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body          TEXT      NOT NULL CHECK (length(body) <= 10000),
    demand_id     INTEGER   REFERENCES demands (id),
    resource_id   INTEGER   REFERENCES resources (id),
    new_title     TEXT      CHECK (new_title IS NULL OR length(new_title) BETWEEN 1 AND 200),
    new_body      TEXT      CHECK (new_body IS NULL OR length(new_body) BETWEEN 1 AND 10000),
    new_audience  TEXT,
    author_id     INTEGER   NOT NULL REFERENCES members (id),
    status        TEXT      NOT NULL CHECK (status IN ('discussion', 'voting', 'closed', 'withdrawn', 'cancelled')),
    created_at    TIMESTAMP NOT NULL,
    opens_at      TIMESTAMP NOT NULL,
    closes_at     TIMESTAMP NOT NULL CHECK (closes_at > opens_at),
    cancel_reason TEXT      CHECK (cancel_reason IS NULL OR length(cancel_reason) <= 500),
    -- Frozen when voting opens.
    quorum_pct    INTEGER,
    threshold     TEXT,
    secret        INTEGER,
    roll_size     INTEGER,
    roll_digest   TEXT,
    opened_at     TIMESTAMP,
    -- Written when it closes.
    yes           INTEGER,
    no            INTEGER,
    abstain       INTEGER,
    quorum_met    INTEGER,
    outcome       TEXT CHECK (outcome IS NULL OR outcome IN ('carried', 'defeated', 'inquorate')),
    box_digest    TEXT,
    closed_at     TIMESTAMP,
    -- An amendment's text: {"from": the content when proposed, "to": the
    -- corrected content} (internal/content's JSON).
    amendment     TEXT CHECK (amendment IS NULL OR (json_valid(amendment) AND length(amendment) <= 40000)),
    -- What each kind acts on. An adopted demand's id is filled in when the
    -- ballot carries and creates it.
    CHECK (CASE kind
        WHEN 'endorse_demand'       THEN demand_id IS NOT NULL AND resource_id IS NULL
        WHEN 'endorse_resource'     THEN resource_id IS NOT NULL AND demand_id IS NULL
        WHEN 'withdraw_endorsement' THEN (demand_id IS NULL) <> (resource_id IS NULL)
        WHEN 'adopt_demand'         THEN resource_id IS NULL AND new_title IS NOT NULL AND new_body IS NOT NULL AND new_audience IS NOT NULL
        WHEN 'amend_demand'         THEN demand_id IS NOT NULL AND resource_id IS NULL
        WHEN 'amend_resource'       THEN resource_id IS NOT NULL AND demand_id IS NULL
        ELSE demand_id IS NULL AND resource_id IS NULL END),
    CHECK ((kind = 'adopt_demand') = (new_title IS NOT NULL)),
    CHECK ((kind IN ('amend_demand', 'amend_resource')) = (amendment IS NOT NULL)),
    CHECK (status IN ('discussion', 'withdrawn', 'cancelled') OR (roll_size IS NOT NULL AND roll_digest IS NOT NULL AND opened_at IS NOT NULL)),
    CHECK ((status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL AND box_digest IS NOT NULL))
)`,
}
