package mail

import (
	"bufio"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"plenary/internal/mailpit"
)

// fakeSMTP accepts connections on addr (127.0.0.1:0 when empty) and
// speaks just enough SMTP to take messages, each sent on got with its
// envelope. rcpt, when set, answers each RCPT TO (given the address) in
// place of "250 ok"; auth lists the AUTH mechanisms it offers. Every
// command it is sent is recorded in the log.
type fakeSMTP struct {
	rcpt func(addr string) string
	auth string
	got  chan string
	mu   sync.Mutex
	cmds []string
}

func (f *fakeSMTP) start(t *testing.T, addr string) string {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f.got = make(chan string, 16)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return ln.Addr().String()
}

func (f *fakeSMTP) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

func (f *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(s string) { io.WriteString(conn, s+"\r\n") }
	say("220 fake ESMTP")
	var data strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		f.mu.Lock()
		f.cmds = append(f.cmds, strings.TrimSpace(line))
		f.mu.Unlock()
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-fake")
			if f.auth != "" {
				say("250-AUTH " + f.auth)
			}
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "AUTH"):
			say("235 ok")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			data.Reset()
			data.WriteString(strings.TrimSpace(line) + "\n")
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			data.WriteString(strings.TrimSpace(line) + "\n")
			reply := "250 ok"
			if f.rcpt != nil {
				addr := strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<>")
				reply = f.rcpt(addr)
			}
			say(reply)
		case cmd == "RSET":
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			say("250 queued")
			f.got <- data.String()
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 no")
		}
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSMTPSendsOneMessage(t *testing.T) {
	f := &fakeSMTP{}
	addr := f.start(t, "")
	s := SMTP{Addr: addr, From: "plenary@example.coop", Name: "Riverside Co-op — Büro"}
	link := "https://vote.example.coop/reset/" + strings.Repeat("A", 43)
	errs := s.Send(ctx(t), Message{To: "jo@example.org", ToName: "Jo Bloggs", Subject: "Choose a new password for Riverside Co-op — Büro",
		Text: "Hello Jo,\n\nOpen this link:\n\n" + link + "\n"})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	var raw string
	select {
	case raw = <-f.got:
	case <-time.After(5 * time.Second):
		t.Fatal("the server got no message")
	}
	envelope, msgText, _ := strings.Cut(raw, "\n")
	if !strings.Contains(envelope, "<plenary@example.coop>") || !strings.Contains(msgText, "RCPT TO:<jo@example.org>") {
		t.Errorf("envelope %q / %q: want from plenary@example.coop to jo@example.org", envelope, msgText)
	}
	_, msgText, _ = strings.Cut(msgText, "\n")
	msg, err := mail.ReadMessage(strings.NewReader(msgText))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, msgText)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "Choose a new password for Riverside Co-op — Büro" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Riverside Co-op — Büro" || from[0].Address != "plenary@example.coop" {
		t.Errorf("from %v (%v)", from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Jo Bloggs" || to[0].Address != "jo@example.org" {
		t.Errorf("to %v (%v)", to, err)
	}
	if msg.Header.Get("Date") == "" || msg.Header.Get("Message-Id") == "" {
		t.Errorf("no Date or Message-ID in %v", msg.Header)
	}
	if msg.Header.Get("Auto-Submitted") != "auto-generated" || msg.Header.Get("User-Agent") != "" || msg.Header.Get("X-Mailer") != "" {
		t.Errorf("headers %v: want Auto-Submitted, and no User-Agent or X-Mailer", msg.Header)
	}
	if msg.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("List-Unsubscribe %q on a message without an unsubscribe link", msg.Header.Get("List-Unsubscribe"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), link) {
		t.Errorf("the body does not hold the link whole:\n%s", body)
	}
}

