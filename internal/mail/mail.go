// Package mail sends Plenary's emails through an SMTP server with go-mail
// (github.com/wneessen/go-mail): multipart plain text and HTML, the
// caller's Message-ID and one-click unsubscribe headers, STARTTLS when the
// server offers it, and errors sorted into permanent (the server refused
// this recipient or this message for good) and temporary (worth trying
// again later). Plenary works without it: mail then waits in the outbox.
package mail

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Message is one email to one person.
type Message struct {
	To     string // the bare address
	ToName string // their name, or ""
	// Subject and the plain-text body are required; HTML, when set, is the
	// alternative part a mail client shows instead.
	Subject string
	Text    string
	HTML    string
	// MessageID is the Message-ID header, with or without its angle
	// brackets ("kind.event.member@host"). The same message sent twice
	// (after a crash, say) carries the same id, so it can be recognised.
	MessageID string
	// Unsubscribe, when set, is an https or http URL that stops this kind
	// of message with one POST (RFC 8058): it goes in List-Unsubscribe,
	// with List-Unsubscribe-Post: List-Unsubscribe=One-Click.
	Unsubscribe string
}

// Mailer delivers messages. Send returns one error per message, nil for
// each delivered: a refusal of one message does not stop the others.
type Mailer interface {
	Send(ctx context.Context, ms ...Message) []error
}

// Timeout bounds each exchange with the SMTP server (connecting, each
// command, the message's data) unless the context's deadline comes first:
// a server that stops answering must not hold the sender for ever.
const Timeout = 30 * time.Second

// SMTP sends through an SMTP server, upgrading to TLS with STARTTLS when
// the server offers it. With a password it logs in with AUTH PLAIN, which
// is refused unless the connection is encrypted or the server is on this
// machine (localhost), so a password never crosses the network in the
// clear.
type SMTP struct {
	Addr     string // host:port, e.g. smtp.example.coop:587
	From     string // the sender's address
	Name     string // the sender's display name, e.g. the co-op's name
	Username string // for AUTH; From when empty
	Password string // no AUTH when empty
}

// Error is why a message was not delivered. Permanent is true when the
// server refused it for good (a 5xx reply to its recipient or its data),
// or it could never be sent (a malformed address or header); anything
// else (no connection, a timeout, a 4xx reply, a failed login) is worth
// trying again later.
type Error struct {
	Permanent bool
	// Code is the server's reply code (550, 451, …), or 0 when the server
	// did not reply.
	Code int
	Err  error
}

func (e *Error) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	return "mail: " + kind + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent says whether err means the message will never be delivered
// as it is, so trying again is pointless.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// ErrNotTried is the error of a message that was not attempted because
// the connection failed before its turn: it has not been refused, only
// not tried yet.
var ErrNotTried = errors.New("mail: not tried: the connection failed before this message")

func temporary(err error) error { return &Error{Err: err} }
func permanent(err error) error { return &Error{Permanent: true, Err: err} }

// Send delivers ms over one connection, in order. A message refused for
// good is reported and the next one goes on; if the connection itself
// fails, the remaining messages get temporary errors wrapping ErrNotTried.
func (s SMTP) Send(ctx context.Context, ms ...Message) []error {
	errs := make([]error, len(ms))
	msgs := make([]*gomail.Msg, len(ms))
	pending := 0
	for i, m := range ms {
		if msgs[i], errs[i] = s.compose(m); errs[i] == nil {
			pending++
		}
	}
	if pending == 0 {
		return errs
	}
	fail := func(err error) []error {
		for i := range ms {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	c, err := s.client(ctx)
	if err != nil {
		return fail(temporary(err))
	}
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fail(temporary(fmt.Errorf("connect to %s: %w", s.Addr, err)))
	}
	// go-mail's deadlines are per command; the context's end closes the
	// connection whatever it is waiting for.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer c.CloseWithSMTPClient(conn)
	for i, msg := range msgs {
		if errs[i] != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs[i] = temporary(fmt.Errorf("%w: %w", ErrNotTried, err))
			continue
		}
		err := c.SendWithSMTPClient(conn, msg)
		if err == nil {
			continue
		}
		errs[i] = classify(err)
		if !replied(err) {
			// No reply: the connection is gone, and the rest wait for
			// the next one.
			for j := i + 1; j < len(ms); j++ {
				if errs[j] == nil {
					errs[j] = temporary(fmt.Errorf("%w: %w", ErrNotTried, err))
				}
			}
			break
		}
	}
	return errs
}

