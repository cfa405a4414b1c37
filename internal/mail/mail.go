// Package mail sends Plenary's few emails (password-reset links) through an
// SMTP server with the standard library's net/smtp. Plenary works without
// it: with no mail configured, admins pass links on by hand.
package mail

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Message is one plain-text email to one person.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Mailer sends a message. Tests use a fake that records what was sent.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server, upgrading to TLS with STARTTLS when
// the server offers it. With a password it logs in with AUTH PLAIN, which
// net/smtp allows only over TLS or to localhost, so a password never
// crosses the network in the clear.
type SMTP struct {
	Addr     string // host:port, e.g. smtp.example.coop:587
	From     string // the sender's address
	Name     string // the sender's display name, e.g. the co-op's name
	Username string // for AUTH; From when empty
	Password string // no AUTH when empty
}

// Send delivers m, giving up when ctx ends.
func (s SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.compose(m, time.Now())
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("mail: address %q: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("mail: connect: %w", err)
	}
	defer conn.Close()
	// net/smtp has no timeouts of its own: a server that stops answering
	// must not hold the sender for ever.
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("mail: greeting: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("mail: starttls: %w", err)
		}
	}
	if s.Password != "" {
		if err := c.Auth(smtp.PlainAuth("", cmp.Or(s.Username, s.From), s.Password, host)); err != nil {
			return fmt.Errorf("mail: auth: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("mail: sender: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("mail: recipient: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	return c.Quit()
}

// compose writes m as an RFC 5322 message: UTF-8 text, quoted-printable,
// with the subject and sender's name encoded, and nothing a caller passes
// able to add a header.
func (s SMTP) compose(m Message, now time.Time) ([]byte, error) {
	for _, v := range []string{s.From, s.Name, m.To, m.Subject} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errors.New("mail: a header contains a line break")
		}
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	from := mail.Address{Name: s.Name, Address: s.From}
	id := make([]byte, 16)
	rand.Read(id)
	domain := s.From[strings.LastIndex(s.From, "@")+1:]
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(id) + "@" + domain + ">"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	} {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
