package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
)

// Results are every figure of a run; the JSON line is this, marshalled.
type Results struct {
	Machine  Machine       `json:"machine"`
	Setup    Setup         `json:"setup"`
	Pinning  pinning       `json:"pinning"`
	Votes    VoteCurve     `json:"votes"`
	Reads    []PageCurve   `json:"reads"`
	Ceilings Ceilings      `json:"ceilings"`
	Memory   MemoryFigures `json:"memory"`
	Server   ServerLog     `json:"server_log"`
	Targets  []Target      `json:"targets"`
	Met      bool          `json:"all_targets_met"`
	Notes    []string      `json:"notes,omitempty"`
}

// Machine says where the figures came from.
type Machine struct {
	CPUs int    `json:"cpus"`
	CPU  string `json:"cpu"`
	OS   string `json:"os"`
	Go   string `json:"go"`
	// The one-minute load average before and after: other work on the
	// machine lowers every rate, ceilings included.
	LoadBefore float64 `json:"load_before"`
	LoadAfter  float64 `json:"load_after"`
}

// Setup is what was measured: how many, and on which ballots.
type Setup struct {
	Members          int     `json:"members"`
	Voters           int     `json:"voters"`
	LoginConcurrency int     `json:"login_concurrency"`
	Conns            int     `json:"conns"`
	DurationS        float64 `json:"duration_s"`
	Populated        string  `json:"populated_with"`
	OpenBallots      []int64 `json:"open_ballots"`
	ClosedBallot     int64   `json:"closed_ballot"`
	ClosedCreated    bool    `json:"closed_ballot_created"`
	Backend          string  `json:"backend"`
	Processes        int     `json:"processes"`
}

