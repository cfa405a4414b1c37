package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The control curves. At the pages' higher steps the load generator is
// near its own limit: vegeta costs some 50 to 80 µs of client CPU a
// request, more the larger the answer it reads, so at 0.3× gin its one
// CPU is mostly busy and its own scheduling inflates the p99 it reports,
// whatever the server does. Before each page, the bare gin handler of the
// ceiling, answering a body as large as that page's answer (headers
// included), is offered the page's very steps open loop by the same
// client. It has no work of its own to be slow at, but it moves the same
// bytes through the same client and loopback: a step it does not sustain
// is beyond what this client can measure at that size, and a page that
// misses a step its control sustained missed it on the server's side.
// (A control answering two bytes, as the first version had it, sustained
// steps that the same client could not measure for a 33 KB page.)

const controlName = "bare gin (control)"

// ginControl offers the bare gin handler, in a fresh child on the
// server's CPU as the closed-loop ceiling's, answering size bytes, the
// pages' steps. Its CPU per request is the child's, so Plenary's idle
// process is not charged.
func ginControl(ctx context.Context, cfg config, gin float64, size int) (Curve, error) {
	child, stop, err := startGin(size)
	if err != nil {
		return Curve{}, err
	}
	defer stop()
	targets := roundRobin([]string{child.base + "/"})
	// Untimed, a second at the lowest step first: the pages' server has
	// served for minutes, and a fresh process's first second (its heap
	// growing, its first collections) must not pass for the client's
	// limit.
	progress("control: warming the bare gin handler (%d bytes) up for 1s", size)
	attack(ctx, targets, pageMultiples[0]*gin, time.Second, http.StatusOK, child.cpu, nil)
	time.Sleep(time.Second)
	return pageSteps(ctx, targets, fmt.Sprintf("control: bare gin, %d bytes,", size), cfg.pageFor, gin, child.cpu), nil
}

// answerSize is how many bytes a GET of url answers with, headers and
// body, as the page's control is to answer.
func answerSize(ctx context.Context, url string) (int, error) {
	status, size, err := fetch(ctx, http.DefaultClient, url)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", url, status)
	}
	return size, err
}

// Miss is a page step not sustained, and whose limit it was.
type Miss struct {
	Multiple float64 `json:"multiple_of_ceiling"`
	// ControlSustained: the bare handler sustained the same step, so
	// the client could measure it and the miss is the server's.
	ControlSustained bool `json:"control_sustained"`
	// ControlRan: the control reached this step; it stops, as a page
	// does, after a step far past its limit.
	ControlRan bool    `json:"control_ran"`
	ControlP99 float64 `json:"control_p99_ms"`
	// ServerNeeds is the share of the server's CPUs the offered rate
	// needs at the page's CPU per request: from 1 the server cannot
	// keep up, whatever the client measures, and the miss is the
	// server's even where the control missed too.
	ServerNeeds float64 `json:"server_cpu_needed"`
	Limit       string  `json:"limit"` // "server" or "client"
}

// blameMisses sets each page's misses against its control's steps and
// the server's CPU.
func (r *Results) blameMisses() {
	cores := 1 // pinned, the server has one CPU
	if !r.Pinning.On {
		cores = max(r.Machine.CPUs, 1)
	}
	for i := range r.Reads {
		p := &r.Reads[i]
		p.Misses = nil
		if p.Control == nil {
			continue
		}
		for _, s := range p.Steps {
			if !s.Sustained {
				p.Misses = append(p.Misses, missAgainst(p.Control.Steps, s, cores))
			}
		}
	}
}

// missAgainst is the verdict on a page's step s, not sustained, on a
// server of cores CPUs. A control that stopped before that step (far past
// its limit at a lower one) did not sustain it either.
func missAgainst(control []Step, s Step, cores int) Miss {
	m := Miss{Multiple: s.Multiple, Limit: "client", ServerNeeds: round(s.ServerCPU*s.Offered/1000/float64(cores), 2)}
	for _, c := range control {
		if c.Multiple == s.Multiple {
			m.ControlRan, m.ControlSustained, m.ControlP99 = true, c.Sustained, c.P99
		}
	}
	if m.ControlSustained || m.ServerNeeds >= 1 {
		m.Limit = "server"
	}
	return m
}

// printControl writes a page's control's table, before the page's.
func printControl(out io.Writer, p PageCurve) {
	if p.Control == nil {
		return
	}
	fmt.Fprintf(out, "\n%s answering %d bytes, as %s does (a fresh child on the server's CPU, the same steps open loop)\n",
		controlName, p.ControlBytes, p.Path)
	printCurve(out, *p.Control, "gin")
}

// printMisses says, under a page's table, whose limit each miss was.
func printMisses(out io.Writer, p PageCurve) {
	for _, m := range p.Misses {
		switch {
		case m.ServerNeeds >= 1:
			fmt.Fprintf(out, "  missed %.2f×: the rate offered needs %.0f%% of the server's CPU at the page's CPU a request: the miss is the server's\n",
				m.Multiple, 100*m.ServerNeeds)
		case m.ControlSustained:
			fmt.Fprintf(out, "  missed %.2f×: the control (bare gin, as many bytes) sustained %.2f× (p99 %.2f ms): the miss is the server's\n",
				m.Multiple, m.Multiple, m.ControlP99)
		case m.ControlRan:
			fmt.Fprintf(out, "  missed %.2f×: the control missed too (p99 %.2f ms): the client's limit\n", m.Multiple, m.ControlP99)
		default:
			fmt.Fprintf(out, "  missed %.2f×: the control stopped before it, far past its limit: the client's limit\n", m.Multiple)
		}
	}
}
