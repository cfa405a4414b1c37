// Package fakeclock is the clock tests give the services in place of
// time.Now: it stands still until the test sets or advances it, so a test
// walks through a ballot's life without sleeping. It is for tests only.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a time moved by hand. Its methods are safe to call at once from
// the test and from the goroutines of the server under test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass the method value (c.Now) where a service
// takes a func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
