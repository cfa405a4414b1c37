package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Version is the schema version schema.sql creates. A later change to the
// schema raises it and appends a step to steps, so an existing database is
// brought forward while a new one is created whole from schema.sql.
const Version = 1

// steps[i] brings a database from version i+1 to i+2. Each runs in its own
// transaction together with the version bump.
var steps = []string{}

func (d *DB) migrate(ctx context.Context, schema string) error {
	var v int
	if err := d.W.GetContext(ctx, &v, `PRAGMA user_version`); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if v > Version {
		return fmt.Errorf("db: %s has schema version %d, newer than this program's %d", d.Path, v, Version)
	}
	if v == 0 {
		return d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, schema); err != nil {
				return fmt.Errorf("db: apply schema: %w", err)
			}
			return setVersion(ctx, tx, Version)
		})
	}
	for ; v < Version; v++ {
		step := steps[v-1]
		err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, step); err != nil {
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
