package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// The few places where SQLite and PostgreSQL need different SQL, each a
// named function, so the domain asks for what it means and never which
// database it has. The mechanical differences (placeholders, LIKE,
// booleans) are the PostgreSQL driver wrapper's (pgdriver.go).

// InsertID runs an INSERT and returns the id of the row it added.
// PostgreSQL has no last insert id; RETURNING, which SQLite has too, gives
// it on both.
func InsertID(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (int64, error) {
	var id int64
	if err := sqlx.GetContext(ctx, q, &id, query+" RETURNING id", args...); err != nil {
		return 0, err
	}
	return id, nil
}

// JSONField is the SQL for the text of the top-level field key of the JSON
// object in column (NULL when there is none).
func (d *DB) JSONField(column, key string) string {
	checkName(column)
	checkName(key)
	if d.dialect == Postgres {
		return "(" + column + "::jsonb ->> '" + key + "')"
	}
	return "json_extract(" + column + ", '$." + key + "')"
}

// JSONNumber is the SQL for the number in the top-level field key of the
// JSON object in column, comparable with a number.
func (d *DB) JSONNumber(column, key string) string {
	if d.dialect == Postgres {
		return "(" + d.JSONField(column, key) + ")::numeric"
	}
	return d.JSONField(column, key)
}

// PurgeDead makes the rows that were deleted from or replaced in table
// unreadable through the database's own structures. SQLite's secure_delete
// zeroes them as it goes; PostgreSQL keeps them as dead tuples in the
// table's pages until VACUUM, which must run outside any transaction.
func (d *DB) PurgeDead(ctx context.Context, table string) error {
	checkName(table)
	if d.dialect != Postgres {
		return nil
	}
	if _, err := d.W.ExecContext(ctx, "VACUUM "+table); err != nil {
		return fmt.Errorf("db: vacuum %s: %w", table, err)
	}
	return nil
}

// checkName refuses anything but a plain lower-case SQL name: these
// functions put their arguments into SQL text, so only names the code
// wrote may reach them.
func checkName(s string) {
	for _, c := range []byte(s) {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			panic(fmt.Sprintf("db: %q is not a plain SQL name", s))
		}
	}
}
