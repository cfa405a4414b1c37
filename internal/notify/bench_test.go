package notify_test

import (
	"flag"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/mailpit"
)

var benchMessages = flag.Int("notify.messages", 10_000, "how many messages BenchmarkSend delivers (the issue's figure: 100000)")

// BenchmarkSend delivers a ballot's voting_opened message to every member
// of a co-op through a local Mailpit, as the sender inside plenary serve
// does, and reports messages per second and the process's peak memory
// (Go's total, as the scale bench's "server memory" counts a process).
// Queueing and the members are set up outside the timing.
func BenchmarkSend(b *testing.B) {
	n := *benchMessages
	for b.Loop() {
		b.StopTimer()
		c := newCoop(b, mailpit.Options{})
		err := c.d.WithTx(c.ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(c.ctx, `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
				INSERT INTO members (name, email, password_hash, role, status, applied_at, joined_at)
				SELECT 'Member ' || i, 'm' || i || '@example.org', 'x', 'member', 'active', ?, ? FROM seq`, n-1, c.clock.Now(), c.clock.Now())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		c.propose(b, "A ballot for everyone")
		s := c.sender(b, c.d)
		runtime.GC()
		peak := uint64(0)
		done := make(chan struct{})
		go func() {
			sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
			for {
				metrics.Read(sample)
				peak = max(peak, sample[0].Value.Uint64())
				select {
				case <-done:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		sent := 0
		for sent < n {
			k, err := s.Work(c.ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				b.Fatalf("nothing more to send after %d of %d", sent, n)
			}
			sent += k
		}
		elapsed := time.Since(start)
		b.StopTimer()
		close(done)
		c.mp.Wait(n, time.Minute)
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		b.StartTimer()
	}
}
