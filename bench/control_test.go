package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// A page's misses are the server's where its own control sustained the
// same step, or where the rate offered needs a whole server CPU at the
// page's CPU a request; otherwise, where the control missed too or
// stopped before it, the client's. A control is no page: in no target,
// no page average.
func TestControlBlamesMisses(t *testing.T) {
	step := func(x float64, ok bool, p99, cpu float64) Step {
		return Step{Multiple: x, Offered: x * 10000, Sustained: ok, P99: p99, ServerCPU: cpu, Requests: 1}
	}
	missing := []Step{step(0.15, true, 3, 0.2), step(0.3, false, 40, 0.2), step(0.45, false, 200, 0.2), step(0.6, false, 2000, 0.2)}
	r := &Results{
		Reads: []PageCurve{
			{Name: "home", Curve: Curve{Steps: missing}, ControlBytes: 7000, Control: &Curve{Steps: []Step{
				step(0.15, true, 1, 9), step(0.3, true, 6, 9), step(0.45, false, 1500, 9),
			}}},
			// Each page is judged against its own control: a larger
			// page's control missed 0.3× where home's sustained it.
			{Name: "search", Curve: Curve{Steps: missing}, ControlBytes: 36000, Control: &Curve{Steps: []Step{
				step(0.15, true, 1, 9), step(0.3, false, 90, 9),
			}}},
			// A page whose control did not run has no verdicts.
			{Name: "api", Curve: Curve{Steps: missing}},
			// A page whose offered rate needs more than the server's one
			// CPU missed on the server's side, whatever its control did.
			{Name: "result", Curve: Curve{Steps: []Step{step(0.15, true, 3, 0.2), step(0.3, false, 900, 0.4), step(0.45, false, 900, 0.2)}},
				Control: &Curve{Steps: []Step{step(0.15, true, 1, 9), step(0.3, false, 300, 9), step(0.45, false, 300, 9)}}},
		},
		Pinning: pinning{On: true, Client: 0, Server: 1},
		Machine: Machine{CPUs: 2},
	}
	r.judge()
	for _, tt := range []struct {
		page int
		want []Miss
	}{
		{0, []Miss{
			{Multiple: 0.3, ControlSustained: true, ControlRan: true, ControlP99: 6, ServerNeeds: 0.6, Limit: "server"},
			{Multiple: 0.45, ControlRan: true, ControlP99: 1500, ServerNeeds: 0.9, Limit: "client"},
			{Multiple: 0.6, ServerNeeds: 1.2, Limit: "server"},
		}},
		{1, []Miss{
			{Multiple: 0.3, ControlRan: true, ControlP99: 90, ServerNeeds: 0.6, Limit: "client"},
			{Multiple: 0.45, ServerNeeds: 0.9, Limit: "client"},
			{Multiple: 0.6, ServerNeeds: 1.2, Limit: "server"},
		}},
		{2, nil},
		{3, []Miss{
			{Multiple: 0.3, ControlRan: true, ControlP99: 300, ServerNeeds: 1.2, Limit: "server"},
			{Multiple: 0.45, ControlRan: true, ControlP99: 300, ServerNeeds: 0.9, Limit: "client"},
		}},
	} {
		if got := r.Reads[tt.page].Misses; !slices.Equal(got, tt.want) {
			t.Errorf("%s's misses:\n got %+v\nwant %+v", r.Reads[tt.page].Name, got, tt.want)
		}
	}
	pages := 0
	for _, tg := range r.Targets {
		if strings.HasPrefix(tg.Name, controlName) {
			t.Errorf("the control has a target: %s", tg.Name)
		}
		if strings.HasPrefix(tg.Name, "home:") {
			pages++
		}
	}
	if pages != 1 {
		t.Errorf("%d targets for the one page, want 1", pages)
	}
	// The pages' mean at 0.3× (0.2, 0.2, 0.2 and 0.4), none of the
	// controls' 9.
	if got := r.pageCPU(); got != 0.25 {
		t.Errorf("page CPU %.3f ms, want the pages' 0.25 alone", got)
	}
}

// A control answers as many bytes as its page: the body's and the
// headers'. A page that does not answer 200 gets no control.
func TestAnswerSize(t *testing.T) {
	body := strings.Repeat("x", 33_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Page", "library")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	n, err := answerSize(context.Background(), srv.URL+"/")
	// Body, then at least "X-Page: library\r\n", Content-Type and Date;
	// no more than a few headers' worth.
	if err != nil || n < len(body)+len("X-Page: library\r\n")+40 || n > len(body)+300 {
		t.Errorf("answer size %d, %v; want the body's %d and its headers", n, err, len(body))
	}
	if _, err := answerSize(context.Background(), srv.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404 page: %v; want an error naming the status", err)
	}
}
