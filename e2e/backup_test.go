package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/governance"
)

// TestBackupUnderLoad takes `plenary backup` while members vote on the real
// server, checks the copy holds every vote acknowledged before the backup
// began, then restores it following the README's "Backup and restore"
// steps one by one and checks that the server serves the restored data.
func TestBackupUnderLoad(t *testing.T) {
	began := time.Now()
	bin := buildPlenary(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "plenary.db")
	const adminEmail = "secretary@backup.example"
	var emails []string
	for i := range 6 {
		emails = append(emails, fmt.Sprintf("voter%d@backup.example", i+1))
	}
	addMembers(t, bin, dbPath, adminEmail, emails)

	srv := newPlenaryProcess(t, bin, dbPath)
	srv.start()
	admin := newChaosMember(srv.tr, adminEmail)
	if err := admin.login(srv); err != nil {
		t.Fatal(err)
	}
	demands, err := listIDs(admin, srv, "/api/v1/demands?status=proposed")
	if err != nil {
		t.Fatal(err)
	}
	resources, err := listIDs(admin, srv, "/api/v1/resources")
	if err != nil {
		t.Fatal(err)
	}
	// The default rules: a secret ballot on a demand, an open one on a resource.
	secretID, _, err := admin.openBallot(srv, governance.KindEndorseDemand, demands, 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	openID, _, err := admin.openBallot(srv, governance.KindEndorseResource, resources, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	ballots := []ballot{{id: secretID, secret: true, closesAt: closesAt(t, dbPath, secretID)},
		{id: openID, closesAt: closesAt(t, dbPath, openID)}}
	var voters []*voter
	for i, email := range emails {
		m := newChaosMember(srv.tr, email)
		if err := m.login(srv); err != nil {
			t.Fatal(err)
		}
		voters = append(voters, &voter{m: m, rng: rand.New(rand.NewPCG(uint64(began.UnixNano()), uint64(i))), states: map[int64]*voteState{}})
	}

	// Votes flow before, during and after the backup.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stats voteStats
	for _, v := range voters {
		wg.Go(func() { v.run(ctx, srv, ballots, 10*time.Millisecond, &stats) })
	}
	time.Sleep(2 * time.Second)
	backupPath := filepath.Join(dir, "backups", "plenary-backup.db")
	if err := os.MkdirAll(filepath.Dir(backupPath), 0o755); err != nil {
		t.Fatal(err)
	}
	ackedBefore := stats.acked.Load()
	backupStart := time.Now()
	out, err := plenaryCLI(bin, "backup", "-db", dbPath, backupPath)
	backupEnd := time.Now()
	// Something the backup cannot hold: a resource submitted after it.
	r, err2 := admin.post(srv, "/library/new", url.Values{"title": {"Added after the backup"}, "url": {"https://example.org/after"},
		"format": {"report"}, "language": {"en"}})
	after := resourceLocation.FindStringSubmatch(r.location)
	if err2 != nil || r.status != http.StatusSeeOther || after == nil {
		t.Fatalf("submitting a resource after the backup: status %d, %v", r.status, err2)
	}
	time.Sleep(time.Second)
	cancel()
	wg.Wait()
	for _, p := range stats.problems {
		t.Error(p)
	}
	if err != nil {
		t.Fatalf("plenary backup while serving: %v\n%s", err, out)
	}
	ackedDuring := stats.acked.Load() - ackedBefore
	var inWindow int
	for _, v := range voters {
		for _, st := range v.states {
			for _, a := range st.attempts {
				if a.acked && a.done.After(backupStart) && a.done.Before(backupEnd) {
					inWindow++
				}
			}
		}
	}
	t.Logf("plenary backup took %s while %d voters voted: %d votes acknowledged before it began, %d while it ran, %d in all (%d receipts)",
		backupEnd.Sub(backupStart).Round(time.Millisecond), len(voters), ackedBefore, inWindow, stats.acked.Load(), stats.receipts.Load())
	if ackedBefore == 0 || ackedDuring == 0 {
		t.Fatalf("votes acknowledged before the backup: %d, after it began: %d; the test needs both", ackedBefore, ackedDuring)
	}

	var head string
	t.Run("the backup opens, its ledger verifies, and it holds every vote acknowledged before it began", func(t *testing.T) {
		d := openSQL(t, backupPath, true)
		var ok string
		if err := d.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("PRAGMA integrity_check on the backup: %q, %v", ok, err)
		}
		d.Close()
		out, err := plenaryCLI(bin, "ledger", "verify", "-db", backupPath)
		m := regexp.MustCompile(`ledger ok: \d+ entries, head ([0-9a-f]{64})`).FindStringSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("plenary ledger verify on the backup: %v\n%s", err, out)
		}
		head = m[1]
		found := checkVotes(t, backupPath, ballots, voters, backupStart, backupEnd)
		t.Logf("%d acknowledged votes found in the backup; %s", found, strings.TrimSpace(out))
	})

	t.Run("the restore steps in the README bring the server back on the backup", func(t *testing.T) {
		// 1. Stop Plenary.
		srv.stop()
		// 2. Move the database and its -wal and -shm files aside.
		aside := filepath.Join(dir, "before-restore")
		if err := os.Mkdir(aside, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			err := os.Rename(dbPath+suffix, filepath.Join(aside, "plenary.db"+suffix))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		// 3. Copy the backup into place, with no -wal or -shm beside it.
		copyFile(t, backupPath, dbPath)
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(dbPath + suffix); err == nil {
				t.Fatalf("%s is still there", dbPath+suffix)
			}
		}
		// 4. Verify the copy before serving it.
		out, err := plenaryCLI(bin, "ledger", "verify", "-db", dbPath)
		if err != nil || !strings.Contains(out, head) {
			t.Fatalf("plenary ledger verify on the restored file: %v\n%s\nwant head %s", err, out, head)
		}
		// 5. Start Plenary.
		srv.start()

		// 6. What the README says to check after.
		reader := newChaosMember(srv.tr, "")
		r, err := reader.do(srv, http.MethodGet, "/healthz", nil)
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("GET /healthz: status %d, %v", r.status, err)
		}
		r, err = reader.do(srv, http.MethodGet, "/api/v1/ledger", nil)
		if err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"hash":"`+head+`"`) {
			t.Errorf("GET /api/v1/ledger: status %d, %v; want the newest entry's hash %s", r.status, err, head)
		}
		r, err = admin.do(srv, http.MethodGet, "/library/"+after[1], nil)
		if err != nil || r.status != http.StatusNotFound {
			t.Errorf("GET /library/%s, submitted after the backup: status %d, %v; want 404", after[1], r.status, err)
		}
		// Each member sees the vote the backup holds for them, and no other:
		// their session survived, since the keys are in the database.
		d := openSQL(t, backupPath, true)
		var restored, gone int
		youVoted := regexp.MustCompile(`You voted <strong>(\w+)</strong>`)
		for _, v := range voters {
			var want string
			err := d.QueryRow(`SELECT coalesce((SELECT choice FROM votes WHERE proposal_id = ? AND member_id =
				(SELECT id FROM members WHERE email = ?)), '')`, openID, v.m.email).Scan(&want)
			if err != nil {
				t.Fatal(err)
			}
			var secretVoted int
			err = d.QueryRow(`SELECT voted FROM roll WHERE proposal_id = ? AND member_id = (SELECT id FROM members WHERE email = ?)`,
				secretID, v.m.email).Scan(&secretVoted)
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.m.do(srv, http.MethodGet, fmt.Sprintf("/proposals/%d", openID), nil)
			if err != nil || r.status != http.StatusOK {
				t.Fatalf("%s: GET /proposals/%d: status %d, %v", v.m.email, openID, r.status, err)
			}
			got := ""
			if m := youVoted.FindStringSubmatch(r.body); m != nil {
				got = m[1]
			}
			if got != want {
				t.Errorf("%s: the restored server shows their open vote as %q; the backup holds %q", v.m.email, got, want)
			}
			if st := v.states[openID]; st != nil && len(st.attempts) > 0 && st.attempts[len(st.attempts)-1].choice != want {
				gone++ // a later vote, after the backup, is rightly gone
			}
			if want != "" {
				restored++
			}
			r, err = v.m.do(srv, http.MethodGet, fmt.Sprintf("/proposals/%d", secretID), nil)
			if err != nil || r.status != http.StatusOK {
				t.Fatalf("%s: GET /proposals/%d: status %d, %v", v.m.email, secretID, r.status, err)
			}
			if shows := strings.Contains(r.body, "You have voted"); shows != (secretVoted == 1) {
				t.Errorf("%s: the restored server says voted=%v in the secret ballot; the backup's roll says %d", v.m.email, shows, secretVoted)
			}
		}
		t.Logf("restored: %d members' open votes as the backup holds them; %d of them had changed their vote after the backup", restored, gone)
		// And it takes new votes.
		v := voters[0]
		r, err = v.m.post(srv, fmt.Sprintf("/proposals/%d/vote", openID), url.Values{"choice": {"abstain"}})
		if err != nil || r.status != http.StatusSeeOther {
			t.Errorf("a vote after the restore: status %d, %v", r.status, err)
		}
		srv.stop()
	})

	t.Run("a backup of a database file that does not exist fails and creates nothing", func(t *testing.T) {
		missing := filepath.Join(dir, "mistyped.db")
		out, err := plenaryCLI(bin, "backup", "-db", missing, filepath.Join(dir, "backups", "empty.db"))
		if err == nil {
			t.Errorf("plenary backup -db %s succeeded:\n%s", missing, out)
		}
		for _, f := range []string{missing, filepath.Join(dir, "backups", "empty.db")} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%s was created", f)
			}
		}
	})
	t.Logf("whole test %s", time.Since(began).Round(time.Millisecond))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
