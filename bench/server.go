package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The bench's people. Every member shares one password, so that logging in
// costs the server the same argon2id check it costs a real member.
const (
	password   = "bench-load-passphrase-2026"
	adminEmail = "bench-admin@example.org"
)

func voterEmail(i int) string { return fmt.Sprintf("voter-%05d@example.org", i) }

// build compiles the real binary from the module this bench belongs to.
func build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("run bench from inside the plenary module")
	}
	bin := filepath.Join(dir, "plenary")
	progress("building %s", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "sqlite_fts5", "-o", bin, ".")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// childEnv is our environment without PLENARY_ settings, which could point
// the child at another database or make its cookies Secure, plus the
// members' password.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLENARY_") {
			env = append(env, kv)
		}
	}
	return append(env, "PLENARY_PASSWORD="+password)
}

// population says how the database was filled and with whom.
type population struct {
	how    string   // "demo" or "member add"
	voters []string // emails; nil when demo chose them
}

// populate fills the database with -members members and an admin, with
// "plenary demo" when the binary has it (much faster: it need not hash
// each password separately), and otherwise one "plenary member add" each.
func populate(ctx context.Context, bin, dbPath string, cfg config) (population, error) {
	if help, ok := demoHelp(ctx, bin); ok {
		args := []string{"demo", "-db", dbPath, "-members", strconv.Itoa(cfg.members)}
		// Keep the rest of a demo co-op small: the bench measures votes
		// and pages, not how long demo takes to write a large one.
		for _, f := range []struct{ name, value string }{{"resources", "200"}, {"proposals", "20"}, {"votes", "2000"}} {
			if strings.Contains(help, "-"+f.name) {
				args = append(args, "-"+f.name, f.value)
			}
		}
		progress("populating with: plenary %s", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = childEnv()
		out, err := cmd.CombinedOutput()
		if err == nil {
			if err := addMembers(ctx, bin, dbPath, []string{adminEmail}, "admin", 1); err != nil {
				return population{}, err
			}
			return population{how: "demo"}, nil
		}
		progress("plenary demo failed (%v), falling back to member add:\n%s", err, tail(string(out), 10))
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(dbPath + suffix)
		}
	}
	// The admin goes first, alone, so that one process creates the schema.
	start := time.Now()
	progress("adding an admin and %d members with plenary member add", cfg.members)
	if err := addMembers(ctx, bin, dbPath, []string{adminEmail}, "admin", 1); err != nil {
		return population{}, err
	}
	voters := make([]string, cfg.members)
	for i := range voters {
		voters[i] = voterEmail(i + 1)
	}
	if err := addMembers(ctx, bin, dbPath, voters, "member", 4); err != nil {
		return population{}, err
	}
	progress("added %d members in %s", cfg.members+1, time.Since(start).Round(100*time.Millisecond))
	return population{how: "member add", voters: voters}, nil
}

// demoHelp says whether the binary has a demo command ("plenary demo -h"
// exits 0), and returns its help to see which flags it takes.
func demoHelp(ctx context.Context, bin string) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "demo", "-h").CombinedOutput()
	return string(out), err == nil
}

// addMembers runs "plenary member add" for each email, parallel at a time:
// each hashes a password with argon2id, which is meant to be slow.
func addMembers(ctx context.Context, bin, dbPath string, emails []string, role string, parallel int) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := fmt.Sprintf("Bench %s %d", role, i+1)
				cmd := exec.CommandContext(ctx, bin, "member", "add", "-db", dbPath, "-email", emails[i], "-name", name, "-role", role)
				cmd.Env = childEnv()
				if out, err := cmd.CombinedOutput(); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("plenary member add %s: %v: %s", emails[i], err, strings.TrimSpace(string(out)))
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range emails {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed || ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// server is the plenary child process.
type server struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	exited  chan struct{}
	waitErr error
	once    sync.Once
}

// startServer starts "plenary serve" on a free loopback port and waits
// until /healthz answers.
func startServer(ctx context.Context, bin, dbPath, dir string, extra ...string) (*server, error) {
	return startServerLogging(ctx, bin, dbPath, filepath.Join(dir, "server.log"), extra...)
}

