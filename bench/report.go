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
	"unicode/utf8"
)

// Results are every figure of a run; the JSON line is this, marshalled.
type Results struct {
	Machine  Machine       `json:"machine"`
	Setup    Setup         `json:"setup"`
	Votes    VoteFigures   `json:"votes"`
	Reads    []ReadFigures `json:"reads"`
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

// Target is one of issue 5's targets, judged.
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

// judge works out the ratios to the ceilings and checks issue 5's targets.
func (r *Results) judge() {
	if raw := r.Ceilings.rawInserts(); raw > 0 {
		r.Votes.Ratio = round(r.Votes.PerSec/raw, 2)
	}
	for i := range r.Reads {
		if r.Ceilings.Gin.PerSec > 0 {
			r.Reads[i].Ratio = round(r.Reads[i].PerSec/r.Ceilings.Gin.PerSec, 3)
		}
	}
	add := func(name string, met bool, format string, args ...any) {
		r.Targets = append(r.Targets, Target{Name: name, Got: fmt.Sprintf(format, args...), Met: met})
	}
	v := r.Votes
	add("votes ≥ 1.0× raw insert rate", v.Ratio >= 1.0, "%.2f×", v.Ratio)
	add(fmt.Sprintf("vote p99 < 50 ms at %d voters", v.Voters), v.P99 < 50 && v.Count > 0, "%.1f ms", v.P99)
	add("votes: no errors, all counted", v.ErrorCount() == 0 && v.Logins.ErrorCount() == 0 && v.Verified && v.Count > 0,
		"%d vote errors, %d login errors, verified %t", v.ErrorCount(), v.Logins.ErrorCount(), v.Verified)
	for _, p := range r.Reads {
		add(p.Name+" ≥ 0.3× gin", p.Ratio >= 0.3 && p.ErrorCount() == 0, "%.3f×, %d errors", p.Ratio, p.ErrorCount())
		add(fmt.Sprintf("%s p99 < 25 ms at %d conns", p.Name, r.Setup.Conns), p.P99 < 25 && p.Count > 0, "%.1f ms", p.P99)
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

// print writes the human table, then the JSON as the very last line.
func (r *Results) print(out io.Writer) {
	fmt.Fprintf(out, "\nPlenary bench on %d × %s, %s, %s; load average %.2f before, %.2f after\n",
		r.Machine.CPUs, r.Machine.CPU, r.Machine.OS, r.Machine.Go, r.Machine.LoadBefore, r.Machine.LoadAfter)
	closed := "found closed"
	if r.Setup.ClosedCreated {
		closed = "a one-minute ballot the bench started"
	}
	fmt.Fprintf(out, "%s, %d Plenary process(es); %d members + an admin (%s); %d voters on ballot(s) %v; closed result page: proposal %d (%s)\n\n",
		r.Setup.Backend, r.Setup.Processes, r.Setup.Members, r.Setup.Populated, r.Setup.Voters, r.Setup.OpenBallots, r.Setup.ClosedBallot, closed)

	// Numbers align right; the names are padded so they still read left.
	names := []string{fmt.Sprintf("votes (%d voters, %d votes)", r.Votes.Voters, r.Votes.Count),
		fmt.Sprintf("  their logins (%d at a time)", r.Setup.LoginConcurrency),
		r.Ceilings.rawLabel(), fmt.Sprintf("ceiling: minimal gin (%d conns)", r.Setup.Conns)}
	for _, p := range r.Reads {
		names = append(names, fmt.Sprintf("%s  %s", p.Name, p.Path))
	}
	width := 0
	for _, n := range names {
		width = max(width, utf8.RuneCountInString(n))
	}
	name := func(i int) string { return names[i] + strings.Repeat(" ", width-utf8.RuneCountInString(names[i])) }
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tper s\tp50 ms\tp99 ms\tmax ms\terrors\tserver CPU ms/req\tratio to ceiling\t\n", strings.Repeat(" ", width))
	row := func(i int, s Stats, ratio string) {
		cpu := ""
		if s.ServerCPU > 0 {
			cpu = fmt.Sprintf("%.2f", s.ServerCPU)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t\n", name(i), s.PerSec, s.P50, s.P99, s.Max, errorText(s), cpu, ratio)
	}
	row(0, r.Votes.Stats, fmt.Sprintf("%.2f× raw inserts", r.Votes.Ratio))
	row(1, r.Votes.Logins, "")
	fmt.Fprintf(tw, "%s\t%.1f\t\t\t\t\t\t\t\n", name(2), r.Ceilings.rawInserts())
	row(3, r.Ceilings.Gin, "")
	for i, p := range r.Reads {
		row(4+i, p.Stats, fmt.Sprintf("%.3f× gin", p.Ratio))
	}
	tw.Flush()

	var phases []string
	for _, p := range r.Memory.Phases {
		phases = append(phases, fmt.Sprintf("%s %.1f", p, r.Memory.ByPhaseMB[p]))
	}
	fmt.Fprintf(out, "\nserver memory: peak %.1f MB (VmHWM); sampled VmRSS peak by phase, MB: %s\n",
		r.Memory.PeakMB, strings.Join(phases, ", "))
	fmt.Fprintf(out, "vote check: %s\n", strings.Join(r.Votes.Turnout, "; "))
	fmt.Fprintf(out, "server log: %d lines, %d warnings, %d errors; exit code %d\n",
		r.Server.Lines, r.Server.Warnings, r.Server.Errors, r.Server.ExitCode)
	for _, s := range r.Server.Samples {
		fmt.Fprintf(out, "  %s\n", s)
	}

	fmt.Fprintf(out, "\ntargets (issue 5)\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		verdict := "missed"
		if t.Met {
			verdict = "met"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.Got, verdict)
	}
	tw.Flush()
	printEnd(out, r.Notes, r)
}

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
