package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"
)

var choices = []string{"yes", "no", "abstain"}

// VoteFigures are the vote phase's results. Logins are set up, not timed
// as votes, but a member who cannot log in cannot vote, so they are
// reported beside them.
type VoteFigures struct {
	Stats
	Voters   int      `json:"voters"`
	Ballots  []int64  `json:"ballots"`
	Verified bool     `json:"verified"`
	Turnout  []string `json:"turnout"`
	Ratio    float64  `json:"ratio_to_sqlite_inserts"`
	Logins   Stats    `json:"logins"`
}

// castVotes logs the voters in, -login-concurrency at a time (by default
// one per CPU), each with a cookie jar of their own, and fetches the
// ballot page for a CSRF token; when all are ready they vote together, on
// each ballot in turn. Only the vote POSTs are timed as votes: the phase's
// wall time runs from the moment the voters are released to the last
// answer.
func castVotes(ctx context.Context, srv fleet, p *prepared, cfg config, mem *memoryWatch, notes []string) (VoteFigures, []string) {
	tr := newTransport(len(p.voters) + 8)
	defer tr.CloseIdleConnections()
	votes, logins := newRecorder(), newRecorder()
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		loginSlots  = make(chan struct{}, cfg.loginConcurrency)
		mu          sync.Mutex
		cast        = map[int64]int{} // acknowledged votes per ballot
		loginErr    string
	)
	mem.setPhase("login")
	progress("logging in %d voters, %d at a time", len(p.voters), cfg.loginConcurrency)
	loginStart, loginCPU := time.Now(), srv.cpu()
	for i, email := range p.voters {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			b := newBrowser(tr, srv.base(i))
			// Ready means logged in with a token, or given up: either way
			// recorded before the voters are counted and released.
			token, ok := func() (string, bool) {
				defer ready.Done()
				loginSlots <- struct{}{}
				defer func() { <-loginSlots }()
				t0 := time.Now()
				err := b.login(ctx, email)
				logins.add(time.Since(t0), loginProblem(err))
				token := ""
				if err == nil {
					token, err = b.csrf(ctx, fmt.Sprintf("/proposals/%d", p.ballots[0]))
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					loginErr = err.Error()
					return "", false
				}
				p.sessions = append(p.sessions, session{b, token})
				return token, true
			}()
			if !ok {
				return
			}
			<-start
			for _, ballot := range shuffled(p.ballots) {
				form := url.Values{"csrf_token": {token}, "choice": {choices[rand.IntN(len(choices))]}}
				t0 := time.Now()
				a, err := b.post(ctx, fmt.Sprintf("/proposals/%d/vote", ballot), form)
				votes.add(time.Since(t0), problem(a.status, err, http.StatusSeeOther))
				if err == nil && a.status == http.StatusSeeOther {
					mu.Lock()
					cast[ballot]++
					mu.Unlock()
				}
			}
		}()
	}
	ready.Wait()
	loginStats := logins.stats(time.Since(loginStart))
	loginStats.chargeCPU(srv.cpu() - loginCPU)
	progress("%d of %d voters logged in and ready in %.1f s; voting", len(p.sessions), len(p.voters), loginStats.Seconds)
	if loginErr != "" {
		notes = append(notes, "a voter could not log in: "+loginErr)
	}
	mem.setPhase("vote")
	began, cpu := time.Now(), srv.cpu()
	close(start)
	done.Wait()
	f := VoteFigures{Stats: votes.stats(time.Since(began)), Voters: len(p.voters), Ballots: p.ballots, Logins: loginStats}
	f.chargeCPU(srv.cpu() - cpu)
	progress("%d votes in %.3f s", f.Count, f.Seconds)

	f.Verified = true
	for _, ballot := range p.ballots {
		line, err := verifyTurnout(ctx, p.admin, ballot, cast[ballot])
		f.Turnout = append(f.Turnout, line)
		if err != nil {
			f.Verified = false
			notes = append(notes, err.Error())
		}
	}
	return f, notes
}

// loginProblem names why a login failed, briefly enough to count by.
func loginProblem(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF):
		return "connection closed (EOF)"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	var status *statusError
	if errors.As(err, &status) {
		return "status " + strconv.Itoa(status.got)
	}
	return "transport error"
}

var turnoutLine = regexp.MustCompile(`(\d+) of (\d+) on the roll have voted`)

// verifyTurnout checks, as a member sees it, that every vote acknowledged
// with a 303 is counted on the ballot's page.
func verifyTurnout(ctx context.Context, viewer *browser, ballot int64, want int) (string, error) {
	a, err := viewer.get(ctx, fmt.Sprintf("/proposals/%d", ballot))
	if err != nil {
		return "", fmt.Errorf("verify ballot %d: %w", ballot, err)
	}
	m := turnoutLine.FindStringSubmatch(a.body)
	if m == nil {
		return "", fmt.Errorf("verify ballot %d: status %d, no turnout line on its page", ballot, a.status)
	}
	line := fmt.Sprintf("proposal %d: %s", ballot, m[0])
	if got, _ := strconv.Atoi(m[1]); got != want {
		return line, fmt.Errorf("verify ballot %d: the page says %q, but %d votes were acknowledged", ballot, m[0], want)
	}
	return line, nil
}

// voteOnClosing gives the one-minute ballot a box worth reading: the
// voters, still logged in, vote on it too, untimed, if it is still open.
func voteOnClosing(ctx context.Context, p *prepared) string {
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok, other int
	)
	sem := make(chan struct{}, 32)
	for _, s := range p.sessions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			form := url.Values{"csrf_token": {s.token}, "choice": {choices[rand.IntN(len(choices))]}}
			a, err := s.b.post(ctx, fmt.Sprintf("/proposals/%d/vote", p.closed.ID), form)
			mu.Lock()
			defer mu.Unlock()
			if err == nil && a.status == http.StatusSeeOther {
				ok++
			} else {
				other++
			}
		}()
	}
	wg.Wait()
	return fmt.Sprintf("the one-minute ballot %d got %d untimed votes (%d not cast: closed already or refused)", p.closed.ID, ok, other)
}

func shuffled(ids []int64) []int64 {
	out := append([]int64(nil), ids...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
