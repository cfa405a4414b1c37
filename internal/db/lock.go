package db

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// Lock is held by one process at a time among all those sharing the
// database, for work only one of them may do (sending the outbox). It is
// let go when Release is called or the process dies: on PostgreSQL a
// session advisory lock on a connection of its own, on SQLite an flock on
// a file beside the database.
type Lock struct {
	file *os.File
	conn *pgx.Conn
	key  int64
}

// TryLock takes the lock called name if nobody holds it, and returns nil
// (and no error) if someone does.
func (d *DB) TryLock(ctx context.Context, name string) (*Lock, error) {
	if d.dialect == Postgres {
		return d.tryPostgresLock(ctx, name)
	}
	// One file per lock beside the database: flock holds for as long as
	// this open file, in this process or another, and goes with it.
	f, err := os.OpenFile(d.Path+"."+name+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("db: lock %s: %w", name, err)
	}
	return &Lock{file: f}, nil
}

// lockKey is name as an advisory lock's key: "plen" and a hash of the
// name, apart from the writers' and the migration's.
func lockKey(name string) int64 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int64(0x706c656e)<<32 | int64(h.Sum32())
}

func (d *DB) tryPostgresLock(ctx context.Context, name string) (*Lock, error) {
	cfg, err := pgConfig(d.Path, false)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: lock %s: %w", name, err)
	}
	key := lockKey(name)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("db: lock %s: %w", name, err)
	}
	if !ok {
		conn.Close(context.Background())
		return nil, nil
	}
	return &Lock{conn: conn, key: key}, nil
}

// Held says whether the lock is still this process's: on PostgreSQL, a
// lost connection has let it go, and another process may have taken it.
func (l *Lock) Held(ctx context.Context) bool {
	if l.conn == nil {
		return true
	}
	return l.conn.Ping(ctx) == nil
}

// Release lets the lock go.
func (l *Lock) Release() error {
	if l.conn != nil {
		l.conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, l.key)
		return l.conn.Close(context.Background())
	}
	return l.file.Close()
}
