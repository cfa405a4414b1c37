package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// stepV7 is step 7: members' time zones and the co-op's settings, when
// members left (for the register; filled in from the ledger for those who
// left before), the members' calendar feeds, and invitations made for
// someone (their email, name and role).
//
// The new columns are added with ALTER TABLE, which enforces their
// constraints; then, as step 4 does (migrate_v4.go), the two tables'
// CREATE statements are written from schema.sql into sqlite_schema, so
// that a database brought forward keeps the very text a new one gets
// (ALTER TABLE would leave each column after the table's constraints).
// The columns come last in schema.sql, in the order added here, as the
// rows on disk have them.
func stepV7(ctx context.Context, tx *sqlx.Tx, schema string) error {
	for _, q := range []string{
		`ALTER TABLE members ADD COLUMN time_zone TEXT CHECK (time_zone IS NULL OR length(time_zone) BETWEEN 1 AND 64)`,
		`ALTER TABLE members ADD COLUMN left_at TIMESTAMP`,
		// When members who left did so, from the ledger.
		`UPDATE members SET left_at = (SELECT min(at) FROM ledger WHERE kind IN ('member.left', 'member.erased')
			AND json_extract(body, '$.member') = members.id) WHERE status = 'left'`,
		`ALTER TABLE invitations ADD COLUMN email TEXT COLLATE NOCASE CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254)`,
		`ALTER TABLE invitations ADD COLUMN name TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 80)`,
		`ALTER TABLE invitations ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin'))`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := rewriteTables(ctx, tx, schema, "members", "invitations"); err != nil {
		return err
	}
	var created []string
	for _, prefix := range []string{"CREATE TABLE settings (", "CREATE TABLE calendar_tokens ("} {
		text, err := statement(schema, prefix)
		if err != nil {
			return err
		}
		created = append(created, text)
	}
	index, err := oneLine(schema, "CREATE INDEX invitations_email ")
	if err != nil {
		return err
	}
	created = append(created, index)
	for _, q := range created {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%.40s: %w", q, err)
		}
	}
	return nil
}

// rewriteTables writes the CREATE statements of tables, as schema has them
// (schema.sql, or an earlier version's statements: v8Tables), into
// sqlite_schema in place of the ones SQLite keeps, a change SQLite's
// documentation allows when it alters no stored row, and checks each
// table against them.
func rewriteTables(ctx context.Context, tx *sqlx.Tx, schema string, tables ...string) error {
	var version int
	if err := tx.GetContext(ctx, &version, `PRAGMA schema_version`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA writable_schema = ON`); err != nil {
		return err
	}
	for _, t := range tables {
		text, err := statement(schema, "CREATE TABLE "+t+" (")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?`, text, t); err != nil {
			return fmt.Errorf("new definition of %s: %w", t, err)
		}
	}
	// PRAGMA takes no bound parameters; version is an int read above.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA schema_version = %d`, version+1)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA writable_schema = OFF`); err != nil {
		return err
	}
	for _, t := range tables {
		var problems []string
		if err := tx.SelectContext(ctx, &problems, `PRAGMA quick_check(`+t+`)`); err != nil {
			return err
		}
		if len(problems) != 1 || problems[0] != "ok" {
			return fmt.Errorf("%s does not meet its new definition: %s", t, strings.Join(problems, "; "))
		}
	}
	return nil
}

// oneLine returns the one-line statement of schema that starts with
// prefix, without its semicolon.
func oneLine(schema, prefix string) (string, error) {
	i := strings.Index(schema, prefix)
	if i < 0 {
		return "", fmt.Errorf("schema.sql has no %q", prefix)
	}
	j := strings.Index(schema[i:], ";")
	if j < 0 || strings.Contains(schema[i:i+j], "\n") {
		return "", fmt.Errorf("schema.sql: %q is not one line", prefix)
	}
	return schema[i : i+j], nil
}

// PostgreSQL's step 7: the same columns and tables. settings changes what
// every page shows (the default time zone), so it tells the other
// processes' page caches, as every table of postgres.sql does.
func init() {
	postgresSteps[7] = pgV7
}

const pgV7 = `ALTER TABLE members ADD COLUMN time_zone TEXT CHECK (time_zone IS NULL OR length(time_zone) BETWEEN 1 AND 64);
ALTER TABLE members ADD COLUMN left_at TIMESTAMPTZ;
UPDATE members SET left_at = (SELECT min(at::timestamptz) FROM ledger WHERE kind IN ('member.left', 'member.erased')
    AND (replace(body, '\u0000', '\ufffd')::json ->> 'member')::bigint = members.id) WHERE status = 'left';
ALTER TABLE members ADD CHECK (left_at IS NULL OR status = 'left');

ALTER TABLE invitations
    ADD COLUMN email TEXT COLLATE plenary_nocase CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    ADD COLUMN name TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 80),
    ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin'));

CREATE INDEX invitations_email ON invitations (email) WHERE email IS NOT NULL;

-- The ledger's insert check looked for an entry of the same number OR hash
-- in one query, which PostgreSQL answered by reading the ledger: each of
-- the 10,000 entries a bulk invitation writes in one statement read all
-- those before it (3.7 s of the 4 s the invitations took). Two lookups,
-- each by its own unique index, cost the same whatever the ledger's size.
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM ledger WHERE seq = NEW.seq)
                        AND NOT EXISTS (SELECT 1 FROM ledger WHERE hash = NEW.hash) THEN
        RETURN NEW;
    END IF;
    PERFORM plenary_refuse('plenary: the ledger is append-only');
    RETURN NULL;
END $$;

CREATE TABLE settings (
    name   TEXT PRIMARY KEY CHECK (name IN ('time_zone')),
    value  TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 200)
);

CREATE TABLE calendar_tokens (
    member_id   BIGINT      PRIMARY KEY REFERENCES members (id) DEFERRABLE,
    token_hash  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT "calendar_tokens.token_hash" UNIQUE (token_hash)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['settings', 'calendar_tokens'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify()', t || '_notify_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify()', t || '_notify_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify()', t || '_notify_delete', t);
    END LOOP;
END $$;`
