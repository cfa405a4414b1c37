// Package db opens Plenary's database the one right way: SQLite (the
// default: WAL, foreign keys, a busy timeout and immediate transactions in
// the DSN) or PostgreSQL (a postgres:// URL, postgres.go), each with one
// writer connection and a pool of readers, and the schema applied and
// versioned. The few differences between the two dialects are named
// functions here (dialect.go), so the domain's SQL stays one code base.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the driver, built with -tags sqlite_fts5
)

// DB is the writer and reader pools of one database file. All writes go
// through W, whose single connection serialises them so they never fight
// over SQLite's lock; reads run in parallel on R.
type DB struct {
	W *sqlx.DB
	R *sqlx.DB
	// Path is the SQLite file, or the PostgreSQL URL (Redact it for logs).
	Path    string
	dialect Dialect
	// pg is what only a PostgreSQL database has (postgres.go).
	pg *pgState
	// watch is one read-only connection that only ever asks for
	// data_version, so that Version sees every commit as someone else's.
	watch *sql.DB
	// checkpointer is the connection TruncateWAL runs on (wal.go).
	checkpointer *sql.DB
}

// Options tune how the database is opened.
type Options struct {
	// Synchronous is SQLite's synchronous setting for the writer. The default,
	// FULL, makes every acknowledged commit survive power loss. Only the demo
	// sets another (OFF, for data it can generate again): no production path
	// may.
	Synchronous string
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date. schema is the text of schema.sql. A postgres:// or
// postgresql:// URL opens that PostgreSQL database instead, with its own
// schema (postgres.sql); schema is then unused.
func Open(ctx context.Context, path, schema string, opt Options) (*DB, error) {
	return open(ctx, path, schema, opt, Version)
}

// open is Open with the schema brought no further than version target.
func open(ctx context.Context, path, schema string, opt Options, target int) (*DB, error) {
	if IsPostgresURL(path) {
		return openPostgres(ctx, path, target)
	}
	if opt.Synchronous == "" {
		opt.Synchronous = "FULL"
	}
	w, err := sqlx.Open("sqlite3", dsn(path, opt.Synchronous, false))
	if err != nil {
		return nil, fmt.Errorf("db: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	d := &DB{W: w, Path: path, dialect: SQLite}
	if err := d.migrateTo(ctx, schema, target); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sqlx.Open("sqlite3", dsn(path, opt.Synchronous, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open readers: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.R = r
	if d.watch, err = sql.Open("sqlite3", dsn(path, opt.Synchronous, true)); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: open watcher: %w", err)
	}
	d.watch.SetMaxOpenConns(1)
	d.watch.SetMaxIdleConns(1)
	d.watch.SetConnMaxLifetime(0)
	d.watch.SetConnMaxIdleTime(0)
	if err := d.openCheckpointer(opt.Synchronous); err != nil {
		d.Close()
		return nil, err
	}
	// A crash may have fallen between a secret ballot's close and the
	// scrub after it: leave no write-ahead log of it behind. Readers in
	// another process may hold the truncation back; the first scrub after
	// them does it.
	if _, err := d.TruncateWAL(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// dsn puts every setting in the connection string so that each pooled
// connection gets it, not only the first.
func dsn(path, synchronous string, readOnly bool) string {
	return "file:" + path + "?" + settings(synchronous, readOnly).Encode()
}

// settings are the connection string's settings.
func settings(synchronous string, readOnly bool) url.Values {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", synchronous)
	// Deleted cells and freed pages are overwritten with zeros, so a
	// rebuilt ballot box (governance/scrub.go) leaves no old cells behind
	// in the file's free space, in the order they were written.
	q.Set("_secure_delete", "on")
	// Keep each connection's prepared statements: Plenary asks the same
	// few hundred queries over and over, and preparing one cost more than
	// running it (a fifth of a vote's CPU before this).
	q.Set("_stmt_cache_size", "256")
	if readOnly {
		q.Set("_query_only", "true")
	} else {
		q.Set("_txlock", "immediate")
	}
	return q
}

// Close closes the pools and the connections beside them.
func (d *DB) Close() error {
	var errs []error
	if d.pg != nil {
		errs = append(errs, d.pg.close())
	}
	if d.checkpointer != nil {
		errs = append(errs, d.checkpointer.Close())
	}
	if d.watch != nil {
		errs = append(errs, d.watch.Close())
	}
	if d.R != nil {
		errs = append(errs, d.R.Close())
	}
	errs = append(errs, d.W.Close())
	return errors.Join(errs...)
}

// DataVersion is SQLite's data_version on a connection that never writes: it
// changes whenever any connection, in this process or another (the command
// line writing to a served file), commits. Two equal readings mean nothing
// was committed between them, so whatever was read after the first is
// still current.
//
// On PostgreSQL it counts this process's commits and the notifications of
// every process's (postgres.go).
func (d *DB) DataVersion(ctx context.Context) (int64, error) {
	if d.pg != nil {
		return d.pg.versionNow()
	}
	var v int64
	if err := d.watch.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("db: data version: %w", err)
	}
	return v, nil
}

// WithTx runs fn in one immediate transaction on the writer, committing if fn
// returns nil and rolling back otherwise. On PostgreSQL the transaction
// first takes the writers' advisory lock, so that writers queue one at a
// time across every process sharing the database, as SQLite's do.
func (d *DB) WithTx(ctx context.Context, fn func(*sqlx.Tx) error) error {
	tx, err := d.W.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if d.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, writerLock); err != nil {
			tx.Rollback()
			return fmt.Errorf("db: take the writers' lock: %w", err)
		}
	}
	// A panic in fn must not leave the transaction open: it would hold the
	// writer's only connection, and every later write would wait for ever.
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("db: rollback: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// Secret returns the named random secret of n bytes, generating and storing
// it the first time it is asked for. Every process sharing the database file
// gets the same value.
func (d *DB) Secret(ctx context.Context, name string, n int) ([]byte, error) {
	var value []byte
	err := d.WithTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &value, `SELECT value FROM secrets WHERE name = ?`, name)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		value = make([]byte, n)
		rand.Read(value)
		_, err = tx.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?)`, name, value)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: secret %s: %w", name, err)
	}
	return value, nil
}

// Backup writes a consistent copy of the database to path while it stays in
// use: VACUUM INTO reads one snapshot, so writes that land meanwhile are
// either wholly in the copy or not at all.
//
// It runs on a connection of its own: the readers are query_only, which
// SQLite holds to refuse VACUUM INTO, and the writer would stall every write
// for as long as the copy takes.
//
// On PostgreSQL it returns ErrBackupPostgres: pg_dump makes the copy.
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.dialect == Postgres {
		return ErrBackupPostgres
	}
	c, err := sqlx.Open("sqlite3", dsn(d.Path, "FULL", false))
	if err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("db: backup to %s: %w", path, err)
	}
	return nil
}