func TestSMTPRefusesHeaderInjection(t *testing.T) {
	// Nothing listens there: a refused message never gets as far as
	// connecting.
	s := SMTP{Addr: "127.0.0.1:1", From: "plenary@example.coop"}
	for _, m := range []Message{
		{To: "jo@example.org\r\nBcc: all@example.org", Subject: "Hi", Text: "x"},
		{To: "jo@example.org", Subject: "Hi\r\nBcc: all@example.org", Text: "x"},
		{To: "jo@example.org", ToName: "Jo\nBcc: all@example.org", Subject: "Hi", Text: "x"},
		{To: "jo@example.org", Subject: "Hi", Text: "x", MessageID: "a@b>\r\nBcc: all@example.org"},
		{To: "jo@example.org", Subject: "Hi", Text: "x", Unsubscribe: "https://x/\nBcc: all@example.org"},
		{To: "jo@example.org", Subject: "Hi", Text: "x", Unsubscribe: "javascript:alert(1)"},
		{To: "jo@example.org", Subject: "Hi", Text: "x", MessageID: "no-at-sign"},
		{To: "Jo <jo@example.org>", Subject: "Hi", Text: "x"},
		{To: "not an address", Subject: "Hi", Text: "x"},
		{To: "", Subject: "Hi", Text: "x"},
	} {
		errs := s.Send(ctx(t), m)
		if !IsPermanent(errs[0]) {
			t.Errorf("%+v: %v, want refused for good", m, errs[0])
		}
	}
}

func TestSMTPGivesUpWhenTheServerHangs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			defer conn.Close()
			time.Sleep(5 * time.Second) // never greets
		}
	}()
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	errs := SMTP{Addr: ln.Addr().String(), From: "plenary@example.coop"}.Send(c, Message{To: "jo@example.org", Subject: "Hi", Text: "Hi"})
	var netErr net.Error
	if err := errs[0]; err == nil || !errors.As(err, &netErr) || !netErr.Timeout() || IsPermanent(err) {
		t.Errorf("err = %v, want a temporary timeout", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v to give up", time.Since(start))
	}
}

func TestSMTPConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	errs := SMTP{Addr: addr, From: "plenary@example.coop"}.Send(ctx(t),
		Message{To: "jo@example.org", Subject: "Hi", Text: "Hi"}, Message{To: "al@example.org", Subject: "Hi", Text: "Hi"})
	for i, err := range errs {
		if err == nil || IsPermanent(err) {
			t.Errorf("message %d: %v, want a temporary error", i, err)
		}
	}
}

// A 4xx for one recipient is temporary and a 5xx permanent; the messages
// after either still go, over the same connection.
func TestSMTPSortsRefusals(t *testing.T) {
	f := &fakeSMTP{rcpt: func(addr string) string {
		switch addr {
		case "busy@example.org":
			return "451 4.3.0 try again later"
		case "gone@example.org":
			return "550 5.1.1 no such mailbox"
		}
		return "250 ok"
	}}
	addr := f.start(t, "")
	errs := SMTP{Addr: addr, From: "plenary@example.coop"}.Send(ctx(t),
		Message{To: "busy@example.org", Subject: "1", Text: "1"},
		Message{To: "gone@example.org", Subject: "2", Text: "2"},
		Message{To: "jo@example.org", Subject: "3", Text: "3"})
	var e *Error
	if !errors.As(errs[0], &e) || e.Permanent || e.Code != 451 {
		t.Errorf("busy: %v (%+v), want temporary 451", errs[0], e)
	}
	if !errors.As(errs[1], &e) || !e.Permanent || e.Code != 550 {
		t.Errorf("gone: %v (%+v), want permanent 550", errs[1], e)
	}
	if errs[2] != nil {
		t.Errorf("jo: %v, want delivered", errs[2])
	}
	if n := len(f.got); n != 1 {
		t.Errorf("the server took %d messages, want 1", n)
	}
	dials := 0
	for _, c := range f.commands() {
		if strings.HasPrefix(strings.ToUpper(c), "EHLO") {
			dials++
		}
	}
	if dials != 1 {
		t.Errorf("%d connections (EHLO), want the batch over 1", dials)
	}
}

