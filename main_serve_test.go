package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write from the server and read from
// the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServe(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr syncBuffer
	exit := make(chan int, 1)
	db := filepath.Join(t.TempDir(), "plenary.db")
	go func() {
		exit <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", db}, nil, io.Discard, &stderr)
	}()

	// Wait (bounded) for the log line that says where it listens.
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; {
		if m := regexp.MustCompile(`Plenary is serving" addr=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", stderr.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("it answers health checks", func(t *testing.T) {
		resp, err := http.Get(base + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: %v %v", resp, err)
		}
		resp.Body.Close()
	})
	t.Run("a first start loads the starter library and prints a one-time setup link", func(t *testing.T) {
		log := stderr.String()
		if !strings.Contains(log, "loaded the starter library") {
			t.Errorf("no starter library in the log:\n%s", log)
		}
		m := regexp.MustCompile(`Create the founding admin: (\S+)`).FindStringSubmatch(log)
		if m == nil {
			t.Fatalf("no setup link in the log:\n%s", log)
		}
		resp, err := http.Get(m[1])
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET the setup link: %v %v", resp, err)
		}
		resp.Body.Close()
		if strings.Contains(log, "token=") && strings.Contains(log, "path=/setup?") {
			t.Error("the request log carries the setup token")
		}
	})
	t.Run("it stops gracefully when told to", func(t *testing.T) {
		stop()
		select {
		case code := <-exit:
			if code != 0 {
				t.Errorf("exit code %d; log:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the server did not stop")
		}
		if !strings.Contains(stderr.String(), "stopped") {
			t.Errorf("no clean stop in the log:\n%s", stderr.String())
		}
	})
}
