package e2e

import (
	"testing"
	"time"

	"plenary/internal/mailpit"
	"plenary/internal/notify"
)

// awaitOutbox waits until the servers' sender has dealt with every
// notification (none is left queued), failing after limit.
func awaitOutbox(t *testing.T, path string, limit time.Duration) {
	t.Helper()
	d := openSQL(t, path, true)
	defer d.Close()
	for deadline := time.Now().Add(limit); ; time.Sleep(200 * time.Millisecond) {
		var queued int
		if err := d.QueryRow(`SELECT count(*) FROM notifications WHERE status = 'queued'`).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		if queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d notifications still queued %s after the traffic stopped", queued, limit)
			return
		}
	}
}

type mailCounts struct{ queued, received, again int }

// checkMail compares the outbox with what Mailpit received. Every
// notification must have been sent and be in Mailpit under its
// Message-ID; Mailpit must hold nothing else. A message may be there twice
// only if a server was killed between the two copies (it was in the batch
// in flight, sent but not yet recorded), and no kill can have caught more
// than a batch.
func checkMail(t *testing.T, path string, mp *mailpit.Server, kills []time.Time) mailCounts {
	t.Helper()
	d := openSQL(t, path, true)
	defer d.Close()
	rows, err := d.Query(`SELECT message_id, status, last_error FROM notifications ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	queued := map[string]bool{}
	for rows.Next() {
		var id, status, lastError string
		if err := rows.Scan(&id, &status, &lastError); err != nil {
			t.Fatal(err)
		}
		queued[trimAngles(id)] = true
		if status != "sent" {
			t.Errorf("notification %s is %s (%s), not sent", id, status, lastError)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(queued) == 0 {
		t.Fatal("no notification was queued: opening and closing ballots must tell their rolls")
	}

	copies := map[string][]time.Time{}
	all := mp.Messages()
	for _, m := range all {
		copies[m.MessageID] = append(copies[m.MessageID], m.Created)
	}
	again := 0
	for id, at := range copies {
		if !queued[id] {
			t.Errorf("Mailpit holds %q, which no notification has as its Message-ID", id)
			continue
		}
		if len(at) == 1 {
			continue
		}
		again += len(at) - 1
		first, last := at[0], at[0]
		for _, a := range at {
			first, last = minTime(first, a), maxTime(last, a)
		}
		// Mailpit's clock is this machine's: the first copy came before
		// the kill, the next after a restart.
		const slack = 500 * time.Millisecond
		caught := false
		for _, k := range kills {
			if !first.After(k.Add(slack)) && !last.Before(k.Add(-slack)) {
				caught = true
			}
		}
		if !caught {
			t.Errorf("%s was delivered %d times (%s to %s) with no kill between: a resend of a message that was not in flight",
				id, len(at), first.Format("15:04:05.000"), last.Format("15:04:05.000"))
		}
	}
	for id := range queued {
		if len(copies[id]) == 0 {
			t.Errorf("notification %s is marked sent but Mailpit never received it", id)
		}
	}
	if limit := notify.DefaultBatch * len(kills); again > limit {
		t.Errorf("%d messages sent again; at most a batch (%d) per kill (%d kills) can have been in flight", again, notify.DefaultBatch, len(kills))
	}
	return mailCounts{queued: len(queued), received: len(all), again: again}
}

func trimAngles(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
