package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// PostgresSchema is Plenary's schema on PostgreSQL, at PostgresVersion.
//
//go:embed postgres.sql
var PostgresSchema string

// PostgresVersion is the schema version postgres.sql creates: Plenary came
// to PostgreSQL at SQLite's version 3, so a PostgreSQL database starts
// there and takes only the steps after it.
const PostgresVersion = 3

// postgresSteps[v] brings a PostgreSQL database from version v-1 to v, for
// every v from PostgresVersion+1 to Version: the same change as steps[v-2]
// makes on SQLite, in PostgreSQL's dialect.
var postgresSteps = map[int]string{}

// postgresGoSteps[v], where there is one, runs in the transaction of step
// v, between the halves of postgresSteps[v] split at postgresGoMark: work
// the SQL cannot do (version 4 computes digests in Go).
var postgresGoSteps = map[int]func(context.Context, pgx.Tx) error{}

const postgresGoMark = "\n-- (the Go half of the step runs here)\n"

// ErrBackupPostgres is what Backup says on PostgreSQL: its own tools copy
// a live database better than Plenary could.
var ErrBackupPostgres = errors.New("db: plenary backup copies SQLite files only; back up a PostgreSQL database with pg_dump " +
	"(pg_dump -Fc -f plenary.dump URL), which reads one consistent snapshot while Plenary runs, and restore it with pg_restore")

// Locks every Plenary process agrees on (pg_advisory_lock takes a bigint):
// writerLock serialises writing transactions, migrateLock schema changes.
const (
	writerLock  int64 = 0x706c656e61727901 // "plenary" 01
	migrateLock int64 = 0x706c656e61727902
)

// pgDriverName is the name sqlx knows PostgreSQL's bind style by.
const pgDriverName = "pgx"

// notifyChannel is where postgres.sql's triggers announce a change.
const notifyChannel = "plenary_changes"

// IsPostgresURL says whether the -db value names a PostgreSQL database
// rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns the database's name fit for a log: a URL without its
// password; a file path as it is.
func Redact(s string) string {
	if !IsPostgresURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://…"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Dialect is the database's kind.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (k Dialect) String() string {
	if k == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Dialect says which kind of database d is.
func (d *DB) Dialect() Dialect { return d.dialect }

// IsPostgres says whether d is a PostgreSQL database.
func (d *DB) IsPostgres() bool { return d.dialect == Postgres }

// pgState is what a PostgreSQL DB keeps beside its pools.
type pgState struct {
	// version counts commits on this process's writer and the change
	// notifications from every process (this one's too).
	version atomic.Int64
	// listening is false while the notification feed is down: another
	// process's commits could then go unseen, so DataVersion says so.
	listening atomic.Bool
	// own holds the server process ids (uint32) of this process's writer
	// connections, whose commits are counted as they happen: their
	// notifications, which come a moment later, are not counted again.
	own  sync.Map
	stop context.CancelFunc
	done sync.WaitGroup
}

func (p *pgState) close() error {
	p.stop()
	p.done.Wait()
	return nil
}

var errFeedDown = errors.New("db: the change feed from PostgreSQL is down; cached pages cannot be trusted until it is back")

func (p *pgState) versionNow() (int64, error) {
	if !p.listening.Load() {
		return 0, errFeedDown
	}
	return p.version.Load(), nil
}

// pgConfig parses url into pgx's configuration with Plenary's settings.
func pgConfig(rawURL string, readOnly bool) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", Redact(rawURL), err)
	}
	// Times come back as instants; the session's zone only shapes text.
	cfg.RuntimeParams["timezone"] = "UTC"
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// The simple protocol sends arguments as literals, whose type
	// PostgreSQL infers from where they stand, as SQLite does with any
	// value: "SELECT ?, receipt_hash …" into a bigint column, "? IS NULL".
	// The extended protocol would need a cast at each.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return cfg, nil
}

// pgPool opens a pool of wrapped connections (pgdriver.go).
func pgPool(cfg *pgx.ConnConfig, watch *pgState) *sqlx.DB {
	c := &pgConnector{inner: stdlib.GetConnector(*cfg), watch: watch}
	return sqlx.NewDb(sql.OpenDB(c), pgDriverName)
}

