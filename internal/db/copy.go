package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mattn/go-sqlite3"
)

// Copied is what CopyToPostgres moved: rows per table, in the order copied.
type Copied struct {
	Tables []TableCount
}

// TableCount is one table's rows.
type TableCount struct {
	Name string
	Rows int64
}

// Rows is the number of rows copied in all.
func (c Copied) Rows() int64 {
	var n int64
	for _, t := range c.Tables {
		n += t.Rows
	}
	return n
}

// notCopied are SQLite tables with no PostgreSQL counterpart: FTS5's index
// (the library's search, which PostgreSQL keeps in its own way) and its
// shadow tables, which SQLite fills from resources.
func notCopied(table string) bool {
	return table == "resources_fts" || strings.HasPrefix(table, "resources_fts_") || strings.HasPrefix(table, "sqlite_")
}

// CopyToPostgres copies every row of src, a SQLite database, into the
// PostgreSQL database at url, which must hold no co-op: no member and no
// ledger entry (Open creates Plenary's schema there if it has none).
//
// src is read in one read transaction, so the copy is of one moment even
// while Plenary serves it. The target is written in one transaction too:
// a copy that fails leaves it as it was. In that transaction the tables'
// own triggers (the frozen roll, the append-only ledger, the freeze of
// endorsed content, the notifications) are set aside, since they guard
// changes made by the app and the copy is of rows that passed them once;
// the foreign keys are deferred to the end, where they are checked whole
// (resources and proposals point at each other), with the references the
// schema checks by trigger (plenary_dangling). Setting triggers
// aside needs the tables' owner: the role Plenary's schema was created by.
// The caller then checks the copy with the ledger and tally checks.
func CopyToPostgres(ctx context.Context, src *DB, url string) (Copied, error) {
	var c Copied
	if src.IsPostgres() {
		return c, errors.New("db: copy reads a SQLite database file")
	}
	if !IsPostgresURL(url) {
		return c, fmt.Errorf("db: copy writes to a PostgreSQL database (a postgres:// URL), not %s", url)
	}
	target, err := Open(ctx, url, "", Options{})
	if err != nil {
		return c, err
	}
	target.Close()

	cfg, err := pgConfig(url, false)
	if err != nil {
		return c, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return c, fmt.Errorf("db: open %s: %w", Redact(url), err)
	}
	defer conn.Close(context.Background())

	read, err := src.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return c, fmt.Errorf("db: read %s: %w", src.Path, err)
	}
	defer read.Rollback()

	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// No Plenary process writes while the copy does.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLock); err != nil {
			return err
		}
		var members, entries int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM ledger)`).Scan(&members, &entries); err != nil {
			return err
		}
		if members > 0 || entries > 0 {
			return fmt.Errorf("db: %s already holds a co-op (%d members, %d ledger entries); copy into an empty database",
				Redact(url), members, entries)
		}
		tables, err := pgTables(ctx, tx)
		if err != nil {
			return err
		}
		if err := sameTables(ctx, read, tables); err != nil {
			return err
		}
		names := make([]string, 0, len(tables))
		for _, t := range tables {
			names = append(names, pgx.Identifier{t.name}.Sanitize())
		}
		// The schema's own rows (the rules' defaults) give way to the
		// source's.
		if _, err := tx.Exec(ctx, `SET CONSTRAINTS ALL DEFERRED`); err != nil {
			return err
		}
		for _, name := range names {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+name+` DISABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("db: set aside the triggers of %s (copy needs the tables' owner): %w", name, err)
			}
		}
		if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(names, ", ")); err != nil {
			return err
		}
		for _, t := range tables {
			n, err := copyTable(ctx, read, tx, t)
			if err != nil {
				return fmt.Errorf("db: copy %s: %w", t.name, err)
			}
			c.Tables = append(c.Tables, TableCount{t.name, n})
			if err := t.restartIdentity(ctx, tx); err != nil {
				return fmt.Errorf("db: copy %s: %w", t.name, err)
			}
		}
		// The keys are checked here, before the triggers come back (a
		// table with checks pending cannot be altered).
		if _, err := tx.Exec(ctx, `SET CONSTRAINTS ALL IMMEDIATE`); err != nil {
			return err
		}
		// The references the schema checks per statement, by triggers
		// that are set aside here (postgres_v5.go), over whole tables.
		var dangling *string
		if err := tx.QueryRow(ctx, `SELECT plenary_dangling()`).Scan(&dangling); err != nil {
			return err
		}
		if dangling != nil {
			return fmt.Errorf("db: the copy would hold a broken reference: %s", *dangling)
		}
		for _, name := range names {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+name+` ENABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Copied{}, err
	}
	return c, nil
}

// pgTable is a table of the target and the columns the copy fills (not
// generated ones, which PostgreSQL computes).
type pgTable struct {
	name     string
	columns  []string
	types    []string
	identity string // the identity column, if any
}

func pgTables(ctx context.Context, tx pgx.Tx) ([]pgTable, error) {
	rows, err := tx.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type, c.is_identity = 'YES'
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND c.table_name <> 'schema_version' AND c.is_generated = 'NEVER'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	var tables []pgTable
	for rows.Next() {
		var table, column, typ string
		var identity bool
		if err := rows.Scan(&table, &column, &typ, &identity); err != nil {
			return nil, err
		}
		if len(tables) == 0 || tables[len(tables)-1].name != table {
			tables = append(tables, pgTable{name: table})
		}
		t := &tables[len(tables)-1]
		t.columns = append(t.columns, column)
		t.types = append(t.types, typ)
		if identity {
			t.identity = column
		}
	}
	return tables, rows.Err()
}

// sameTables checks that the source has every table and column the target
// has, and no table the copy would leave behind.
func sameTables(ctx context.Context, read *sql.Tx, tables []pgTable) error {
	rows, err := read.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'`)
	if err != nil {
		return err
	}
	var source []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		if !notCopied(name) {
			source = append(source, name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		i := slices.Index(source, t.name)
		if i < 0 {
			return fmt.Errorf("db: the source has no table %s: is it Plenary's, at this version?", t.name)
		}
		source = slices.Delete(source, i, i+1)
		var have []string
		if err := func() error {
			rows, err := read.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t.name)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					return err
				}
				have = append(have, c)
			}
			return rows.Err()
		}(); err != nil {
			return err
		}
		for _, c := range t.columns {
			if !slices.Contains(have, c) {
				return fmt.Errorf("db: the source's table %s has no column %s", t.name, c)
			}
		}
	}
	if len(source) > 0 {
		return fmt.Errorf("db: the target has no table for the source's %s", strings.Join(source, ", "))
	}
	return nil
}

