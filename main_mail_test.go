package main

import (
	"os"
	"strings"
	"testing"

	"plenary/internal/mail"
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