// openPostgres opens the PostgreSQL database at rawURL: one writer
// connection, as SQLite has (and the writers' lock across processes), a
// read-only pool, the schema brought up to date, and the feed of changes.
func openPostgres(ctx context.Context, rawURL string, target int) (*DB, error) {
	wcfg, err := pgConfig(rawURL, false)
	if err != nil {
		return nil, err
	}
	rcfg, err := pgConfig(rawURL, true)
	if err != nil {
		return nil, err
	}
	if err := migratePostgres(ctx, wcfg, rawURL, target); err != nil {
		return nil, err
	}
	pg := &pgState{}
	d := &DB{Path: rawURL, dialect: Postgres, pg: pg}
	d.W = pgPool(wcfg, pg)
	d.W.SetMaxOpenConns(1)
	d.W.SetMaxIdleConns(1)
	d.W.SetConnMaxLifetime(0)
	d.W.SetConnMaxIdleTime(0)
	n := max(4, runtime.NumCPU())
	d.R = pgPool(rcfg, nil)
	d.R.SetMaxOpenConns(n)
	d.R.SetMaxIdleConns(n)
	if err := d.W.PingContext(ctx); err != nil {
		d.W.Close()
		d.R.Close()
		return nil, fmt.Errorf("db: open %s: %w", Redact(rawURL), err)
	}
	// The feed is listening before Open returns, so no commit after it
	// goes unseen.
	feed, err := pgx.ConnectConfig(ctx, wcfg)
	if err == nil {
		_, err = feed.Exec(ctx, "LISTEN "+notifyChannel)
	}
	if err != nil {
		if feed != nil {
			feed.Close(context.Background())
		}
		d.W.Close()
		d.R.Close()
		return nil, fmt.Errorf("db: listen for changes on %s: %w", Redact(rawURL), err)
	}
	pg.listening.Store(true)
	fctx, stop := context.WithCancel(context.Background())
	pg.stop = stop
	pg.done.Add(1)
	go pg.listen(fctx, wcfg, feed)
	return d, nil
}

// listen counts notifications until ctx ends, reconnecting when the
// connection drops; while it is down, DataVersion reports an error, and
// once back, the version moves, as commits may have gone unseen.
func (p *pgState) listen(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn) {
	defer p.done.Done()
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				p.listening.Store(false)
				conn.Close(context.Background())
				conn = nil
				break
			}
			if _, own := p.own.Load(n.PID); !own {
				p.version.Add(1)
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			continue
		}
		if _, err := c.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			c.Close(context.Background())
			continue
		}
		conn = c
		p.version.Add(1)
		p.listening.Store(true)
	}
}

// migratePostgres creates the schema in an empty database, or brings an
// older one forward a step at a time, under a lock so that processes
// starting together do it once. It goes no further than version target
// (Version, but in the tests of a step).
func migratePostgres(ctx context.Context, cfg *pgx.ConnConfig, rawURL string, target int) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("db: open %s: %w", Redact(rawURL), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("db: take the migration lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, migrateLock)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if !exists {
		// The base schema, then the steps after it like any database's.
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, PostgresSchema); err != nil {
				return fmt.Errorf("db: apply the PostgreSQL schema: %w", err)
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (version integer NOT NULL);
				INSERT INTO schema_version (version) VALUES (`+strconv.Itoa(PostgresVersion)+`)`); err != nil {
				return fmt.Errorf("db: record the schema version: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if v > Version {
		return fmt.Errorf("db: %s has schema version %d, newer than this program's %d", Redact(rawURL), v, Version)
	}
	for ; v < target; v++ {
		step, ok := postgresSteps[v+1]
		if !ok {
			return fmt.Errorf("db: no PostgreSQL step to schema version %d", v+1)
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			before, after, _ := strings.Cut(step, postgresGoMark)
			if _, err := tx.Exec(ctx, before); err != nil {
				return fmt.Errorf("db: migrate to version %d: %w", v+1, err)
			}
			if fn := postgresGoSteps[v+1]; fn != nil {
				if err := fn(ctx, tx); err != nil {
					return fmt.Errorf("db: migrate to version %d: %w", v+1, err)
				}
			}
			if strings.TrimSpace(after) != "" {
				if _, err := tx.Exec(ctx, after); err != nil {
					return fmt.Errorf("db: migrate to version %d: %w", v+1, err)
				}
			}
			_, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, v+1)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// PostgresSchemaHash names the PostgreSQL schema this program creates, for
// test templates made from it: any change to it or its steps changes it.
func PostgresSchemaHash() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n%s\n", Version, PostgresSchema)
	for v := PostgresVersion + 1; v <= Version; v++ {
		fmt.Fprintf(h, "%d\n%s\n", v, postgresSteps[v])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Exists says whether path holds a Plenary database already: a file, or a
// PostgreSQL database with Plenary's schema in it. Commands that only read
// or check a database use it so as not to create an empty one by mistake.
func Exists(ctx context.Context, path string) (bool, error) {
	if !IsPostgresURL(path) {
		_, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	cfg, err := pgConfig(path, true)
	if err != nil {
		return false, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("db: open %s: %w", Redact(path), err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return false, fmt.Errorf("db: %s: %w", Redact(path), err)
	}
	return exists, nil
}
