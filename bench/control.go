package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The control curve. At the pages' higher steps the load generator is
// near its own limit: vegeta costs some 50 to 80 µs of client CPU a
// request, so at 0.3× gin its one CPU is mostly busy and its own
// scheduling inflates the p99 it reports, whatever the server does. The bare gin
// handler of the ceiling, offered the pages' very steps open loop by the
// same client, has no work of its own to be slow at: a step it does not
// sustain is beyond what this client can measure, and a page that misses
// a step the control sustained missed it on the server's side.

const controlName = "bare gin (control)"

// ginControl offers the bare gin handler, in a fresh child on the
// server's CPU as the closed-loop ceiling's, the pages' steps. Its CPU
// per request is the child's, so Plenary's idle process is not charged.
func ginControl(ctx context.Context, cfg config, gin float64) (*PageCurve, error) {
	child, stop, err := startGin()
	if err != nil {
		return nil, err
	}
	defer stop()
	targets := roundRobin([]string{child.base + "/"})
	// Untimed, a second at the lowest step first: the pages' server has
	// served for minutes, and a fresh process's first second (its heap
	// growing, its first collections) must not pass for the client's
	// limit.
	progress("control: warming the bare gin handler up for 1s")
	attack(ctx, targets, pageMultiples[0]*gin, time.Second, http.StatusOK, child.cpu, nil)
	time.Sleep(time.Second)
	c := &PageCurve{Name: controlName, Path: "/"}
	c.Curve = pageSteps(ctx, targets, "control: bare gin /", cfg.pageFor, gin, child.cpu)
	return c, nil
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
	Limit      string  `json:"limit"` // "server" or "client"
}

// blameMisses sets each page's misses against the control's steps.
func (r *Results) blameMisses() {
	if r.Control == nil {
		return
	}
	for i := range r.Reads {
		p := &r.Reads[i]
		p.Misses = nil
		for _, s := range p.Steps {
			if !s.Sustained {
				p.Misses = append(p.Misses, missAgainst(r.Control.Steps, s.Multiple))
			}
		}
	}
}

// missAgainst is the verdict on a page's miss at multiple. A control that
// stopped before that step (far past its limit at a lower one) did not
// sustain it either.
func missAgainst(control []Step, multiple float64) Miss {
	m := Miss{Multiple: multiple, Limit: "client"}
	for _, c := range control {
		if c.Multiple == multiple {
			m.ControlRan, m.ControlSustained, m.ControlP99 = true, c.Sustained, c.P99
		}
	}
	if m.ControlSustained {
		m.Limit = "server"
	}
	return m
}

// printControl writes the control's table, before the pages'.
func (r *Results) printControl(out io.Writer) {
	c := r.Control
	if c == nil {
		return
	}
	fmt.Fprintf(out, "\n%s  %s (the ceiling's handler, a fresh child on the server's CPU, offered the pages' steps open loop)\n", c.Name, c.Path)
	fmt.Fprintf(out, "a step the bare handler does not sustain is beyond what this client can measure\n")
	printCurve(out, c.Curve, "gin")
	fmt.Fprintf(out, "sustainable: %.0f a second, %.2f× gin (p99 < 25 ms, no errors)\n", c.Sustainable, c.Ratio)
}

// printMisses says, under a page's table, whose limit each miss was.
func printMisses(out io.Writer, p PageCurve) {
	for _, m := range p.Misses {
		switch {
		case m.ControlSustained:
			fmt.Fprintf(out, "  missed %.2f×: control (bare gin) sustained %.2f× (p99 %.2f ms): the miss is the server's\n",
				m.Multiple, m.Multiple, m.ControlP99)
		case m.ControlRan:
			fmt.Fprintf(out, "  missed %.2f×: the control missed too (p99 %.2f ms): the client's limit\n", m.Multiple, m.ControlP99)
		default:
			fmt.Fprintf(out, "  missed %.2f×: the control stopped before it, far past its limit: the client's limit\n", m.Multiple)
		}
	}
}
