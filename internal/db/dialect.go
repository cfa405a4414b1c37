package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

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
		// A body may hold the escape \u0000 (Go's for a NUL in a reason),
		// which PostgreSQL refuses to read even in a field not asked for:
		// it is read as U+FFFD, as the driver stores a NUL in text.
		return "(replace(" + column + ", '\\u0000', '\\ufffd')::json ->> '" + key + "')"
	}
	return "json_extract(" + column + ", '$." + key + "')"
}

// JSONFieldNumber is n as JSONField's expression compares equal to it:
// the number's text on PostgreSQL, where ->> gives text, and the number on
// SQLite, where json_extract gives one. A query that must use an index on
// JSONField's expression compares it so, rather than through JSONNumber.
func (d *DB) JSONFieldNumber(n int64) any {
	if d.dialect == Postgres {
		return strconv.FormatInt(n, 10)
	}
	return n
}

// JSONNumber is the SQL for the number in the top-level field key of the
// JSON object in column, comparable with a number.
func (d *DB) JSONNumber(column, key string) string {
	if d.dialect == Postgres {
		return "(" + d.JSONField(column, key) + ")::numeric"
	}
	return d.JSONField(column, key)
}

// JSONEach is the SQL, for a FROM clause, of a table of the elements of
// the JSON array expr, as alias with one column, value.
func (d *DB) JSONEach(expr, alias string) string {
	checkName(alias)
	if d.dialect == Postgres {
		return "json_array_elements_text(" + expr + "::json) AS " + alias + "(value)"
	}
	return "json_each(" + expr + ") AS " + alias
}

// NoCase is expr compared and ordered without regard to case, as SQLite's
// COLLATE NOCASE.
func (d *DB) NoCase(expr string) string {
	if d.dialect == Postgres {
		return expr + " COLLATE plenary_nocase"
	}
	return expr + " COLLATE NOCASE"
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

// RewriteInKeyOrder rewrites, inside tx, the rows of table that match
// where in the order of key, on a database that keeps rows in the order
// they were last written: PostgreSQL's heap, where even an update in place
// writes a new version of the row after the others, so the order of
// updates (who voted when) shows in the rows' physical order (ctid) until
// they are rewritten. SQLite's WITHOUT ROWID tables lie in key order
// already: nothing to do. columns lists the table's columns; table, key
// and columns come from the code, never from input. A table whose triggers
// refuse deletes lets this through when plenary.rewrite names it
// (postgres.sql). Run PurgeDead on the table once tx commits.
func RewriteInKeyOrder(ctx context.Context, tx *sqlx.Tx, table, columns, key, where string, args ...any) error {
	if tx.DriverName() != pgDriverName {
		return nil
	}
	checkName(table)
	for _, step := range []struct {
		query string
		args  []any
	}{
		{`SELECT set_config('plenary.rewrite', ?, true)`, []any{table}},
		{`CREATE TEMP TABLE plenary_rewrite ON COMMIT DROP AS SELECT ` + columns + ` FROM ` + table + ` WHERE ` + where, args},
		{`DELETE FROM ` + table + ` WHERE ` + where, args},
		{`INSERT INTO ` + table + ` (` + columns + `) SELECT ` + columns + ` FROM plenary_rewrite ORDER BY ` + key, nil},
		{`DROP TABLE plenary_rewrite`, nil},
		{`SELECT set_config('plenary.rewrite', '', true)`, nil},
	} {
		if _, err := tx.ExecContext(ctx, step.query, step.args...); err != nil {
			return fmt.Errorf("db: rewrite %s in key order: %w", table, err)
		}
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

// ExecMayFail runs, inside tx, one statement the caller expects the
// database may refuse (a trigger or a constraint it turns into a domain
// error) and then carries on in the same transaction. SQLite undoes just
// the refused statement; PostgreSQL would abort the whole transaction, so
// there the statement runs under a savepoint that a refusal rolls back to.
func ExecMayFail(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (sql.Result, error) {
	if tx.DriverName() != pgDriverName {
		return tx.ExecContext(ctx, query, args...)
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT plenary_may_fail`); err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT plenary_may_fail; RELEASE SAVEPOINT plenary_may_fail`); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT plenary_may_fail`); err != nil {
		return nil, err
	}
	return res, nil
}
