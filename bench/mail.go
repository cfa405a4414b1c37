package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"plenary/internal/db"
)

// The scale run's mail (issue 13): the server sends through a real SMTP
// server, Mailpit (installed by make deps), and the run times what opening
// a ballot for the whole co-op asks of the outbox and the sender: every
// voting_opened message committed with the open, then all of them
// delivered, with the server's memory watched meanwhile.

// MailFigures are the mail of the ballot the scale run opens.
type MailFigures struct {
	// QueuedWithOpen are the ballot's voting_opened messages in the
	// outbox as the POST that opened it returns: all of the roll's, since
	// they commit with the roll.
	QueuedWithOpen int `json:"queued_with_open"`
	RollSize       int `json:"roll_size"`
	// Sent are those the sender delivered within the wait; Seconds from
	// the open's answer to the last of them.
	Sent      int     `json:"sent"`
	Failed    int     `json:"failed"`
	Seconds   float64 `json:"seconds"`
	PerSec    float64 `json:"messages_per_s"`
	InMailpit int     `json:"in_mailpit"`
	PeakMB    float64 `json:"server_peak_mb_while_sending"`
}

// mailWait is the longest the run waits for the sender to deliver a
// ballot's messages: 100,000 at the 300 a second the issue asks for take
// under 6 minutes.
const mailWait = 10 * time.Minute

// mailpit is a Mailpit the run starts on free loopback ports.
type mailpit struct {
	smtp, api string
	cmd       *exec.Cmd
}

// startMailpit starts .tools/mailpit (make deps puts it there),
// keeping every message in a file under dir.
func startMailpit(ctx context.Context, dir string) (*mailpit, error) {
	bin := filepath.Join(".tools", "mailpit")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no Mailpit at %s (run make deps from the repository's root): %w", bin, err)
	}
	smtp, err := freeAddr()
	if err != nil {
		return nil, err
	}
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	m := &mailpit{smtp: smtp, api: "http://" + api}
	log, err := os.Create(filepath.Join(dir, "mailpit.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	m.cmd = exec.Command(bin, "--database", filepath.Join(dir, "mailpit.db"), "--smtp", smtp, "--listen", api,
		"--disable-version-check", "--smtp-disable-rdns", "--max", "0", "--quiet")
	m.cmd.Stdout, m.cmd.Stderr = log, log
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ctx.Err() != nil {
			break
		}
		resp, err := http.Get(m.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", smtp); err == nil && resp.StatusCode == http.StatusOK {
				c.Close()
				progress("started mailpit (pid %d): SMTP %s", m.cmd.Process.Pid, smtp)
				return m, nil
			}
		}
	}
	m.stop()
	return nil, errors.New("mailpit did not answer within 15 s")
}

func (m *mailpit) stop() {
	if m != nil && m.cmd.Process != nil {
		m.cmd.Process.Kill()
		m.cmd.Wait()
	}
}

// count is how many messages Mailpit holds.
func (m *mailpit) count(ctx context.Context) int {
	var info struct {
		Total int `json:"total"`
	}
	b := newBrowser(newTransport(1), m.api)
	if err := b.getJSON(ctx, "/api/v1/messages?limit=1", &info); err != nil {
		return -1
	}
	return info.Total
}

// openOutbox opens the database read-only, beside the server, to count
// its outbox: an SQLite file in read-only mode, or the PostgreSQL URL.
func openOutbox(path string) (*sql.DB, error) {
	if db.IsPostgresURL(path) {
		return sql.Open("pgx", path)
	}
	return sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
}

// outboxOf counts ballot id's voting_opened messages by status.
func outboxOf(ctx context.Context, d *sql.DB, postgres bool, id int64) (map[string]int, error) {
	q := `SELECT status, count(*) FROM notifications WHERE kind = 'voting_opened' AND event = ? GROUP BY status`
	if postgres {
		q = `SELECT status, count(*) FROM notifications WHERE kind = 'voting_opened' AND event = $1 GROUP BY status`
	}
	rows, err := d.QueryContext(ctx, q, fmt.Sprint(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}

// measureMail counts the ballot's messages just after it opened, then
// waits until the sender has dealt with all of them, and says how fast it
// went from the moment the open was answered.
func measureMail(ctx context.Context, path string, open BallotFigures, mp *mailpit, mem *memoryWatch) (MailFigures, error) {
	opened := open.answered
	f := MailFigures{RollSize: open.RollSize}
	d, err := openOutbox(path)
	if err != nil {
		return f, err
	}
	defer d.Close()
	pg := db.IsPostgresURL(path)
	st, err := outboxOf(ctx, d, pg, open.ProposalID)
	if err != nil {
		return f, fmt.Errorf("count the outbox: %w", err)
	}
	for _, n := range st {
		f.QueuedWithOpen += n
	}
	progress("%d voting_opened messages in the outbox as the open returned (roll %d); waiting for the sender", f.QueuedWithOpen, f.RollSize)
	mem.setPhase("sending")
	last, lastAt := -1, opened
	for deadline := time.Now().Add(mailWait); ; time.Sleep(250 * time.Millisecond) {
		if st, err = outboxOf(ctx, d, pg, open.ProposalID); err != nil {
			return f, fmt.Errorf("count the outbox: %w", err)
		}
		f.Sent, f.Failed = st["sent"], st["failed"]
		if f.Sent != last {
			last, lastAt = f.Sent, time.Now()
		}
		if f.Sent+f.Failed >= f.QueuedWithOpen || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
	}
	f.Seconds = round(lastAt.Sub(opened).Seconds(), 2)
	if f.Seconds > 0 {
		f.PerSec = round(float64(f.Sent)/f.Seconds, 0)
	}
	f.InMailpit = mp.count(ctx)
	f.PeakMB = mem.peakOf("sending")
	progress("sent %d, failed %d in %.1f s (%.0f messages/s); Mailpit holds %d", f.Sent, f.Failed, f.Seconds, f.PerSec, f.InMailpit)
	return f, nil
}
