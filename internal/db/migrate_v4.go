package db

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/content"
	"plenary/internal/ledger"
)

// freezeEndorsed is step 4: endorsed content is frozen and its digest kept.
//
// It adds the digest columns and the amendment column, records the digest
// of every item already endorsed (beside it and on the ledger, as an
// endorsement.digest_recorded entry), lets the rules and proposals admit
// the two amend kinds, and creates the applying table and the triggers that
// refuse any change to endorsed content not made by a carried ballot.
//
// SQLite cannot add a CHECK constraint to a table in place. The new
// constraints only widen what the kinds admit, or state what the data
// already satisfies once the digests are filled in, so the step writes the
// tables' new CREATE statements from schema.sql into sqlite_schema, the
// procedure SQLite's documentation gives for such changes, and then checks
// every row against them.
func freezeEndorsed(ctx context.Context, tx *sqlx.Tx, schema string) error {
	for _, q := range []string{
		`ALTER TABLE resources ADD COLUMN endorsed_digest TEXT`,
		`ALTER TABLE demands ADD COLUMN endorsed_digest TEXT`,
		`ALTER TABLE proposals ADD COLUMN amendment TEXT`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if err := recordDigests(ctx, tx); err != nil {
		return err
	}

	var tables []struct{ name, prefix string }
	for _, t := range []string{"resources", "demands", "rules", "proposals"} {
		tables = append(tables, struct{ name, prefix string }{t, "CREATE TABLE " + t + " ("})
	}
	var version int
	if err := tx.GetContext(ctx, &version, `PRAGMA schema_version`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA writable_schema = ON`); err != nil {
		return err
	}
	for _, t := range tables {
		text, ok := v7Tables[t.name]
		if !ok {
			var err error
			if text, err = statement(schema, t.prefix); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?`, text, t.name); err != nil {
			return fmt.Errorf("new definition of %s: %w", t.name, err)
		}
	}
	// PRAGMA takes no bound parameters; version is an int read above.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA schema_version = %d`, version+1)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA writable_schema = OFF`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO rules (kind, quorum_pct, threshold, min_minutes, secret) VALUES
		('amend_demand', 25, 'two_thirds', 7 * 24 * 60, 1),
		('amend_resource', 10, 'majority', 3 * 24 * 60, 0)`); err != nil {
		return fmt.Errorf("rules for amendments: %w", err)
	}
	var problems []string
	for _, t := range tables {
		if err := tx.SelectContext(ctx, &problems, `PRAGMA quick_check(`+t.name+`)`); err != nil {
			return err
		}
		if len(problems) != 1 || problems[0] != "ok" {
			return fmt.Errorf("%s does not meet its new constraints: %s", t.name, strings.Join(problems, "; "))
		}
	}

	marker := "-- What a ballot decided stays decided."
	i := strings.Index(schema, marker)
	if i < 0 {
		return fmt.Errorf("schema.sql has no %q section", marker)
	}
	_, err := tx.ExecContext(ctx, schema[i:])
	return err
}

// recordDigests fills in the digest of every endorsed resource and demand
// and writes each to the ledger, resources first, each in id order.
func recordDigests(ctx context.Context, tx *sqlx.Tx) error {
	now := time.Now().UTC()
	type item struct {
		ID       int64 `db:"id"`
		Proposal int64 `db:"endorsed_by"`
	}
	var resources, demands []item
	if err := tx.SelectContext(ctx, &resources, `SELECT id, endorsed_by FROM resources WHERE endorsed_at IS NOT NULL ORDER BY id`); err != nil {
		return err
	}
	if err := tx.SelectContext(ctx, &demands, `SELECT id, endorsed_by FROM demands WHERE status = 'endorsed' ORDER BY id`); err != nil {
		return err
	}
	for _, r := range resources {
		c, err := content.ReadResource(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		d := c.Digest()
		if _, err := tx.ExecContext(ctx, `UPDATE resources SET endorsed_digest = ? WHERE id = ?`, d, r.ID); err != nil {
			return err
		}
		if err := ledger.Append(ctx, tx, now, ledger.DigestRecorded{Resource: &r.ID, Proposal: r.Proposal, Digest: d}); err != nil {
			return err
		}
	}
	for _, dm := range demands {
		c, err := content.ReadDemand(ctx, tx, dm.ID)
		if err != nil {
			return err
		}
		d := c.Digest()
		if _, err := tx.ExecContext(ctx, `UPDATE demands SET endorsed_digest = ? WHERE id = ?`, d, dm.ID); err != nil {
			return err
		}
		if err := ledger.Append(ctx, tx, now, ledger.DigestRecorded{Demand: &dm.ID, Proposal: dm.Proposal, Digest: d}); err != nil {
			return err
		}
	}
	return nil
}

// statement returns the statement of schema that starts with prefix, as
// SQLite keeps it: up to the closing parenthesis at the start of a line
// and what follows it on that line (WITHOUT ROWID), without the semicolon.
func statement(schema, prefix string) (string, error) {
	i := strings.Index(schema, prefix)
	if i < 0 {
		return "", fmt.Errorf("schema.sql has no %q", prefix)
	}
	j := strings.Index(schema[i:], "\n)")
	if j < 0 {
		return "", fmt.Errorf("schema.sql: %q does not end", prefix)
	}
	k := strings.Index(schema[i+j:], ";")
	if k < 0 {
		return "", fmt.Errorf("schema.sql: %q does not end", prefix)
	}
	return schema[i : i+j+k], nil
}
