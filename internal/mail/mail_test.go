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
	"testing"
	"time"
)

// fakeSMTP accepts one connection on loopback and speaks just enough SMTP
// to take one message, which it sends on got.
func fakeSMTP(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
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
			switch {
			case strings.HasPrefix(cmd, "EHLO"):
				say("250-fake")
				say("250 8BITMIME")
			case strings.HasPrefix(cmd, "MAIL FROM:"), strings.HasPrefix(cmd, "RCPT TO:"):
				data.WriteString(strings.TrimSpace(line) + "\n")
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
				ch <- data.String()
			case cmd == "QUIT":
				say("221 bye")
				return
			default:
				say("502 no")
			}
		}
	}()
	return ln.Addr().String(), ch
}

func TestSMTPSendsOneMessage(t *testing.T) {
	addr, got := fakeSMTP(t)
	s := SMTP{Addr: addr, From: "plenary@example.coop", Name: "Riverside Co-op — Büro"}
	link := "https://vote.example.coop/reset/" + strings.Repeat("A", 43)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Send(ctx, Message{To: "jo@example.org", Subject: "Choose a new password for Riverside Co-op — Büro",
		Body: "Hello Jo,\n\nOpen this link:\n\n" + link + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	var raw string
	select {
	case raw = <-got:
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
	if msg.Header.Get("Date") == "" || msg.Header.Get("Message-Id") == "" {
		t.Errorf("no Date or Message-ID in %v", msg.Header)
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
	s := SMTP{Addr: "127.0.0.1:1", From: "plenary@example.coop"}
	for _, m := range []Message{
		{To: "jo@example.org\r\nBcc: all@example.org", Subject: "Hi"},
		{To: "jo@example.org", Subject: "Hi\r\nBcc: all@example.org"},
	} {
		if _, err := s.compose(m, time.Now()); err == nil {
			t.Errorf("%+v: composed, want refused", m)
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
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = SMTP{Addr: ln.Addr().String(), From: "plenary@example.coop"}.Send(ctx, Message{To: "jo@example.org", Subject: "Hi", Body: "Hi"})
	var netErr net.Error
	if err == nil || !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("err = %v, want a timeout", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v to give up", time.Since(start))
	}
}
