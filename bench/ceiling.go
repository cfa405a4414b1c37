package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	_ "github.com/mattn/go-sqlite3" // built with -tags sqlite_fts5, like Plenary
)

// Ceilings are what the machine does with nothing of Plenary in the way.
type Ceilings struct {
	SQLiteInserts   float64 `json:"sqlite_inserts_per_s,omitempty"`
	PostgresInserts float64 `json:"postgres_inserts_per_s,omitempty"`
	Gin             Stats   `json:"gin"`
}

// rawInserts is the run's ceiling for votes: its database's single-row
// insert rate.
func (c Ceilings) rawInserts() float64 { return max(c.SQLiteInserts, c.PostgresInserts) }

func (c Ceilings) rawLabel() string {
	if c.PostgresInserts > 0 {
		return "ceiling: raw PostgreSQL inserts, synchronous_commit=on"
	}
	return "ceiling: raw SQLite inserts, synchronous=FULL"
}

// rawInserts is the disk's ceiling for votes: one writer inserting single
// rows, each in its own transaction, with the DSN settings Plenary's
// writer uses (internal/db), so each commit waits for its fsync.
func rawInserts(ctx context.Context, path string, d time.Duration) (float64, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE votes (id INTEGER PRIMARY KEY, proposal_id INTEGER NOT NULL,
		member_id INTEGER NOT NULL, choice TEXT NOT NULL, cast_at TEXT NOT NULL, UNIQUE (proposal_id, member_id))`); err != nil {
		return 0, fmt.Errorf("raw sqlite: %w", err)
	}
	insert := func(i int) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO votes (proposal_id, member_id, choice, cast_at) VALUES (1, ?, 'yes', ?)`,
			i, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	began := time.Now()
	n := 0
	for ; n < 10_000_000 && time.Since(began) < d; n++ {
		if err := insert(n); err != nil {
			return 0, fmt.Errorf("raw sqlite: insert: %w", err)
		}
	}
	return round(float64(n)/time.Since(began).Seconds(), 1), nil
}

// ginCeiling serves the least a gin handler can do on loopback, in this
// process, and hits it with the same load generator as Plenary's pages.
func ginCeiling(ctx context.Context, conns int, d time.Duration) (Stats, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Stats{}, err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s := hammer(ctx, []string{"http://" + ln.Addr().String() + "/"}, conns, d)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return s, err
	}
	return s, nil
}
