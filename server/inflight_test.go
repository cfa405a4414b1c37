package server

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestRequestsPastTheLimitWaitTheirTurn floods a handler guarded by
// limitInFlight with three turns: never more than three run at once, and
// every request is answered.
func TestRequestsPastTheLimitWaitTheirTurn(t *testing.T) {
	gin.SetMode(gin.TestMode)
	s := &Server{turns: make(chan struct{}, 3)}
	r := gin.New()
	var now, most atomic.Int64
	r.GET("/", s.limitInFlight, func(c *gin.Context) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		now.Add(-1)
		c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := http.Get(srv.URL); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if most.Load() > 3 || most.Load() < 2 {
		t.Errorf("%d requests ran at once, want at most 3 (and more than 1, or the test proves nothing)", most.Load())
	}
	if ok.Load() != 12 {
		t.Errorf("%d of 12 requests answered", ok.Load())
	}
}
