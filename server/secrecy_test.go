package server_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/db/dbtest"
	"plenary/internal/forensic"
	"plenary/internal/webtest"
	"plenary/server"
)

// addressed sends every request of a browser as if from its own address,
// which a trusted reverse proxy passes on in X-Forwarded-For.
type addressed struct {
	addr string
	next http.RoundTripper
}

func (a addressed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", a.addr)
	return a.next.RoundTrip(r)
}

// TestVotesLeaveNoOrderInTheLog: members vote in a secret ballot one at a
// time, each from an address of their own, and someone reads the server's
// log. A log naming the voter of each vote, or the address of each vote
// and of the page after it, would give the order they voted in; beside the
// box's pages in the live database file, where the ballots lie in the
// order they were cast until the close rewrites them, that names every
// voter's choice. The log must give no order to pair.
func TestVotesLeaveNoOrderInTheLog(t *testing.T) {
	dbtest.RequireSQLite(t) // it reads SQLite's write-ahead log
	t.Parallel()
	a := newAppWith(t, func(cfg *server.Config) { cfg.TrustedProxies = []string{"127.0.0.1"} })
	ad := a.addAdmin(t, "Ada Admin", "ada@example.org")
	voters := []user{ad}
	for i := range 11 {
		voters = append(voters, a.addMember(t, ad, fmt.Sprintf("Voter %d", i+1), fmt.Sprintf("voter%d@example.org", i+1)))
	}
	p := a.putProposal(t, ad, motion("Merge with the housing co-op", 7, time.Time{}))
	if !*p.Secret {
		t.Fatal("motions are secret ballots by default")
	}
	// The order of casting is neither member order nor any the server
	// could stumble on.
	rand.New(rand.NewPCG(2026, 11)).Shuffle(len(voters), func(i, j int) { voters[i], voters[j] = voters[j], voters[i] })
	address := map[string]int64{}
	choices := map[string]string{} // receipt hash → choice
	byMember := map[int64]string{} // member → choice
	for i, u := range voters {
		addr := fmt.Sprintf("198.51.100.%d", i+10)
		address[addr] = u.ID
		c := &client{app: a, web: webtest.New(a.URL, addressed{addr, http.DefaultTransport})}
		c.login(t, u)
		choice := governance.Choices[(i*7+int(u.ID))%3]
		receipt := c.castSecretVote(t, p.ID, choice)
		choices[governance.ReceiptHash(receipt)] = choice
		byMember[u.ID] = choice
	}
	log := a.Log.String()
	var cast []int64
	for _, u := range voters {
		cast = append(cast, u.ID)
	}

	t.Run("no line of the log names a member or a client address", func(t *testing.T) {
		if !strings.Contains(log, "path=/proposals/"+strconv.FormatInt(p.ID, 10)+"/vote") {
			t.Fatalf("the log has no line for a vote: the test reads the wrong log\n%s", log)
		}
		for _, line := range strings.Split(log, "\n") {
			if m := memberKey.FindString(line); m != "" {
				t.Errorf("a log line names a member (%s): %s", m, line)
			}
			for addr := range address {
				if strings.Contains(line, addr) {
					t.Errorf("a log line holds the address %s: %s", addr, line)
				}
			}
		}
	})

	t.Run("the log gives no voting order to pair with the box's pages in the live file", func(t *testing.T) {
		order := voteOrder(log, p.ID, address)
		t.Logf("the log gives the voters of %d of %d votes, in order", len(order), len(cast))
		box := liveBox(t, a, p.ID)
		if len(box) != len(cast) {
			t.Fatalf("read %d ballots from the live file, want %d: the reader is wrong", len(box), len(cast))
		}
		// The live file does keep the ballots in the order they were cast:
		// this is why the log must not give the voters' order.
		matched := 0
		for i, h := range box {
			if choices[h] == byMember[cast[i]] {
				matched++
			}
		}
		if matched != len(cast) {
			t.Fatalf("the live file's box, in written order, matches the casting order for %d of %d votes; want all: the reader is wrong", matched, len(cast))
		}
		paired := 0
		for i, m := range order {
			if i < len(box) && choices[box[i]] == byMember[m] {
				paired++
			}
		}
		t.Logf("pairing the log's order with the live file's box gives %d of %d voters' choices", paired, len(cast))
		if len(order) != 0 {
			t.Errorf("the log names the voters of %d votes in order (%v; cast %v): beside the live file that gives %d of %d choices",
				len(order), order, cast, paired, len(cast))
		}
	})
}

// memberKey is a log attribute that names a member.
var memberKey = regexp.MustCompile(`\b(member|member_id|voter|user)=\S+`)

// voteOrder reads the voters of a ballot's votes from the log, in order,
// as someone who knows members' addresses would: by a member named on the
// vote's line, or by the address on it.
func voteOrder(log string, proposal int64, address map[string]int64) []int64 {
	vote := "path=/proposals/" + strconv.FormatInt(proposal, 10) + "/vote"
	var order []int64
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "method=POST") || !strings.Contains(line, vote) {
			continue
		}
		if m := regexp.MustCompile(`\bmember=(\d+)`).FindStringSubmatch(line); m != nil {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			order = append(order, id)
			continue
		}
		for addr, id := range address {
			if strings.Contains(line, addr) {
				order = append(order, id)
				break
			}
		}
	}
	return order
}

// liveBox reads a ballot's box from a copy of the live database file and
// its write-ahead log, below SQL: its receipt hashes in the order their
// cells were written.
func liveBox(t *testing.T, a *app, proposal int64) []string {
	t.Helper()
	file, err := os.ReadFile(a.DB.Path)
	if err != nil {
		t.Fatal(err)
	}
	walFile, err := os.ReadFile(a.DB.Path + "-wal")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	wal, err := forensic.ReadWAL(walFile)
	if err != nil {
		t.Fatal(err)
	}
	var root int
	if err := a.DB.R.Get(&root, `SELECT rootpage FROM sqlite_master WHERE name = 'ballot_box'`); err != nil {
		t.Fatal(err)
	}
	pages, err := forensic.Tree(forensic.Apply(file, wal), root)
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, page := range pages {
		for _, cell := range page {
			if cell.Values[0] == any(proposal) {
				hashes = append(hashes, cell.Values[1].(string)) // (proposal_id, receipt_hash, choice): the key first
			}
		}
	}
	return hashes
}
