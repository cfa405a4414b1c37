package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"plenary/internal/db/dbtest"
)

// A general meeting while the server is killed again and again: members
// check in and appoint proxies, the chair opens the agenda's ballot live,
// members vote and change their votes, and proxy holders vote for their
// principals. Every kill is a SIGKILL, followed by a restart within 300 ms
// (on PostgreSQL two servers behind a balancer are killed in turn). In the
// database afterwards every acknowledged check-in is on the register,
// every acknowledged appointment stands and was frozen into the ballot's
// roll, and every member's and principal's ballot is the last one
// acknowledged (or one sent after it whose answer was lost).
func TestChaosMeeting(t *testing.T) {
	seed := *chaosSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (repeat the run's choices with -chaos.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x3ee7))

	bin := buildPlenary(t)
	dbPath := dbtest.Path(t)
	const adminEmail = "chair@meeting.example"
	var emails []string
	for i := range 10 {
		emails = append(emails, fmt.Sprintf("member%02d@meeting.example", i+1))
	}
	addMembers(t, bin, dbPath, adminEmail, emails)
	procs, front, tr := chaosServers(t, bin, dbPath)
	startAll(procs)

	chair := newChaosMember(tr, adminEmail)
	if err := chair.login(front); err != nil {
		t.Fatal(err)
	}
	// Motions: open ballots, a proxy cap of 2, and half an hour to vote.
	if r, err := chair.post(front, "/admin/rules", url.Values{"kind": {"motion"}, "quorum_pct": {"10"}, "threshold": {"majority"},
		"min_minutes": {"30"}, "proxy_cap": {"2"}, "quorum_on": {"present"}}); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("POST /admin/rules: status %d, %v\n%.400s", r.status, err, r.body)
	}
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02T15:04")
	r, err := chair.post(front, "/proposals/new", url.Values{"kind": {"motion"}, "title": {"Buy the hall"}, "body": {"That the co-op buys the hall."},
		"opens": {"later"}, "opens_at": {tomorrow}, "days": {"1"}, "hours": {"0"}, "minutes": {"0"}})
	loc := proposalLocation.FindStringSubmatch(r.location)
	if err != nil || r.status != http.StatusSeeOther || loc == nil {
		t.Fatalf("POST /proposals/new: status %d, Location %q, %v\n%.400s", r.status, r.location, err, r.body)
	}
	item, _ := strconv.ParseInt(loc[1], 10, 64)
	r, err = chair.post(front, "/meetings/new", url.Values{"title": {"Annual general meeting"}, "starts_at": {tomorrow}, "place": {"The hall"}})
	mloc := regexp.MustCompile(`^/meetings/(\d+)$`).FindStringSubmatch(r.location)
	if err != nil || r.status != http.StatusSeeOther || mloc == nil {
		t.Fatalf("POST /meetings/new: status %d, Location %q, %v\n%.400s", r.status, r.location, err, r.body)
	}
	meeting := mloc[1]
	if r, err := chair.post(front, "/meetings/"+meeting+"/items", url.Values{"proposal": {loc[1]}}); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("POST /meetings/%s/items: status %d, %v\n%.400s", meeting, r.status, err, r.body)
	}
	r, err = chair.do(front, http.MethodGet, "/meetings/"+meeting, nil)
	code := checkinCode.FindStringSubmatch(r.body)
	if err != nil || code == nil {
		t.Fatalf("GET /meetings/%s: status %d, no check-in code, %v", meeting, r.status, err)
	}

	members := make([]*chaosMember, len(emails))
	ids := map[string]int64{}
	d := openSQL(t, dbPath, true)
	for i, email := range emails {
		members[i] = newChaosMember(tr, email)
		if err := members[i].login(front); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := d.QueryRow(`SELECT id FROM members WHERE email = ?`, email).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[email] = id
	}
	// Members 1–6 come to the meeting; 7 and 8 give their proxies to
	// member 1, and 9 and 10 to member 2.
	present, principals := members[:6], members[6:]
	holderOf := func(i int) *chaosMember { return members[i/2-3] } // 6,7 → 0; 8,9 → 1

	var stats voteStats
	killer := startKiller(t, procs, rand.New(rand.NewPCG(seed, 0x6b11)))

	// Phase one: check-ins and appointments, each retried until the server
	// acknowledges it, while servers die under them: spread over three
	// seconds, as people arrive, so that kills fall among them.
	var wg sync.WaitGroup
	arrive := func() time.Duration { return time.Duration(rng.Int64N(int64(3 * time.Second))) }
	for _, m := range present {
		wait := arrive()
		wg.Go(func() {
			time.Sleep(wait)
			untilAcked(m, front, "/meetings/"+meeting+"/checkin", url.Values{"code": {code[1]}}, &stats)
		})
	}
	for i, m := range principals {
		holder, wait := holderOf(i+6), arrive()
		wg.Go(func() {
			time.Sleep(wait)
			untilAcked(m, front, "/proxies", url.Values{"holder": {strconv.FormatInt(ids[holder.email], 10)}}, &stats)
		})
	}
	wg.Wait()
	// The chair opens the vote: the register freezes and the proxies are
	// frozen into the roll.
	untilAcked(chair, front, fmt.Sprintf("/meetings/%s/items/%d/open", meeting, item), url.Values{}, &stats)

	// Phase two: six members vote and change their votes, and the two
	// holders vote for their principals, for six seconds of kills.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	self := map[string]*voteState{}
	byProxy := map[string]*voteState{}
	var mu sync.Mutex
	for i, m := range present {
		st := &voteState{}
		self[m.email] = st
		vrng := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() { castUntil(ctx, m, front, fmt.Sprintf("/proposals/%d/vote", item), vrng, st, &mu, &stats) })
	}
	for i, p := range principals {
		st := &voteState{}
		byProxy[p.email] = st
		holder := holderOf(i + 6)
		vrng := rand.New(rand.NewPCG(seed, uint64(100+i)))
		path := fmt.Sprintf("/proposals/%d/proxies/%d", item, ids[p.email])
		wg.Go(func() { castUntil(ctx, holder, front, path, vrng, st, &mu, &stats) })
	}
	wg.Wait()
	cancel()
	killer.stop()
	for _, p := range stats.problems {
		t.Error(p)
	}

	d = openSQL(t, dbPath, true)
	t.Run("every acknowledged check-in is on the frozen register", func(t *testing.T) {
		for _, m := range present {
			var n int
			if err := d.QueryRow(`SELECT count(*) FROM attendance WHERE meeting_id = ? AND member_id = ?`, meeting, ids[m.email]).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s checked in and was told so, but is on the register %d times (%v)", m.email, n, err)
			}
		}
		var frozen sql.NullTime
		if err := d.QueryRow(`SELECT register_frozen_at FROM meetings WHERE id = ?`, meeting).Scan(&frozen); err != nil || !frozen.Valid {
			t.Errorf("the register is not frozen after the vote opened (%v)", err)
		}
	})
	t.Run("every acknowledged proxy stands and is frozen into the roll", func(t *testing.T) {
		for i, p := range principals {
			holder := ids[holderOf(i+6).email]
			var live, frozen int
			err := d.QueryRow(`SELECT (SELECT count(*) FROM proxies WHERE principal_id = ? AND holder_id = ? AND revoked_at IS NULL),
				(SELECT count(*) FROM roll_proxies WHERE proposal_id = ? AND principal_id = ? AND holder_id = ?)`,
				ids[p.email], holder, item, ids[p.email], holder).Scan(&live, &frozen)
			if err != nil || live != 1 || frozen != 1 {
				t.Errorf("%s appointed member %d: %d live appointments, %d frozen into the roll (%v); want 1 and 1", p.email, holder, live, frozen, err)
			}
		}
	})
	t.Run("every acknowledged vote is stored as last acknowledged", func(t *testing.T) {
		check := func(email string, st *voteState, how string) {
			want, hadAck := st.allowed(time.Now(), time.Now())
			var got string
			err := d.QueryRow(`SELECT choice FROM votes WHERE proposal_id = ? AND member_id = ?`, item, ids[email]).Scan(&got)
			if errors.Is(err, sql.ErrNoRows) {
				err = nil
			}
			switch {
			case err != nil:
				t.Fatal(err)
			case got == "" && hadAck:
				t.Errorf("%s's acknowledged vote %s (%v) is missing", email, how, want)
			case got != "" && !slices.Contains(want, got):
				t.Errorf("%s's vote %s is stored as %q; it may only be one of %v", email, how, got, want)
			}
		}
		for email, st := range self {
			check(email, st, "in person")
		}
		for email, st := range byProxy {
			check(email, st, "by proxy")
			_, hadAck := st.allowed(time.Now(), time.Now())
			var n int
			if err := d.QueryRow(`SELECT count(*) FROM proxy_votes WHERE proposal_id = ? AND principal_id = ?`, item, ids[email]).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if hadAck && n != 1 {
				t.Errorf("%s's acknowledged proxy ballot is not recorded as cast by proxy", email)
			}
		}
		var voted, stored int
		if err := d.QueryRow(`SELECT (SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1), (SELECT count(*) FROM votes WHERE proposal_id = ?)`,
			item, item).Scan(&voted, &stored); err != nil || voted != stored {
			t.Errorf("the roll says %d voted and the roll-call holds %d (%v)", voted, stored, err)
		}
	})
	t.Logf("%d requests sent, %d acknowledged, %d unanswered, %d server errors; %d kills",
		stats.sent.Load(), stats.acked.Load(), stats.unanswered.Load(), stats.serverErrors.Load(), killer.kills)
}