// Target is one of issue 17's targets, judged.
type Target struct {
	Name string `json:"name"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

func newResults(cfg config) *Results {
	return &Results{
		Machine: thisMachine(),
		Setup: Setup{Members: cfg.members, LoginConcurrency: cfg.loginConcurrency, Conns: cfg.conns,
			DurationS: cfg.duration.Seconds(), Backend: cfg.backend, Processes: cfg.processes},
	}
}

func thisMachine() Machine {
	return Machine{CPUs: runtime.NumCPU(), CPU: cpuModel(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return "unknown"
}

// judge checks issue 17's targets, and sets whose limit each page's
// misses were.
func (r *Results) judge() {
	r.blameMisses()
	add := func(name string, met bool, format string, args ...any) {
		r.Targets = append(r.Targets, Target{Name: name, Got: fmt.Sprintf(format, args...), Met: met})
	}
	v := r.Votes
	add("sustainable vote rate ≥ 2.0× raw inserts (p99 < 50 ms, no errors)", v.Ratio >= 2.0, "%.0f/s, %.2f×", v.Sustainable, v.Ratio)
	add("every acknowledged vote stored", v.Verified && v.Voters > 0, "verified %t: %d open-ballot voters checked, %d left out (overlapping votes)",
		v.Verified, v.Checked, v.Overlapped)
	voteCPU, pageCPU := r.voteCPU(), r.pageCPU()
	add("server CPU per vote ≤ 2× per page", voteCPU > 0 && pageCPU > 0 && voteCPU <= 2*pageCPU, "%.3f ms a vote, %.3f ms a page: %.1f×",
		voteCPU, pageCPU, voteCPU/max(pageCPU, 1e-9))
	for _, p := range r.Reads {
		add(p.Name+": sustainable ≥ 0.3× gin (p99 < 25 ms, no errors)", p.Ratio >= 0.3, "%.0f/s, %.2f×", p.Sustainable, p.Ratio)
	}
	add("server memory < 200 MB", r.Memory.PeakMB > 0 && r.Memory.PeakMB < 200, "%.1f MB", r.Memory.PeakMB)
	if busy := float64(r.Machine.CPUs) / 2; r.Machine.LoadBefore > busy || r.Machine.LoadAfter > busy {
		r.Notes = append(r.Notes, fmt.Sprintf("the machine was busy with other work (load average %.2f before, %.2f after, on %d CPUs): "+
			"every rate is lower than on a quiet machine, ceilings included; server CPU per request is the steadier figure",
			r.Machine.LoadBefore, r.Machine.LoadAfter, r.Machine.CPUs))
	}
	r.Met = true
	for _, t := range r.Targets {
		r.Met = r.Met && t.Met
	}
}

// voteCPU is the server's CPU per vote at the 1× step, where the server
// is busy but not swamped.
func (r *Results) voteCPU() float64 { return cpuAt(r.Votes.Steps, 1) }

// pageCPU is the pages' mean server CPU per request at 0.3× gin.
func (r *Results) pageCPU() float64 {
	sum, n := 0.0, 0
	for _, p := range r.Reads {
		if c := cpuAt(p.Steps, 0.3); c > 0 {
			sum, n = sum+c, n+1
		}
	}
	if n == 0 {
		return 0
	}
	return round(sum/float64(n), 3)
}

func cpuAt(steps []Step, multiple float64) float64 {
	for _, s := range steps {
		if s.Multiple == multiple {
			return s.ServerCPU
		}
	}
	return 0
}

// print writes the human tables, then the JSON as the very last line.
func (r *Results) print(out io.Writer) {
	fmt.Fprintf(out, "\nPlenary bench on %d × %s, %s, %s; load average %.2f before, %.2f after; %s\n",
		r.Machine.CPUs, r.Machine.CPU, r.Machine.OS, r.Machine.Go, r.Machine.LoadBefore, r.Machine.LoadAfter, r.Pinning)
	closed := "found closed"
	if r.Setup.ClosedCreated {
		closed = "a one-minute ballot the bench started"
	}
	fmt.Fprintf(out, "%s, %d Plenary process(es); %d members + an admin (%s); closed result page: proposal %d (%s)\n\n",
		r.Setup.Backend, r.Setup.Processes, r.Setup.Members, r.Setup.Populated, r.Setup.ClosedBallot, closed)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "ceiling\tper s\tp50 ms\tp99 ms\tserver CPU ms/req\t\n")
	fmt.Fprintf(tw, "%s\t%.1f\t\t\t\t\n", r.Ceilings.rawLabel(), r.Ceilings.rawInserts())
	g := r.Ceilings.Gin
	fmt.Fprintf(tw, "minimal gin, closed loop at %d conns\t%.1f\t%.2f\t%.2f\t%.3f\t\n", r.Setup.Conns, g.PerSec, g.P50, g.P99, g.ServerCPU)
	tw.Flush()

	v := r.Votes
	fmt.Fprintf(out, "\nvotes: %d voters changing their votes on ballots %v (secret, open), each rate held %.0f s; logins %.1f/s, p99 %.0f ms, %s errors\n",
		v.Voters, v.Ballots, v.StepS, v.Logins.PerSec, v.Logins.P99, errorText(v.Logins))
	printCurve(out, v.Curve, "raw inserts")
	fmt.Fprintf(out, "sustainable vote rate: %.0f a second, %.2f× the raw insert rate (p99 < 50 ms, no errors)\n", v.Sustainable, v.Ratio)
	fmt.Fprintf(out, "vote check: %s; %d open-ballot voters' stored votes checked, %d left out (two votes in flight at once)\n",
		strings.Join(v.Turnout, "; "), v.Checked, v.Overlapped)

	for _, p := range r.Reads {
		printControl(out, p)
		fmt.Fprintf(out, "\n%s  %s (anonymous)\n", p.Name, p.Path)
		printCurve(out, p.Curve, "gin")
		fmt.Fprintf(out, "sustainable: %.0f a second, %.2f× gin (p99 < 25 ms, no errors)\n", p.Sustainable, p.Ratio)
		printMisses(out, p)
	}

	printServer(out, r.Memory, r.Server)

	fmt.Fprintf(out, "\ntargets (issue 17)\n")
	printTargets(out, r.Targets, func(Target) bool { return true })
	printEnd(out, r.Notes, r)
}

// printTargets writes the targets that show says to, each met or missed.
func printTargets(out io.Writer, targets []Target, show func(Target) bool) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, t := range targets {
		if !show(t) {
			continue
		}
		verdict := "missed"
		if t.Met {
			verdict = "met"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.Got, verdict)
	}
	tw.Flush()
}

// printCurve writes a curve's steps, one a row.
func printCurve(out io.Writer, c Curve, ceiling string) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "× %s\toffered/s\tachieved/s\tunsent\tp50 ms\tp99 ms\tmax ms\terrors\tserver CPU ms/req\tclient busy\tsustained\t\n", ceiling)
	for _, s := range c.Steps {
		fmt.Fprintf(tw, "%.2f\t%.0f\t%.1f\t%d\t%.2f\t%.2f\t%.1f\t%s\t%.3f\t%.0f%%\t%t\t\n", s.Multiple, s.Offered, s.Achieved, s.Unsent, s.P50, s.P99, s.Max,
			stepErrors(s), s.ServerCPU, 100*s.ClientBusy, s.Sustained)
	}
	tw.Flush()
}

func stepErrors(s Step) string { return errorText(Stats{Errors: s.Errors}) }

// printEnd prints the notes, then every figure as one line of JSON: the
// last line, for scripts (make bench | tail -n 1).
func printEnd(out io.Writer, notes []string, figures any) {
	for _, n := range notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
	fmt.Fprintln(out)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(figures); err != nil {
		fmt.Fprintf(out, "{\"error\":%q}\n", err.Error())
	}
}

func errorText(s Stats) string {
	if len(s.Errors) == 0 {
		return "0"
	}
	var parts []string
	for k, v := range s.Errors {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// printServer writes the server's memory by phase and its log's summary,
// as both the load run and the scale mode report them.
func printServer(out io.Writer, m MemoryFigures, l ServerLog) {
	var phases []string
	for _, p := range m.Phases {
		phases = append(phases, fmt.Sprintf("%s %.1f", p, m.ByPhaseMB[p]))
	}
	fmt.Fprintf(out, "\nserver memory: peak %.1f MB (VmHWM); sampled VmRSS peak by phase, MB: %s\n",
		m.PeakMB, strings.Join(phases, ", "))
	fmt.Fprintf(out, "server log: %d lines, %d warnings, %d errors; exit code %d\n", l.Lines, l.Warnings, l.Errors, l.ExitCode)
	for _, s := range l.Samples {
		fmt.Fprintf(out, "  %s\n", s)
	}
}
