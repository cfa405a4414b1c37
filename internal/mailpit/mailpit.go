// Package mailpit runs a real SMTP server for tests: Mailpit, installed at
// a pinned version into .tools/ by `make deps`, on free loopback ports with
// a database of its own, stopped when the test ends. Tests read what was
// delivered through its HTTP API. It is for tests only, like webtest.
package mailpit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options change how Mailpit runs.
type Options struct {
	// AllowedRecipients, when set, is a regular expression (Go's syntax,
	// matched against the address): Mailpit refuses every other recipient
	// with "550 5.1.0 mailbox unavailable", a permanent failure for that
	// address alone. For example `@example\.org$` lets every address at
	// example.org through and refuses bounce@refused.invalid.
	AllowedRecipients string
}

// Server is one running Mailpit.
type Server struct {
	// SMTPAddr is host:port of its SMTP server; API the base URL of its
	// HTTP API (http://127.0.0.1:PORT).
	SMTPAddr string
	API      string

	t    testing.TB
	opt  Options
	dir  string
	http *http.Client

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Binary returns the path of the Mailpit that `make deps` installs, or
// fails the test saying how to get it.
func Binary(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	bin := filepath.Join(root, ".tools", "mailpit")
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Fatalf("mailpit: %s is missing: run make deps (it installs github.com/axllent/mailpit v1.33.1 there)", bin)
	}
	return bin
}

// moduleRoot is the directory of the go.mod above the working directory
// (a test runs in its package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start runs Mailpit on free loopback ports and waits until both its SMTP
// server and its API answer. It is stopped when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin := Binary(t)
	s := &Server{t: t, opt: opt, dir: t.TempDir(), http: &http.Client{Timeout: 30 * time.Second}}
	s.SMTPAddr, s.API = freeAddr(t), "http://"+freeAddr(t)
	t.Cleanup(s.Stop)
	if err := s.start(bin); err != nil {
		t.Fatal(err)
	}
	return s
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *Server) start(bin string) error {
	args := []string{
		"--database", filepath.Join(s.dir, "mailpit.db"),
		"--smtp", s.SMTPAddr,
		"--listen", strings.TrimPrefix(s.API, "http://"),
		"--disable-version-check",
		"--smtp-disable-rdns",
		// Any login, and a login without TLS: Plenary's sender logs in
		// only over TLS or to localhost, which this is.
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		// Keep every message (the default drops all but the newest 500),
		// however many a benchmark sends.
		"--max", "0",
		"--quiet",
	}
	if s.opt.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", s.opt.AllowedRecipients)
	}
	logFile, err := os.OpenFile(filepath.Join(s.dir, "mailpit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mailpit: start: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("mailpit: exited at start: %s", s.log())
		default:
		}
		if s.ready() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit: not answering after 15 s: %s", s.log())
}

// ready: the API says so and the SMTP port takes a connection.
func (s *Server) ready() bool {
	resp, err := s.http.Get(s.API + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "mailpit.log"))
	return strings.TrimSpace(string(b))
}

// Stop kills Mailpit: SMTP connections are then refused. The messages it
// took stay in its database for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	// Wait is the goroutine's in start; wait for the port to close.
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", s.SMTPAddr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart starts a stopped Mailpit again on the same ports and database.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(Binary(s.t)); err != nil {
		s.t.Fatal(err)
	}
}

// Address is a mailbox as Mailpit reports it.
type Address struct {
	Name    string
	Address string
}

// Summary is a message as Mailpit lists it.
type Summary struct {
	ID        string // Mailpit's own id
	MessageID string // the Message-ID header, without its angle brackets
	From      Address
	To        []Address
	Subject   string
	Created   time.Time
	Snippet   string
}

// Message is one message whole: its text and HTML bodies and its headers.
type Message struct {
	Summary
	Text            string
	HTML            string
	ListUnsubscribe struct {
		Header     string
		Links      []string
		Errors     string
		HeaderPost string
	}
	// Headers by their canonical names (Message-Id, List-Unsubscribe, …).
	Headers map[string][]string
}

// Header returns the first value of a header, or "".
func (m Message) Header(name string) string {
	for k, v := range m.Headers {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

type list struct {
	Total    int
	Count    int
	Messages []Summary
}

func (s *Server) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.API+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("mailpit: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit: GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("mailpit: GET %s: %w", path, err)
	}
	return nil
}

// Count is how many messages Mailpit holds.
func (s *Server) Count() int {
	s.t.Helper()
	var l list
	if err := s.get(context.Background(), "/api/v1/messages?limit=1", &l); err != nil {
		s.t.Fatal(err)
	}
	return l.Total
}

// Messages lists every message, newest first.
func (s *Server) Messages() []Summary {
	s.t.Helper()
	return s.pages("/api/v1/messages?")
}

// Search lists the messages matching a Mailpit search, such as
// `to:"jo@example.org"` or `subject:"Voting is open"`, newest first.
func (s *Server) Search(query string) []Summary {
	s.t.Helper()
	return s.pages("/api/v1/search?query=" + url.QueryEscape(query) + "&")
}

// ByMessageID lists the messages with that Message-ID (with or without its
// angle brackets): more than one is a duplicate.
func (s *Server) ByMessageID(id string) []Summary {
	s.t.Helper()
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	var out []Summary
	for _, m := range s.Search(`message-id:"` + id + `"`) {
		if m.MessageID == id { // the search matches parts of ids too
			out = append(out, m)
		}
	}
	return out
}

// To lists the messages to an address, newest first.
func (s *Server) To(address string) []Summary {
	s.t.Helper()
	return s.Search(`to:"` + address + `"`)
}

func (s *Server) pages(path string) []Summary {
	s.t.Helper()
	const limit = 1000
	var out []Summary
	for start := 0; ; start += limit {
		var l list
		if err := s.get(context.Background(), path+"start="+strconv.Itoa(start)+"&limit="+strconv.Itoa(limit), &l); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, l.Messages...)
		if len(l.Messages) < limit || len(out) >= l.Total {
			return out
		}
	}
}

// Message returns one message, by Mailpit's id, with its bodies and
// headers.
func (s *Server) Message(id string) Message {
	s.t.Helper()
	var m Message
	if err := s.get(context.Background(), "/api/v1/message/"+url.PathEscape(id), &m); err != nil {
		s.t.Fatal(err)
	}
	if err := s.get(context.Background(), "/api/v1/message/"+url.PathEscape(id)+"/headers", &m.Headers); err != nil {
		s.t.Fatal(err)
	}
	return m
}

// Wait waits until Mailpit holds at least n messages, and returns how many
// it holds; the test fails if it takes longer than d.
func (s *Server) Wait(n int, d time.Duration) int {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := s.Count()
		if got >= n {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mailpit: %d messages after %v, want %d", got, d, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Clear deletes every message.
func (s *Server) Clear() {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodDelete, s.API+"/api/v1/messages", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("mailpit: delete messages: %s", resp.Status)
	}
}