// startServerLogging is startServer with the log at logPath.
// extra are more flags for plenary serve.
func startServerLogging(ctx context.Context, bin, dbPath, logPath string, extra ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{base: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = measured.command(bin, append([]string{"serve", "-addr", addr, "-db", dbPath, "-base-url", s.base}, extra...)...)
	s.cmd.Env = childEnv()
	if serverProfile != "" {
		s.cmd.Env = append(s.cmd.Env, "PLENARY_CPUPROFILE="+serverProfile)
	}
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start plenary: %w", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	progress("started plenary serve (pid %d) on %s", s.cmd.Process.Pid, s.base)

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("plenary serve exited (%v):\n%s", s.waitErr, s.logTail(20))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := client.Get(s.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("plenary serve did not answer /healthz within 30 s:\n%s", s.logTail(20))
}

// measured is where the measured side runs (pin.go); serverProfile, if
// set, is where a server writes its CPU profile when signalled.
var (
	measured      pinning
	serverProfile string
)

// profileSignal starts and stops a server's CPU profile (serve.go).
const profileSignal = syscall.SIGUSR1

// signal sends the server a signal.
func (s *server) signal(sig os.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil {
		progress("signal %v to the server: %v", sig, err)
	}
}

// freeAddr finds a loopback port nobody is listening on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// stop asks the server to finish (SIGTERM) and kills it if it has not
// within 25 s; its own graceful shutdown allows 20.
func (s *server) stop() {
	s.once.Do(func() {
		select {
		case <-s.exited:
			return
		default:
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(25 * time.Second):
			progress("plenary did not stop within 25 s of SIGTERM; killing it")
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

func (s *server) logTail(n int) string {
	b, _ := os.ReadFile(s.logPath)
	return tail(string(b), n)
}

func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ServerLog sums up what the server logged: every request is an info line,
// so warnings and errors are what deserve a look.
type ServerLog struct {
	Lines    int      `json:"lines"`
	Warnings int      `json:"warnings"`
	Errors   int      `json:"errors"`
	Samples  []string `json:"samples,omitempty"`
	ExitCode int      `json:"exit_code"`
}

func (s *server) logSummary() ServerLog {
	var sum ServerLog
	if s.cmd.ProcessState != nil {
		sum.ExitCode = s.cmd.ProcessState.ExitCode()
	}
	f, err := os.Open(s.logPath)
	if err != nil {
		return sum
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		sum.Lines++
		warn, bad := bytes.Contains(line, []byte("level=WARN")), bytes.Contains(line, []byte("level=ERROR"))
		if warn {
			sum.Warnings++
		}
		if bad {
			sum.Errors++
		}
		if (warn || bad) && len(sum.Samples) < 5 {
			sum.Samples = append(sum.Samples, string(line[:min(len(line), 300)]))
		}
	}
	return sum
}

// memoryWatch samples the server's resident memory every 500 ms, keeping
// the peak of each phase of the run.
type memoryWatch struct {
	pid   int
	mu    sync.Mutex
	phase string
	peaks map[string]int64 // kB
	order []string
	done  chan struct{}
	once  sync.Once
}

func (s *server) watchMemory() *memoryWatch {
	m := &memoryWatch{pid: s.cmd.Process.Pid, phase: "start", peaks: map[string]int64{}, done: make(chan struct{})}
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			m.sample()
			select {
			case <-m.done:
				return
			case <-s.exited:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *memoryWatch) sample() {
	kb, err := procStatus(m.pid, "VmRSS")
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, seen := m.peaks[m.phase]; !seen {
		m.order = append(m.order, m.phase)
	}
	m.peaks[m.phase] = max(m.peaks[m.phase], kb)
}

// setPhase starts a new phase; its first sample is taken now.
func (m *memoryWatch) setPhase(name string) {
	m.mu.Lock()
	m.phase = name
	m.mu.Unlock()
	m.sample()
}

// peakOf is phase's peak so far, in MB.
func (m *memoryWatch) peakOf(phase string) float64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return mb(m.peaks[phase])
}

func (m *memoryWatch) stop() { m.once.Do(func() { close(m.done) }) }

// MemoryFigures are the server's resident memory in MB.
type MemoryFigures struct {
	PeakMB        float64            `json:"peak_mb"` // VmHWM: the kernel's own high-water mark
	SampledPeakMB float64            `json:"sampled_peak_mb"`
	ByPhaseMB     map[string]float64 `json:"by_phase_mb"`
	Phases        []string           `json:"-"`
}

func (m *memoryWatch) figures() MemoryFigures {
	m.sample()
	f := MemoryFigures{ByPhaseMB: map[string]float64{}}
	if hwm, err := procStatus(m.pid, "VmHWM"); err == nil {
		f.PeakMB = mb(hwm)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.order {
		f.ByPhaseMB[p] = mb(m.peaks[p])
		f.SampledPeakMB = max(f.SampledPeakMB, mb(m.peaks[p]))
	}
	f.Phases = m.order
	return f
}

func mb(kb int64) float64 { return round(float64(kb)/1024, 1) }

// cpu is the CPU time the server has used so far, user and system, from
// /proc/PID/stat (in clock ticks of 1/100 s, Linux's USER_HZ).
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// loadAverage is the one-minute load average: on a shared machine it says
// how much else was running.
func loadAverage() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	x, _ := strconv.ParseFloat(f[0], 64)
	return x
}

// procStatus reads one "Name: N kB" line of /proc/PID/status.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
