package db

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Step 6 is the email outbox's (branch outbox), built beside the members
// work that takes step 7. On this branch it is a placeholder that changes
// nothing, on SQLite and on PostgreSQL, so that step 7 (migrate_v7.go) has
// the version it follows. The coordinator replaces this file with the
// outbox's step 6 when the two branches are merged.
func stepV6(context.Context, *sqlx.Tx, string) error { return nil }

func init() {
	postgresSteps[6] = `SELECT 1`
}
