package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// fleet is the Plenary processes a run serves from: one on SQLite, which
// has one writer per file; -processes of them on PostgreSQL, sharing one
// database as they would behind a load balancer. The client spreads its
// members and connections over them in turn, as a balancer would.
type fleet []*server

// base is the address the i-th member or connection goes to.
func (f fleet) base(i int) string { return f[i%len(f)].base }

// cpu is the CPU time all the processes have used so far.
func (f fleet) cpu() time.Duration {
	var sum time.Duration
	for _, s := range f {
		sum += s.cpu()
	}
	return sum
}

func (f fleet) stop() {
	for _, s := range f {
		s.stop()
	}
}

// benchDatabase creates a fresh PostgreSQL database for a run next to the
// one admin names (a URL of a database the user may create databases
// from), and returns its URL and what drops it at the end.
func benchDatabase(ctx context.Context, admin string, keep bool) (string, func(), error) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return "", nil, fmt.Errorf("-pg: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, fmt.Errorf("-pg: %w", err)
	}
	name := fmt.Sprintf("plenary_bench_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	conn.Close(ctx)
	url := fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, name)
	if cfg.Password != "" {
		url = fmt.Sprintf("postgres://%s:%s@%s:%d/%s", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
	}
	progress("created PostgreSQL database %s", name)
	drop := func() {
		if keep {
			progress("kept PostgreSQL database %s", name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			progress("could not drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			progress("could not drop %s: %v", name, err)
		}
	}
	return url, drop, nil
}

// rawInsertsPostgres is PostgreSQL's ceiling for votes, as pgbench would
// measure it: one connection inserting single rows, each its own
// transaction, with synchronous_commit on (the default Plenary relies on),
// so each commit waits for its WAL flush.
func rawInsertsPostgres(ctx context.Context, url string, d time.Duration) (float64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SET synchronous_commit = on;
		CREATE TABLE bench_raw_votes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, proposal_id bigint NOT NULL,
			member_id bigint NOT NULL, choice text NOT NULL, cast_at timestamptz NOT NULL, UNIQUE (proposal_id, member_id))`); err != nil {
		return 0, fmt.Errorf("raw postgres: %w", err)
	}
	defer conn.Exec(context.Background(), `DROP TABLE bench_raw_votes`)
	began := time.Now()
	n := 0
	for ; n < 10_000_000 && time.Since(began) < d; n++ {
		if _, err := conn.Exec(ctx, `INSERT INTO bench_raw_votes (proposal_id, member_id, choice, cast_at) VALUES (1, $1, 'yes', $2)`,
			n, time.Now()); err != nil {
			return 0, fmt.Errorf("raw postgres: insert: %w", err)
		}
	}
	return round(float64(n)/time.Since(began).Seconds(), 1), nil
}

// postgresSize is the size of the database at url, or 0 if it cannot say.
func postgresSize(url string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		return 0
	}
	return n
}