// checkinCode finds the meeting's check-in code on its page, as the chair sees it.
var checkinCode = regexp.MustCompile(`<p class="code">([A-Z0-9]{6})</p>`)

// untilAcked posts the form until a server answers 303, as a person
// presses the button again until the page says it worked.
func untilAcked(m *chaosMember, p frontend, path string, form url.Values, stats *voteStats) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, err := m.post(p, path, form)
		if notSent(err) {
			continue
		}
		stats.sent.Add(1)
		switch {
		case err != nil:
			stats.unanswered.Add(1)
		case r.status == http.StatusSeeOther:
			stats.acked.Add(1)
			return
		case r.status >= 500:
			stats.serverErrors.Add(1)
			stats.problem("%s POST %s: status %d", m.email, path, r.status)
		default:
			stats.problem("%s POST %s: unexpected status %d\n%.300s", m.email, path, r.status, r.body)
			return
		}
	}
	stats.problem("%s POST %s: no acknowledgement within a minute", m.email, path)
}

// castUntil votes at path again and again until ctx ends, recording each
// attempt in st as TestChaos's voters do.
func castUntil(ctx context.Context, m *chaosMember, p frontend, path string, rng *rand.Rand, st *voteState, mu *sync.Mutex, stats *voteStats) {
	for ctx.Err() == nil {
		time.Sleep(15*time.Millisecond + time.Duration(rng.Int64N(int64(30*time.Millisecond))))
		choice := choices[rng.IntN(len(choices))]
		sent := time.Now()
		r, err := m.post(p, path, url.Values{"choice": {choice}})
		done := time.Now()
		if notSent(err) {
			continue
		}
		stats.sent.Add(1)
		mu.Lock()
		switch {
		case err != nil || r.status >= 500:
			if err == nil {
				stats.serverErrors.Add(1)
				stats.problem("%s POST %s: status %d", m.email, path, r.status)
			}
			stats.unanswered.Add(1)
			st.attempts = append(st.attempts, attempt{choice: choice, sent: sent, done: done})
		case r.status == http.StatusSeeOther:
			stats.acked.Add(1)
			st.attempts = append(st.attempts, attempt{choice: choice, sent: sent, done: done, acked: true})
		default:
			stats.problem("%s POST %s %s: unexpected status %d\n%.300s", m.email, path, choice, r.status, r.body)
		}
		mu.Unlock()
	}
}

// killer kills a server at random moments and starts it again within 300
// ms, one at a time, until stopped; then every server is up.
type killer struct {
	done  chan struct{}
	wg    sync.WaitGroup
	kills int
}

func startKiller(t *testing.T, procs []*plenaryProcess, rng *rand.Rand) *killer {
	k := &killer{done: make(chan struct{})}
	k.wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-k.done:
				return
			case <-time.After(300*time.Millisecond + time.Duration(rng.Int64N(int64(700*time.Millisecond)))):
			}
			p := procs[i%len(procs)]
			p.kill()
			k.kills++
			time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
			p.start()
		}
	})
	return k
}

func (k *killer) stop() {
	close(k.done)
	k.wg.Wait()
}