// copyTable streams the source's rows of t into the target with COPY, in
// the source's order (key order for the ballot box, whose table has no
// other).
func copyTable(ctx context.Context, read *sql.Tx, tx pgx.Tx, t pgTable) (int64, error) {
	quoted := make([]string, len(t.columns))
	for i, c := range t.columns {
		quoted[i] = `"` + c + `"`
	}
	rows, err := read.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+t.name+`"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	src := &sqliteRows{rows: rows, t: t, values: make([]any, len(t.columns))}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, src)
	if err == nil {
		err = src.err
	}
	return n, err
}

// restartIdentity sets t's identity so the next row gets the number after
// the highest copied.
func (t pgTable) restartIdentity(ctx context.Context, tx pgx.Tx) error {
	if t.identity == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), m) FROM (SELECT max(`+
		pgx.Identifier{t.identity}.Sanitize()+`) AS m FROM `+pgx.Identifier{t.name}.Sanitize()+`) x WHERE m IS NOT NULL`,
		t.name, t.identity)
	return err
}

// sqliteRows feeds COPY from a SQLite query, each value made into what the
// target's column takes.
type sqliteRows struct {
	rows   *sql.Rows
	t      pgTable
	values []any
	err    error
}

func (r *sqliteRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	raw := make([]any, len(r.values))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	for i, v := range raw {
		if r.values[i], r.err = toPostgres(v, r.t.types[i]); r.err != nil {
			r.err = fmt.Errorf("column %s: %w", r.t.columns[i], r.err)
			return false
		}
	}
	return true
}

func (r *sqliteRows) Values() ([]any, error) { return r.values, nil }

func (r *sqliteRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// toPostgres is SQLite's value v as a value of PostgreSQL's type typ.
func toPostgres(v any, typ string) (any, error) {
	if b, ok := v.([]byte); ok && typ != "bytea" {
		v = string(b)
	}
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bigint", "integer":
		switch x := v.(type) {
		case int64:
			return x, nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "text":
		switch x := v.(type) {
		case string:
			return pgText(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case "timestamp with time zone":
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			for _, layout := range sqlite3.SQLiteTimestampFormats {
				if t, err := time.ParseInLocation(layout, strings.TrimSuffix(x, "Z"), time.UTC); err == nil {
					return t.UTC(), nil
				}
			}
			return nil, fmt.Errorf("%q is not a time", x)
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a %T where PostgreSQL keeps %s", v, typ)
}