// The password goes only over TLS or to this machine: to a server
// elsewhere that offers no STARTTLS, AUTH is never sent.
func TestSMTPSendsNoPasswordInTheClear(t *testing.T) {
	f := &fakeSMTP{auth: "PLAIN LOGIN"}
	addr := f.start(t, "")
	s := SMTP{Addr: addr, From: "plenary@example.coop", Password: "secret"}
	if errs := s.Send(ctx(t), Message{To: "jo@example.org", Subject: "Hi", Text: "Hi"}); errs[0] != nil {
		t.Fatalf("to 127.0.0.1: %v, want delivered after logging in", errs[0])
	}
	if !strings.Contains(strings.Join(f.commands(), "\n"), "AUTH PLAIN") {
		t.Errorf("no AUTH PLAIN to a server on this machine: %q", f.commands())
	}

	ip := outwardIP(t)
	g := &fakeSMTP{auth: "PLAIN LOGIN"}
	_, port, _ := net.SplitHostPort(g.start(t, net.JoinHostPort(ip, "0")))
	errs := SMTP{Addr: net.JoinHostPort(ip, port), From: "plenary@example.coop", Password: "secret"}.Send(ctx(t),
		Message{To: "jo@example.org", Subject: "Hi", Text: "Hi"})
	if errs[0] == nil || IsPermanent(errs[0]) {
		t.Errorf("to %s without TLS: %v, want a temporary refusal to log in", ip, errs[0])
	}
	for _, c := range g.commands() {
		if strings.HasPrefix(strings.ToUpper(c), "AUTH") || strings.Contains(c, "secret") {
			t.Errorf("sent %q in the clear", c)
		}
	}
}

// outwardIP is an address of this machine other than the loopback.
func outwardIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no address but the loopback to play a server elsewhere")
	return ""
}

func TestSMTPThroughMailpit(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{AllowedRecipients: `@example\.org$`})
	s := SMTP{Addr: mp.SMTPAddr, From: "plenary@example.coop", Name: "Riverside Co-op", Password: "any"}
	errs := s.Send(ctx(t),
		Message{To: "jo@example.org", ToName: "Jo Bloggs", Subject: "Voting is open: Endorse the charter", MessageID: "<voting_opened.4.7@vote.example.coop>",
			Text: "Voting is open.\n\nhttps://vote.example.coop/proposals/4\n", HTML: "<p>Voting is <strong>open</strong>.</p>",
			Unsubscribe: "https://vote.example.coop/unsubscribe/7.voting_opened.abc"},
		Message{To: "bounce@refused.invalid", Subject: "Voting is open", MessageID: "voting_opened.4.8@vote.example.coop", Text: "Voting is open."},
		Message{To: "al@example.org", Subject: "Voting is open", MessageID: "voting_opened.4.9@vote.example.coop", Text: "Voting is open."})
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("delivered ones: %v, %v", errs[0], errs[2])
	}
	var e *Error
	if !errors.As(errs[1], &e) || !e.Permanent || e.Code/100 != 5 {
		t.Errorf("refused one: %v, want a permanent 5xx", errs[1])
	}
	mp.Wait(2, 5*time.Second)
	found := mp.ByMessageID("voting_opened.4.7@vote.example.coop")
	if len(found) != 1 {
		t.Fatalf("%d messages with the Message-ID, want 1", len(found))
	}
	m := mp.Message(found[0].ID)
	if m.Subject != "Voting is open: Endorse the charter" || m.From.Name != "Riverside Co-op" || m.To[0].Name != "Jo Bloggs" {
		t.Errorf("message %+v", m.Summary)
	}
	if !strings.Contains(m.Text, "https://vote.example.coop/proposals/4") || !strings.Contains(m.HTML, "<strong>open</strong>") {
		t.Errorf("text %q, HTML %q: want both parts", m.Text, m.HTML)
	}
	if got := m.Header("List-Unsubscribe"); got != "<https://vote.example.coop/unsubscribe/7.voting_opened.abc>" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if got := m.Header("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", got)
	}
	if !strings.HasPrefix(m.Header("Content-Type"), "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", m.Header("Content-Type"))
	}
	if len(mp.To("bounce@refused.invalid")) != 0 {
		t.Error("the refused address got the message")
	}
}
