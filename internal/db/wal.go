package db

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// checkpointWait is how long TruncateWAL waits for the write lock and for
// readers of the log before it gives up until next time. A truncating
// checkpoint holds the write lock while it waits for readers, so every
// write waits as long: the wait is kept short, and a checkpoint held back
// is tried again rather than waited out.
const checkpointWait = 100 * time.Millisecond

// openCheckpointer opens the connection TruncateWAL runs on: one of its
// own, so that its short busy timeout is not the writer's or the
// readers', and a checkpoint never queues behind the writer pool.
func (d *DB) openCheckpointer(synchronous string) error {
	q := settings(synchronous, false)
	q.Set("_busy_timeout", strconv.FormatInt(checkpointWait.Milliseconds(), 10))
	c, err := sql.Open("sqlite3", "file:"+d.Path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("db: open checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	c.SetConnMaxIdleTime(0)
	d.checkpointer = c
	return nil
}

// TruncateWAL copies every committed change from the write-ahead log into
// the database file and truncates the log to nothing, so the file keeps
// no history of past commits: no earlier version of a page, no trace of
// which rows one commit changed together.
//
// It is not done (done false, err nil) when another connection held the
// write lock, or a reader still needed the log, for longer than
// checkpointWait; nothing is lost, and the caller tries again later. Even
// when done, the blocks the log occupied are the file system's to reuse
// or not: only disk encryption covers them.
//
// PostgreSQL has no such file of the database's own: done, at once. What its
// write-ahead log and heap keep is in the README ("Running on PostgreSQL").
func (d *DB) TruncateWAL(ctx context.Context) (done bool, err error) {
	if d.dialect == Postgres {
		return true, nil
	}
	var busy, logged, moved int
	if err := d.checkpointer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &moved); err != nil {
		return false, fmt.Errorf("db: truncate the write-ahead log: %w", err)
	}
	return busy == 0, nil
}
