package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
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

// The ceilings run in a child process of this program (os.Args[1] is
// ceilingChild), so that when pinning they run on the server's CPU, as
// Plenary does, and the load generator on its own.
const ceilingChild = "__ceiling"

// runCeilingChild is the child: "sqlite PATH DURATION" and "postgres URL
// DURATION" print the raw insert rate; "gin ADDR [BYTES]" serves the
// minimal handler until stopped, its body "ok" or BYTES bytes (the
// control's, sized as the page it stands beside).
func runCeilingChild(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 3 && (args[0] == "sqlite" || args[0] == "postgres") {
		d, err := time.ParseDuration(args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		measure := rawInserts
		if args[0] == "postgres" {
			measure = rawInsertsPostgres
		}
		rate, err := measure(ctx, args[1], d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(rate)
		return 0
	}
	if (len(args) == 2 || len(args) == 3) && args[0] == "gin" {
		body := []byte("ok\n")
		if len(args) == 3 {
			n, err := strconv.Atoi(args[2])
			if err != nil || n < 1 {
				fmt.Fprintln(os.Stderr, "bench "+ceilingChild+": gin: BYTES is a positive number")
				return 2
			}
			body = bytes.Repeat([]byte("x"), n)
		}
		gin.SetMode(gin.ReleaseMode)
		r := gin.New()
		r.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, "text/plain; charset=utf-8", body) })
		srv := &http.Server{Addr: args[1], Handler: r, ReadHeaderTimeout: 10 * time.Second}
		go func() { <-ctx.Done(); srv.Close() }()
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "bench "+ceilingChild+": sqlite PATH DURATION | postgres URL DURATION | gin ADDR [BYTES]")
	return 2
}

// childCommand runs this program as a ceiling child, on the server's CPU.
func childCommand(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := measured.command(exe, append([]string{ceilingChild}, args...)...)
	cmd.Stderr = os.Stderr
	return cmd, nil
}

// measureInserts is the raw insert ceiling, measured in a child: backend
// is sqlite (target a file path) or postgres (a database URL).
func measureInserts(ctx context.Context, backend, target string, d time.Duration) (float64, error) {
	cmd, err := childCommand(backend, target, d.String())
	if err != nil {
		return 0, err
	}
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("raw inserts: %w", err)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// ginCeiling serves the least a gin handler can do on loopback, in a
// child on the server's CPU, and hits it with the same load generator as
// Plenary's pages, closed-loop at conns connections: its rate is the most
// the machine's HTTP stack and gin give.
func ginCeiling(ctx context.Context, conns int, d time.Duration) (Stats, error) {
	child, stop, err := startGin(0)
	if err != nil {
		return Stats{}, err
	}
	defer stop()
	before := child.cpu()
	s := hammer(ctx, []string{child.base + "/"}, conns, d)
	s.chargeCPU(child.cpu() - before)
	return s, nil
}

// startGin starts the minimal gin handler in a child on the server's CPU
// and waits until it answers; stop ends it. Its body is "ok", or size
// bytes when size is above 0.
func startGin(size int) (*server, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	args := []string{"gin", addr}
	if size > 0 {
		args = append(args, strconv.Itoa(size))
	}
	cmd, err := childCommand(args...)
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	child := &server{cmd: cmd, base: "http://" + addr}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(child.base + "/"); err == nil {
			resp.Body.Close()
			return child, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, errors.New("the gin ceiling's server did not answer within 10 s")
		}
	}
}