// client is a go-mail client for s, its timeout shortened to ctx's.
func (s SMTP) client(ctx context.Context) (*gomail.Client, error) {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", s.Addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("address %q: port: %w", s.Addr, err)
	}
	timeout := Timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(d)), time.Millisecond)
	}
	opts := []gomail.Option{
		gomail.WithPort(p),
		gomail.WithTimeout(timeout),
		// STARTTLS when offered; a server on the loopback (a relay on
		// the machine, Mailpit in tests) usually offers none.
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
		gomail.WithTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}),
		// No NOOP before each message and no RSET after each: a batch
		// of a thousand would make two thousand round trips more.
		gomail.WithoutNoop(), gomail.WithoutRset(),
	}
	if s.Password != "" {
		// go-mail's PLAIN refuses to send the password unless the
		// connection is TLS or the host is localhost.
		opts = append(opts, gomail.WithSMTPAuthCustom(smtp.PlainAuth("", cmp.Or(s.Username, s.From), s.Password, host, false)))
	}
	return gomail.NewClient(host, opts...)
}

// compose builds m as a go-mail message, refusing (permanently) anything
// that would let a caller's text add a header or is no address.
func (s SMTP) compose(m Message) (*gomail.Msg, error) {
	for _, v := range []string{s.From, s.Name, m.To, m.ToName, m.Subject, m.MessageID, m.Unsubscribe} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, permanent(errors.New("a header contains a line break"))
		}
	}
	to, err := netmail.ParseAddress(m.To)
	if err != nil || to.Address != m.To {
		return nil, permanent(fmt.Errorf("recipient %q is not a bare address", m.To))
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(s.Name, s.From); err != nil {
		return nil, permanent(fmt.Errorf("sender %q: %w", s.From, err))
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, permanent(fmt.Errorf("recipient %q: %w", m.To, err))
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"); id != "" {
		if !strings.Contains(id, "@") || strings.ContainsAny(id, "<> \t") {
			return nil, permanent(fmt.Errorf("Message-ID %q", m.MessageID))
		}
		msg.SetMessageIDWithValue(id)
	} else {
		msg.SetMessageID()
	}
	// An automatic message (RFC 3834): out-of-office replies stay away.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.Unsubscribe != "" {
		if !strings.HasPrefix(m.Unsubscribe, "https://") && !strings.HasPrefix(m.Unsubscribe, "http://") || strings.ContainsAny(m.Unsubscribe, "<> \t") {
			return nil, permanent(fmt.Errorf("unsubscribe link %q", m.Unsubscribe))
		}
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// replied says whether the server answered (with a 4xx or 5xx): the
// connection is then still usable for the next message.
func replied(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return true
	}
	var te *textproto.Error
	return errors.As(err, &te)
}

// classify sorts go-mail's error: a 5xx reply to the recipient or to the
// message's data is permanent; anything else is temporary, including a
// 5xx to MAIL FROM, which says the sender address or login is wrong for
// every message alike, and is mended by the operator, not by giving up.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		if code >= 500 && (se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPDataClose || se.Reason == gomail.ErrSMTPData) {
			return &Error{Permanent: true, Code: code, Err: err}
		}
		return &Error{Code: code, Err: err}
	}
	return temporary(err)
}
