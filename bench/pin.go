package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Pinning (issue 17): on a machine with two CPUs or more, the load
// generator runs on CPU 0 and whatever it measures (Plenary, the bare gin
// handler, the raw inserts) on CPU 1, so that neither takes the other's
// time and a server's rate is its own CPU's. PostgreSQL's own processes
// are not pinned: they are the system's service.

// pinning says which CPUs the client and the measured side use; off when
// the machine has one CPU or -pin=false.
type pinning struct {
	On     bool `json:"on"`
	Client int  `json:"client_cpu"`
	Server int  `json:"server_cpu"`
}

func newPinning(want bool) pinning {
	if !want || runtime.NumCPU() < 2 {
		return pinning{}
	}
	return pinning{On: true, Client: 0, Server: 1}
}

func (p pinning) String() string {
	if !p.On {
		return "not pinned"
	}
	return fmt.Sprintf("client on CPU %d, server on CPU %d (taskset)", p.Client, p.Server)
}

// pinSelf moves every thread of this process onto the client's CPU; the
// threads the runtime starts later inherit it.
func (p pinning) pinSelf() error {
	if !p.On {
		return nil
	}
	var set unix.CPUSet
	set.Set(p.Client)
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("pin thread %d to CPU %d: %w", tid, p.Client, err)
		}
	}
	return nil
}

// command is exec.Command for the measured side: under taskset on the
// server's CPU when pinning.
func (p pinning) command(name string, args ...string) *exec.Cmd {
	if !p.On {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", strconv.Itoa(p.Server), name}, args...)...)
}
