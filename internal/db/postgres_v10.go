package db

// PostgreSQL's step 10: the closed proposals in the order they are
// listed, as on SQLite (schema.sql, migrate.go). PostgreSQL reads the
// index backwards for the newest first, as SQLite does.
func init() {
	postgresSteps[10] = `CREATE INDEX proposals_closed ON proposals (status, closed_at, id);`
}
