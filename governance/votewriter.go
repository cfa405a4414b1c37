package governance

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// The vote writer: group commit for votes.
//
// With synchronous=FULL every commit waits for the disk, so one transaction
// per vote caps a ballot's busiest minutes at the disk's fsync rate. Votes
// that arrive while a commit is in flight wait in a queue; one goroutine
// takes everything waiting, applies each vote in its own savepoint (so a
// refused vote undoes only itself), commits once, and only then answers
// each request. Nobody hears "recorded" before their vote is durable, and
// under load many votes share one fsync.

// maxBatch bounds one transaction, so a flood never holds the writer long.
const maxBatch = 512

type voteRequest struct {
	voter    int64
	proposal int64
	choice   string
	receipt  string
	// principal is the member a proxy holder (voter) votes for; 0 when
	// voters vote for themselves (proxy.go).
	principal int64
	// A choice ballot as its form gave it (VoteChoice): ranks or ticks,
	// converted and checked once the proposal is read (castIn). One of
	// them is non-nil exactly when the vote is a choice ballot.
	ranks   map[int]string
	approve []string
	answer  chan voteAnswer
	// ctx is the request's: a vote whose caller has given up before its
	// batch begins is not applied (see commit).
	ctx context.Context
	// stamp is when the request arrived (arrival.go): a vote is not
	// applied after a later-arriving one of the same member's.
	stamp int64
}

type voteAnswer struct {
	result VoteResult
	err    error
}

type voteWriter struct {
	s     *Service
	queue chan voteRequest
	start sync.Once
	// mu is held while a batch commits. Scrub takes it, so a checkpoint
	// falls between two batches instead of fighting one for the lock.
	mu sync.Mutex
	// commits counts transactions, so tests can see votes sharing them.
	commits atomic.Int64
	// applied holds the latest arrival applied for each ballot; only run's
	// goroutine touches it.
	applied applied
}

func newVoteWriter(s *Service) *voteWriter {
	return &voteWriter{s: s, queue: make(chan voteRequest, maxBatch)}
}

// cast queues a vote and waits for its batch to commit. If ctx ends first
// the caller gets ctx's error and no acknowledgement; the vote may or may
// not have been committed, and is whole either way.
func (w *voteWriter) cast(ctx context.Context, v voteRequest) (VoteResult, error) {
	w.start.Do(func() { go w.run() })
	v.answer, v.ctx, v.stamp = make(chan voteAnswer, 1), ctx, arrival(ctx)
	select {
	case w.queue <- v:
	case <-ctx.Done():
		return VoteResult{}, ctx.Err()
	}
	select {
	case a := <-v.answer:
		return a.result, a.err
	case <-ctx.Done():
		return VoteResult{}, ctx.Err()
	}
}

// run is the writer's loop. It lives as long as the process: its only
// resource is a goroutine blocked on an empty queue.
func (w *voteWriter) run() {
	for first := range w.queue {
		batch := []voteRequest{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case v := <-w.queue:
				batch = append(batch, v)
			default:
				break drain
			}
		}
		// A vote whose caller gave up while it waited (their browser timed
		// out, or they left) is not applied (issue 17). Otherwise a member
		// whose first try timed out and who voted again, and was answered,
		// could find the first try stored after the second, their
		// acknowledged vote overwritten by one they were told had failed.
		// Once its batch begins, a vote is applied whether or not anyone
		// still waits for the answer, as before; the next one from the same
		// member can only come into a later batch.
		// The server learns that a visitor has gone from a goroutine that
		// watches their connection; let those that are ready run first.
		runtime.Gosched()
		live := batch[:0]
		for _, v := range batch {
			if v.ctx != nil && v.ctx.Err() != nil {
				v.answer <- voteAnswer{err: v.ctx.Err()}
				continue
			}
			live = append(live, v)
		}
		if batch = live; len(batch) == 0 {
			continue
		}
		w.mu.Lock()
		early := w.commit(batch)
		w.mu.Unlock()
		w.commits.Add(1)
		// Ballots that close once everyone has voted are closed after the
		// batch is answered, in their own transactions, before the next
		// batch; should this fail (or the process die first), Advance
		// finds them due. (Not under mu: the close's scrub takes it.)
		if len(early) > 0 {
			_ = w.s.closeEarly(context.Background(), early)
		}
	}
}

// commit applies a batch in one transaction and answers every request.
// Request contexts are not used for the database work: one voter leaving
// must not roll back everyone else's votes. It returns the ballots that
// close early in which the batch recorded a vote.
func (w *voteWriter) commit(batch []voteRequest) (early []int64) {
	ctx := context.Background()
	answers := make([]voteAnswer, len(batch))
	proposals := map[int64]Proposal{}
	// pending is the batch's applied arrivals, remembered once it commits.
	var pending map[ballotOf]int64
	now := sinceStart()
	err := w.s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		pending = map[ballotOf]int64{}
		// A vote applied is released with the next vote's savepoint, in
		// one statement, or by the commit: on PostgreSQL each statement
		// is a round trip, and a vote used to take five.
		held := false // the last vote's savepoint is still open
		for i, v := range batch {
			if err := w.applied.refuse(v, pending, now); err != nil {
				answers[i] = voteAnswer{err: err}
				continue
			}
			begin := `SAVEPOINT vote`
			if held {
				begin = `RELEASE vote; SAVEPOINT vote`
			}
			if _, err := tx.ExecContext(ctx, begin); err != nil {
				return fmt.Errorf("governance: savepoint: %w", err)
			}
			res, err := w.s.castIn(ctx, tx, v, proposals)
			answers[i] = voteAnswer{res, err}
			if held = err == nil; !held {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO vote; RELEASE vote`); err != nil {
					return fmt.Errorf("governance: end savepoint: %w", err)
				}
			} else if v.stamp != 0 {
				pending[v.ballot()] = max(pending[v.ballot()], v.stamp)
			}
		}
		return nil
	})
	for _, p := range proposals {
		if p.Secret != nil && *p.Secret {
			w.s.unscrubbed.Store(true) // the log holds secret votes until Scrub
		}
	}
	for i, v := range batch {
		a := answers[i]
		if err != nil {
			// The commit failed: no vote in the batch was recorded.
			a = voteAnswer{err: errors.Join(errors.New("governance: vote not recorded"), err)}
		}
		v.answer <- a
	}
	if err != nil {
		return nil
	}
	w.applied.remember(pending, now)
	for id, p := range proposals {
		if p.EarlyClose == nil || !*p.EarlyClose {
			continue
		}
		for i, v := range batch {
			if v.proposal == id && answers[i].err == nil {
				early = append(early, id)
				break
			}
		}
	}
	return early
}
