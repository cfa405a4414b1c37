package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Version is the schema version schema.sql creates. A later change to the
// schema raises it and appends a step to steps, so an existing database is
// brought forward while a new one is created whole from schema.sql.
const Version = 10

// steps[i] brings a database from version i+1 to i+2. Each runs in its own
// transaction together with the version bump: most are SQL, and a step that
// must compute in Go (version 4) is a function. TestMigrateMatchesSchema
// checks that a database brought forward step by step ends up with the very
// schema a new one gets from schema.sql.
var steps = []step{
	// 2: password resets, reset requests and the public forms' rate limits.
	sqlStep(`CREATE TABLE password_resets (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER   NOT NULL REFERENCES members (id),
    token_hash  TEXT      NOT NULL UNIQUE,
    created_by  INTEGER   REFERENCES members (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL CHECK (expires_at > created_at),
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);

CREATE UNIQUE INDEX password_resets_one_open ON password_resets (member_id)
    WHERE used_at IS NULL AND revoked_at IS NULL;

CREATE TABLE reset_requests (
    member_id     INTEGER PRIMARY KEY REFERENCES members (id),
    requested_at  TIMESTAMP NOT NULL
);

CREATE TABLE rate_events (
    id      INTEGER PRIMARY KEY,
    action  TEXT      NOT NULL CHECK (action IN ('join', 'invitation', 'reset-address', 'reset-email')),
    key     TEXT      NOT NULL CHECK (length(key) <= 300),
    at      TIMESTAMP NOT NULL
);

CREATE INDEX rate_events_key ON rate_events (action, key, at);`),

	// 3: the ballot box keyed by (proposal, receipt hash), without its own
	// random id and the unique index on receipt hashes across all ballots.
	// The old table is renamed first so the new one keeps schema.sql's
	// text; rows are copied in key order.
	sqlStep(`ALTER TABLE ballot_box RENAME TO ballot_box_v2;

CREATE TABLE ballot_box (
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id),
    receipt_hash TEXT    NOT NULL,
    choice       TEXT    NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    PRIMARY KEY (proposal_id, receipt_hash)
) WITHOUT ROWID;

INSERT INTO ballot_box (proposal_id, receipt_hash, choice)
    SELECT proposal_id, receipt_hash, choice FROM ballot_box_v2 ORDER BY proposal_id, receipt_hash;

DROP TABLE ballot_box_v2;`),

	// 4: what a ballot decided stays decided (migrate_v4.go).
	freezeEndorsed,

	// 5: the rewrite of a closed secret ballot's box follows its close in
	// a transaction of its own (governance/scrub.go), and box_rewrites
	// holds the ballots waiting for it. (PostgreSQL also checks the roll's,
	// the box's and the votes' references once per statement instead of
	// per row: postgres_v5.go. SQLite keeps its foreign keys, which it
	// checks cheaply.)
	sqlStep(`CREATE TABLE box_rewrites (
    proposal_id INTEGER PRIMARY KEY REFERENCES proposals (id)
);`),

	// 6: the outbox of notifications, members' choices of what they are
	// sent, and the closing-soon reminders with their hours per kind (a
	// table of its own: step 4 writes the rules table's definition from
	// schema.sql, so that definition stays as it was).
	sqlStep(`CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    kind            TEXT      NOT NULL CHECK (kind IN ('voting_opened', 'closing_soon', 'result', 'application', 'application_decided',
                                                       'password_reset', 'invitation', 'digest')),
    event           TEXT      NOT NULL CHECK (length(event) BETWEEN 1 AND 100),
    member_id       INTEGER   REFERENCES members (id),
    address         TEXT      CHECK (address IS NULL OR length(address) BETWEEN 3 AND 254),
    payload         TEXT      NOT NULL DEFAULT '{}' CHECK (json_valid(payload) AND length(payload) <= 20000),
    status          TEXT      NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'digest', 'sent', 'failed', 'dropped')),
    attempts        INTEGER   NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT      NOT NULL DEFAULT '' CHECK (length(last_error) <= 1000),
    message_id      TEXT      NOT NULL UNIQUE CHECK (length(message_id) <= 300),
    digest_id       INTEGER   REFERENCES notifications (id),
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    UNIQUE (kind, event, member_id),
    CHECK ((member_id IS NULL) <> (address IS NULL)),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CHECK (digest_id IS NULL OR status IN ('digest', 'sent', 'failed', 'dropped'))
);

CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'queued';
CREATE INDEX notifications_digest ON notifications (member_id) WHERE status = 'digest' AND digest_id IS NULL;
CREATE INDEX notifications_in_digest ON notifications (digest_id) WHERE digest_id IS NOT NULL;

CREATE TABLE notification_prefs (
    member_id   INTEGER NOT NULL REFERENCES members (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('voting_opened', 'closing_soon', 'result', 'application')),
    mode        TEXT    NOT NULL CHECK (mode IN ('at_once', 'digest', 'never')),
    digest_hour INTEGER NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23),
    PRIMARY KEY (member_id, kind)
) WITHOUT ROWID;

CREATE TABLE reminder_rules (
    kind  TEXT    PRIMARY KEY REFERENCES rules (kind),
    hours INTEGER NOT NULL CHECK (hours BETWEEN 0 AND 720)
) WITHOUT ROWID;

INSERT INTO reminder_rules (kind, hours) SELECT kind, 24 FROM rules;

CREATE TABLE reminders (
    proposal_id INTEGER PRIMARY KEY REFERENCES proposals (id)
);`),

	// 7: members' time zones and the co-op's settings, calendar feeds,
	// and invitations tied to an address (migrate_v7.go).
	stepV7,

	// 8: choices among many options, their ballots and effects
	// (migrate_v8.go).
	stepV8,

	// 9: general meetings, proxies and recusals; the rules' proxy cap,
	// early close and quorum base (migrate_v9.go).
	stepV9,

	// 10: the closed proposals in the order they are listed, so that a
	// page of them is read, not the whole table sorted (issue 17).
	sqlStep(`CREATE INDEX proposals_closed ON proposals (status, closed_at, id);`),
}

// A step brings the schema forward by one version inside tx. schema is the
// text of schema.sql, the version the program was built with.
type step func(ctx context.Context, tx *sqlx.Tx, schema string) error

func sqlStep(query string) step {
	return func(ctx context.Context, tx *sqlx.Tx, _ string) error {
		_, err := tx.ExecContext(ctx, query)
		return err
	}
}

// migrateTo brings the database forward to version target, no further:
// Version in production; an earlier one in the tests of a step, which
// start from a database as the step finds it. A new database is created
// whole from schema, at Version only.
func (d *DB) migrateTo(ctx context.Context, schema string, target int) error {
	var v int
	if err := d.W.GetContext(ctx, &v, `PRAGMA user_version`); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if v > Version {
		return fmt.Errorf("db: %s has schema version %d, newer than this program's %d", d.Path, v, Version)
	}
	if v == 0 {
		if target != Version {
			return fmt.Errorf("db: a new database is made at version %d, not %d", Version, target)
		}
		return d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, schema); err != nil {
				return fmt.Errorf("db: apply schema: %w", err)
			}
			return setVersion(ctx, tx, Version)
		})
	}
	for ; v < target; v++ {
		step := steps[v-1]
		err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if err := step(ctx, tx, schema); err != nil {
				return fmt.Errorf("db: migrate to version %d: %w", v+1, err)
			}
			return setVersion(ctx, tx, v+1)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func setVersion(ctx context.Context, tx *sqlx.Tx, v int) error {
	// PRAGMA takes no bound parameters; v is an int from this package.
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
	return err
}
