package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Stats sum up a timed phase. Latencies are in milliseconds; PerSec counts
// successful requests over the phase's wall time.
type Stats struct {
	Count   int            `json:"requests"`
	Seconds float64        `json:"seconds"`
	PerSec  float64        `json:"per_s"`
	P50     float64        `json:"p50_ms"`
	P99     float64        `json:"p99_ms"`
	Max     float64        `json:"max_ms"`
	Errors  map[string]int `json:"errors"`
	// ServerCPU is the server's CPU time per request, user and system:
	// unlike the rates, it hardly moves when other work shares the machine.
	ServerCPU float64 `json:"server_cpu_ms_per_request,omitempty"`
}

// chargeCPU sets ServerCPU from the server's CPU time over the phase.
func (s *Stats) chargeCPU(used time.Duration) {
	if s.Count > 0 {
		s.ServerCPU = round(float64(used)/float64(time.Millisecond)/float64(s.Count), 3)
	}
}

// ErrorCount is the number of failed requests, whatever their reason.
func (s Stats) ErrorCount() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// recorder collects each request's latency and any problem, from many
// goroutines at once.
type recorder struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors map[string]int
}

func newRecorder() *recorder { return &recorder{errors: map[string]int{}} }

// add records a timed request; problem is "" for success.
func (r *recorder) add(d time.Duration, problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if problem != "" {
		r.errors[problem]++
	}
}

// fail records a request that could not be made at all, so took no time.
func (r *recorder) fail(problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[problem]++
}

func (r *recorder) stats(wall time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	s := Stats{Count: len(lat), Seconds: round(wall.Seconds(), 3), Errors: map[string]int{}}
	for k, v := range r.errors {
		s.Errors[k] = v
	}
	ok := len(lat) - s.ErrorCount()
	if wall > 0 {
		s.PerSec = round(float64(max(ok, 0))/wall.Seconds(), 1)
	}
	if len(lat) > 0 {
		s.P50, s.P99, s.Max = ms(percentile(lat, 0.50)), ms(percentile(lat, 0.99)), ms(lat[len(lat)-1])
	}
	return s
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// problem names what went wrong with a request, or "" if it got want.
func problem(status int, err error, want int) string {
	switch {
	case err != nil:
		return "transport error"
	case status != want:
		return "status " + strconv.Itoa(status)
	}
	return ""
}

// maxPerWorker bounds each worker however fast the server answers.
const maxPerWorker = 1_000_000

// hammer sends GETs for url from conns workers at once for d. Each worker
// keeps a cookie jar, so a server that hands every visitor a session
// cookie does so once, not on every request, and makes one untimed
// request first, so connections and cookies are in place when timing
// starts.
func hammer(ctx context.Context, urls []string, conns int, d time.Duration) Stats {
	tr := newTransport(conns)
	defer tr.CloseIdleConnections()
	rec := newRecorder()
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		deadline    time.Time
	)
	for i := range conns {
		url := urls[i%len(urls)]
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			client := newBrowser(tr, "").client
			fetch(ctx, client, url)
			ready.Done()
			<-start
			for i := 0; i < maxPerWorker && ctx.Err() == nil && time.Now().Before(deadline); i++ {
				t0 := time.Now()
				status, _, err := fetch(ctx, client, url)
				rec.add(time.Since(t0), problem(status, err, http.StatusOK))
			}
		}()
	}
	ready.Wait()
	began := time.Now()
	deadline = began.Add(d)
	close(start)
	done.Wait()
	return rec.stats(time.Since(began))
}

// fetch GETs url and reads the whole body, so the connection is reused.
// size is the answer's bytes: its headers, each as "Key: value\r\n", and
// its body.
func fetch(ctx context.Context, client *http.Client, url string) (status, size int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	size = int(n)
	for k, vs := range resp.Header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	return resp.StatusCode, size, err
}
