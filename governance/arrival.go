package governance

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Votes are applied in the order they arrived, not the order they reach the
// vote writer (issue 17). Under a flood a vote can wait: for a turn
// (server's in-flight limit), for its session to be read, in the writer's
// queue. A member whose first try seems to hang and who votes again must not
// find that first try applied after the second one, which they were told
// was recorded. The server stamps each request as it arrives (Arrived); the
// writer refuses a vote that arrived before one of the same member's in the
// same ballot that it has already applied.
//
// The writer drops votes whose caller has gone before their batch begins
// (votewriter.go), but that needs the server to have seen the connection
// close, which a proxy in front of it may never pass on. The stamps need
// nothing from the connection. They are this process's: PostgreSQL's other
// processes keep their own, so a member's two tries that reach two
// processes are ordered only by the first guard.

// maxVoteWait is how long a vote may wait between arriving and being
// applied. One that has waited longer is refused (ErrVoteTooLate) rather
// than applied so late; and the writer forgets what it applied longer ago
// than this, since any vote that arrived before it would now be refused
// for its age anyway. It is shorter than the server's write timeout (30 s,
// server.go), so a vote is not applied once its answer could no longer
// reach the member.
const maxVoteWait = 25 * time.Second

var (
	// ErrVoteSuperseded refuses a vote that arrived before another of the
	// same member's in the same ballot that has already been applied: that
	// later vote stands.
	ErrVoteSuperseded = errors.New("governance: a later vote of this member's has been applied")
	// ErrVoteTooLate refuses a vote that waited longer than maxVoteWait.
	ErrVoteTooLate = errors.New("governance: the vote waited too long to be applied")
)

// processStart anchors the stamps: nanoseconds on the monotonic clock since
// the process started, so that no change of the wall clock reorders them.
var processStart = time.Now()

// lastStamp makes stamps strictly increasing: two requests in the same
// nanosecond still get an order.
var lastStamp atomic.Int64

func nextStamp() int64 {
	now := sinceStart()
	for {
		last := lastStamp.Load()
		next := max(now, last+1)
		if lastStamp.CompareAndSwap(last, next) {
			return next
		}
	}
}

type arrivalKey struct{}

// Arrived returns ctx stamped with the moment its request arrived. The
// server calls it first thing for every request that may cast a vote. A
// vote cast with an unstamped context (a caller in this process, such as a
// test, whose order is its calls') is neither refused for its order or
// age nor remembered.
func Arrived(ctx context.Context) context.Context {
	return context.WithValue(ctx, arrivalKey{}, nextStamp())
}

// arrival is ctx's stamp, or 0 when it has none.
func arrival(ctx context.Context) int64 {
	v, _ := ctx.Value(arrivalKey{}).(int64)
	return v
}

// ballotOf names whose ballot a vote fills in: the principal's when a proxy
// holder casts it, so that the holder's vote and the principal's own are
// ordered together.
type ballotOf struct{ proposal, member int64 }

func (v voteRequest) ballot() ballotOf {
	if v.principal != 0 {
		return ballotOf{v.proposal, v.principal}
	}
	return ballotOf{v.proposal, v.voter}
}

// applied is the writer's memory of the latest arrival it has applied for
// each ballot. Only the writer's goroutine uses it.
type applied struct {
	latest map[ballotOf]int64
	// pruned is when entries older than maxVoteWait were last dropped.
	pruned int64
}

// sinceStart is now, as a stamp.
func sinceStart() int64 { return int64(time.Since(processStart)) }

// refuse says why v may not be applied at now, given the arrivals applied
// before it (including earlier in its own batch, in pending); nil if it may.
func (a *applied) refuse(v voteRequest, pending map[ballotOf]int64, now int64) error {
	if v.stamp == 0 {
		return nil
	}
	if now-v.stamp > int64(maxVoteWait) {
		return ErrVoteTooLate
	}
	k := v.ballot()
	if v.stamp < max(a.latest[k], pending[k]) {
		return ErrVoteSuperseded
	}
	return nil
}

// remember records a committed batch's arrivals, and now and then forgets
// those too old to matter at now.
func (a *applied) remember(pending map[ballotOf]int64, now int64) {
	if a.latest == nil {
		a.latest = map[ballotOf]int64{}
	}
	for k, stamp := range pending {
		a.latest[k] = max(a.latest[k], stamp)
	}
	if now-a.pruned < int64(maxVoteWait) {
		return
	}
	for k, stamp := range a.latest {
		if now-stamp > int64(maxVoteWait) {
			delete(a.latest, k)
		}
	}
	a.pruned = now
}
