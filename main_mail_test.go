package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"plenary/governance"
	"plenary/internal/mail"
	"plenary/internal/mailpit"
)

func TestServeRefusesHalfConfiguredMail(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  string // PLENARY_SMTP_PASSWORD
		want string
	}{
		{"an address without a port", []string{"-smtp-addr", "smtp.example.coop", "-smtp-from", "plenary@example.coop"}, "", "want host:port"},
		{"an address without a sender", []string{"-smtp-addr", "smtp.example.coop:587"}, "", "-smtp-from"},
		{"a sender with a display name", []string{"-smtp-addr", "smtp.example.coop:587", "-smtp-from", "Co-op <plenary@example.coop>"}, "", "bare address"},
		{"a sender but no server", []string{"-smtp-from", "plenary@example.coop"}, "", "need -smtp-addr"},
		{"a password but no server", nil, "secret", "need -smtp-addr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PLENARY_SMTP_PASSWORD", c.env)
			path := dbPath(t)
			r := plenary(t, "", append([]string{"serve", "-addr", "127.0.0.1:0", "-db", path}, c.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("want a failure saying %q; got %v", c.want, r)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("the database was created before the configuration was checked")
			}
		})
	}
}

func TestSMTPMailerFromConfig(t *testing.T) {
	if m, err := smtpMailer(Config{}, ""); m != nil || err != nil {
		t.Errorf("no mail configured: %v, %v; want none", m, err)
	}
	m, err := smtpMailer(Config{Name: "Riverside", SMTPAddr: "smtp.example.coop:587", SMTPFrom: "plenary@example.coop", SMTPUser: "plenary"}, "secret")
	want := mail.SMTP{Addr: "smtp.example.coop:587", From: "plenary@example.coop", Name: "Riverside", Username: "plenary", Password: "secret"}
	if err != nil || m != want {
		t.Errorf("got %#v, %v; want %#v", m, err, want)
	}
}

// plenary serve starts the outbox's sender: what was queued before it
// started goes out once it has.
func TestServeSendsTheOutbox(t *testing.T) {
	mp := mailpit.Start(t, mailpit.Options{})
	path := dbPath(t)
	addMembers(t, path)
	d, err := openDB(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := governance.New(d, time.Now).Apply(context.Background(), governance.Details{Name: "Jo Applicant",
		Email: "jo@example.org", Password: "lantern meadow copper 77", Statement: "I work in a platform co-op."}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-db", path, "-name", "Riverside Co-op",
			"-smtp-addr", mp.SMTPAddr, "-smtp-from", "plenary@example.coop"}, nil, io.Discard, &stderr)
	}()
	mp.Wait(1, 30*time.Second)
	got := mp.Messages()
	if len(got) != 1 || got[0].To[0].Address != "ada@example.org" || got[0].Subject != "New application to join Riverside Co-op: Jo Applicant" {
		t.Errorf("sent %+v, want the admin told of the application", got)
	}
	stop()
	select {
	case code := <-exit:
		if code != 0 || strings.Contains(stderr.String(), "level=ERROR") {
			t.Errorf("exit %d; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
}
