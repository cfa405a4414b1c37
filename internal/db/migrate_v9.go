package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// stepV9 is step 9: general meetings and absent members. The rules gain
// each kind's proxy cap, early close and quorum base; proposals gain the
// same three, frozen when voting opens, and the recusals and quorum base
// written at close; and the meetings, their agendas and attendance, the
// proxies, the roll's proxies, the proxies' ballots and the recusals are
// created with their triggers.
//
// As in step 8, the new columns are NULL or default in every existing
// row and their constraints hold for it, so they are added with ALTER
// TABLE and the two tables' CREATE statements then written from
// schema.sql (rewriteTables).
func stepV9(ctx context.Context, tx *sqlx.Tx, schema string) error {
	for _, q := range []string{
		`ALTER TABLE rules ADD COLUMN proxy_cap INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE rules ADD COLUMN early_close INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE rules ADD COLUMN quorum_on TEXT NOT NULL DEFAULT 'roll'`,
		`ALTER TABLE proposals ADD COLUMN proxy_cap INTEGER`,
		`ALTER TABLE proposals ADD COLUMN early_close INTEGER`,
		`ALTER TABLE proposals ADD COLUMN quorum_on TEXT`,
		`ALTER TABLE proposals ADD COLUMN recused INTEGER`,
		`ALTER TABLE proposals ADD COLUMN quorum_base INTEGER`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := rewriteTables(ctx, tx, schema, "rules", "proposals"); err != nil {
		return err
	}
	var created []string
	for _, t := range []string{"meetings", "meeting_items", "attendance", "proxies", "roll_proxies", "proxy_votes", "recusals"} {
		text, err := statement(schema, "CREATE TABLE "+t+" (")
		if err != nil {
			return err
		}
		created = append(created, text)
	}
	for _, prefix := range []string{"CREATE UNIQUE INDEX proxies_live ", "CREATE INDEX proxies_holder ", "CREATE INDEX roll_proxies_holder "} {
		index, err := oneLine(schema, prefix)
		if err != nil {
			return err
		}
		created = append(created, index)
	}
	for _, name := range []string{"meetings_frozen", "attendance_frozen", "attendance_kept_update", "attendance_kept_delete",
		"proxies_cap", "proxies_kept", "proxies_no_delete",
		"roll_proxies_frozen_insert", "roll_proxies_frozen_update", "roll_proxies_frozen_delete",
		"recusals_before_voting", "recusals_kept_update", "recusals_kept_delete", "roll_recused"} {
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

// v8Tables holds the CREATE statements of rules and proposals as
// schema.sql had them at version 8, in schema.sql's form, for step 8 to
// write in place of today's: step 9 adds columns to both, so step 8 must
// leave the tables as they were at version 8 (as v7Tables does for step 4).
const v8Tables = `CREATE TABLE rules (
    kind        TEXT    PRIMARY KEY CHECK (kind IN ('endorse_demand', 'endorse_resource', 'withdraw_endorsement', 'adopt_demand', 'motion',
                                                    'amend_demand', 'amend_resource', 'prioritise_demands', 'choose_resources', 'elect',
                                                    'poll')),
    quorum_pct  INTEGER NOT NULL CHECK (quorum_pct BETWEEN 0 AND 100),
    threshold   TEXT    NOT NULL CHECK (threshold IN ('majority', 'two_thirds')),
    min_minutes INTEGER NOT NULL CHECK (min_minutes BETWEEN 1 AND 129600), -- 1 minute to 90 days, the longest vote
    secret      INTEGER NOT NULL CHECK (secret IN (0, 1)),
    -- The counting methods a proposal of the kind may choose, a comma list
    -- of approval, schulze, irv and stv; empty for the yes/no kinds (their
    -- threshold decides instead).
    methods     TEXT    NOT NULL DEFAULT '' CHECK (trim(replace(replace(replace(replace(methods, 'approval', ''), 'schulze', ''),
                                                        'irv', ''), 'stv', ''), ',') = '' AND length(methods) <= 40),
    -- choose_resources endorses the options approved on more than this
    -- share of the ballots cast.
    approval_pct INTEGER NOT NULL DEFAULT 50 CHECK (approval_pct BETWEEN 0 AND 99),
    CHECK ((kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')) = (methods <> ''))
) WITHOUT ROWID;

CREATE TABLE proposals (
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
    -- A choice among options (the kinds prioritise_demands, choose_resources,
    -- elect and poll; proposal_options): how it is counted, the seats to
    -- fill (elect), the most options a ballot may approve (approval; NULL:
    -- any number), the office elected to, the approval share that endorses
    -- (choose_resources, frozen with the rules when voting opens); and,
    -- written once at close, the count as JSON (governance's ChoiceResult).
    -- NULL for yes/no kinds.
    method        TEXT    CHECK (method IS NULL OR method IN ('approval', 'schulze', 'irv', 'stv')),
    seats         INTEGER CHECK (seats IS NULL OR seats BETWEEN 1 AND 49),
    max_approvals INTEGER CHECK (max_approvals IS NULL OR max_approvals BETWEEN 1 AND 49),
    office        TEXT    CHECK (office IS NULL OR length(office) BETWEEN 1 AND 200),
    approval_pct  INTEGER CHECK (approval_pct IS NULL OR approval_pct BETWEEN 0 AND 99),
    result        TEXT    CHECK (result IS NULL OR (json_valid(result) AND length(result) <= 1000000)),
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
    CHECK ((status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL AND box_digest IS NOT NULL)),
    CHECK ((kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')) = (method IS NOT NULL)),
    CHECK ((kind = 'elect') = (seats IS NOT NULL AND office IS NOT NULL)),
    CHECK (method <> 'stv' OR seats IS NOT NULL),
    CHECK (method <> 'irv' OR seats IS NULL OR seats = 1),
    CHECK (max_approvals IS NULL OR method = 'approval'),
    CHECK ((method IS NOT NULL AND status = 'closed') = (result IS NOT NULL))
);
`
