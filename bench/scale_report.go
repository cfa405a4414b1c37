package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// The scale mode's verdicts and its report.

// judge checks issue 5's targets that this run measures.
func (r *ScaleResults) judge() {
	add := func(name string, met bool, format string, args ...any) {
		r.Targets = append(r.Targets, Target{Name: name, Got: fmt.Sprintf(format, args...), Met: met})
	}
	for _, p := range r.Pages {
		s, c := p.Sequential, p.Concurrent
		add(fmt.Sprintf("%s as %s: p95 < 50 ms", p.Path, p.As), s.Count > 0 && s.P95 < 50 && s.errorCount() == 0,
			"%.1f ms, %d errors", s.P95, s.errorCount())
		// Issue 17: the same over the concurrent connections.
		add(fmt.Sprintf("%s as %s: %d-conn p95 < 50 ms", p.Path, p.As, r.Conns), c.Count > 0 && c.P95 < 50 && c.errorCount() == 0,
			"%.1f ms, %d errors", c.P95, c.errorCount())
	}
	add(fmt.Sprintf("open a ballot (roll of %d) < 1 s", r.Open.RollSize), r.Open.OpenMS > 0 && r.Open.OpenMS < 1000 && r.Open.RollSize > 0,
		"%.0f ms", r.Open.OpenMS)
	if m := r.Mail; m != nil {
		add(fmt.Sprintf("every voting_opened message (roll of %d) committed with the open", m.RollSize),
			m.RollSize > 0 && m.QueuedWithOpen == m.RollSize, "%d queued", m.QueuedWithOpen)
		add("the sender delivers ≥ 300 messages/s to a local Mailpit", m.PerSec >= 300 && m.Sent == m.QueuedWithOpen && m.Failed == 0,
			"%.0f messages/s, %d of %d sent, %d failed", m.PerSec, m.Sent, m.QueuedWithOpen, m.Failed)
		add("server memory while sending < 200 MB", m.PeakMB > 0 && m.PeakMB < 200, "%.1f MB", m.PeakMB)
	}
	add("ledger verify < 10 s", r.Ledger.OK && r.Ledger.Seconds < 10, "%.2f s", r.Ledger.Seconds)
	add("server memory < 200 MB", r.Memory.PeakMB > 0 && r.Memory.PeakMB < 200, "%.1f MB", r.Memory.PeakMB)
	for _, t := range r.Tallies {
		if !t.OK {
			r.Notes = append(r.Notes, "tally verify failed: "+t.Output)
		}
	}
	if !r.After.OK {
		r.Notes = append(r.Notes, "ledger verify failed after the run's writes: "+r.After.Output)
	}
	if r.Database.LatestRoll > 0 && r.Open.RollSize > 0 && r.Open.RollSize != r.Database.LatestRoll {
		r.Notes = append(r.Notes, fmt.Sprintf("the new roll holds %d, the latest closed ballot's %d", r.Open.RollSize, r.Database.LatestRoll))
	}
	if busy := float64(r.Machine.CPUs) / 2; r.Machine.LoadBefore > busy || r.Machine.LoadAfter > busy {
		r.Notes = append(r.Notes, fmt.Sprintf("the machine was busy with other work (load average %.2f before, %.2f after, on %d CPUs): "+
			"every time is longer than on a quiet machine", r.Machine.LoadBefore, r.Machine.LoadAfter, r.Machine.CPUs))
	}
	r.Met = true
	for _, t := range r.Targets {
		r.Met = r.Met && t.Met
	}
}

// print writes the tables, then the JSON as the very last line.
func (r *ScaleResults) print(out io.Writer) {
	fmt.Fprintf(out, "\nPlenary scale bench on %d × %s, %s, %s; load average %.2f before, %.2f after\n",
		r.Machine.CPUs, r.Machine.CPU, r.Machine.OS, r.Machine.Go, r.Machine.LoadBefore, r.Machine.LoadAfter)
	d := r.Database
	fmt.Fprintf(out, "%s, in place: %.0f MB (grew %.2f MB); %d resources, %d closed ballots, latest roll %d\n",
		d.Path, d.SizeMB, d.GrewMB, d.Resources, d.ClosedBallots, d.LatestRoll)
	fmt.Fprintf(out, "server answered /healthz %.2f s after starting; the admin's login took %.0f ms\n", r.StartS, r.LoginMS)
	fmt.Fprintf(out, "pages: the first request (cold), then %d one at a time and %d over %d connections; the targets are on both p95s; read as %s\n\n",
		r.Requests, r.Requests, r.Conns, r.Member)

	width := 0
	for _, p := range r.Pages {
		width = max(width, utf8.RuneCountInString(p.Path))
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tas\tcold ms\tp50 ms\tp95 ms\tmax ms\terrors\t%d-conn p95 ms\t%d-conn per s\tp95 < 50 ms\t%d-conn p95 < 50 ms\t\n",
		strings.Repeat(" ", width), r.Conns, r.Conns, r.Conns)
	verdict := func(l Latency) string {
		if l.Count > 0 && l.P95 < 50 && l.errorCount() == 0 {
			return "met"
		}
		return "missed"
	}
	for _, p := range r.Pages {
		s, c := p.Sequential, p.Concurrent
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%.1f\t%.1f\t%s\t%s\t\n",
			p.Path+strings.Repeat(" ", width-utf8.RuneCountInString(p.Path)), p.As, p.ColdMS, s.P50, s.P95, s.Max,
			s.errorCount()+c.errorCount(), c.P95, c.PerSec, verdict(s), verdict(c))
	}
	tw.Flush()

	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  open a motion now (POST /proposals/new), roll of %d\t%.0f ms\n", r.Open.RollSize, r.Open.OpenMS)
	fmt.Fprintf(tw, "  vote on it (POST /proposals/%d/vote)\t%.0f ms\n", r.Open.ProposalID, r.Open.VoteMS)
	closed := "still open at the end of the run"
	if r.Open.Closed {
		closed = "waited out: closed"
	}
	fmt.Fprintf(tw, "  its voting period (the motion rule's shortest)\tuntil %s\t%s\n", r.Open.ClosesAt.Format("15:04:05 UTC"), closed)
	if m := r.Mail; m != nil {
		fmt.Fprintf(tw, "  voting_opened messages in the outbox as the open returned\t%d of a roll of %d\n", m.QueuedWithOpen, m.RollSize)
		fmt.Fprintf(tw, "  delivered to Mailpit by the sender in plenary serve\t%d in %.1f s: %.0f messages/s\t%d failed; Mailpit holds %d\n",
			m.Sent, m.Seconds, m.PerSec, m.Failed, m.InMailpit)
		fmt.Fprintf(tw, "  server memory while sending\t%.1f MB\n", m.PeakMB)
	}
	for _, c := range append(append([]CommandRun{r.Ledger}, r.Tallies...), r.After) {
		fmt.Fprintf(tw, "  plenary %s\t%.2f s\t%.0f MB\t%s\n", c.Args, c.Seconds, c.MaxRSSMB, c.Output)
	}
	tw.Flush()

	printServer(out, r.Memory, r.Server)

	met := 0
	for _, t := range r.Targets {
		if t.Met {
			met++
		}
	}
	fmt.Fprintf(out, "\ntargets (issue 5): %d of %d met\n", met, len(r.Targets))
	// Every page is in the table above; here only the misses.
	printTargets(out, r.Targets, func(t Target) bool { return !t.Met || !strings.HasSuffix(t.Name, "p95 < 50 ms") })
	printEnd(out, r.Notes, r)
}
