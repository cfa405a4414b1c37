package governance

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingHasher records how many hashes run at once.
type countingHasher struct {
	now, peak atomic.Int64
}

func (h *countingHasher) work() {
	n := h.now.Add(1)
	for {
		p := h.peak.Load()
		if n <= p || h.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(time.Millisecond) // hold the slot so others pile up; not a timing assertion
	h.now.Add(-1)
}

func (h *countingHasher) Hash(string) (string, error) { h.work(); return "h", nil }
func (h *countingHasher) Check(string, string) bool   { h.work(); return true }

func TestPasswordHashingIsLimited(t *testing.T) {
	inner := &countingHasher{}
	h := limitedHasher{inner, make(chan struct{}, 2)}
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); h.Hash("x") }()
		go func() { defer wg.Done(); h.Check("h", "x") }()
	}
	wg.Wait()
	if p := inner.peak.Load(); p > 2 {
		t.Errorf("%d hashes ran at once; the limit is 2", p)
	} else if p < 1 {
		t.Error("no hash ran")
	}
}
