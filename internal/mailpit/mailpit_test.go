package mailpit

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func send(addr, to, messageID, subject string) error {
	return smtp.SendMail(addr, nil, "plenary@example.coop", []string{to}, []byte(
		"From: plenary@example.coop\r\nTo: "+to+"\r\nMessage-ID: <"+messageID+">\r\nSubject: "+subject+
			"\r\nList-Unsubscribe: <https://vote.example.coop/unsubscribe/x>\r\n\r\nHello.\r\n"))
}

func TestMailpit(t *testing.T) {
	mp := Start(t, Options{AllowedRecipients: `@example\.org$`})

	t.Run("takes a message and shows it whole", func(t *testing.T) {
		if err := send(mp.SMTPAddr, "jo@example.org", "voting_opened.1.2@plenary", "Voting is open"); err != nil {
			t.Fatal(err)
		}
		if n := mp.Wait(1, 5*time.Second); n != 1 {
			t.Fatalf("%d messages, want 1", n)
		}
		found := mp.ByMessageID("<voting_opened.1.2@plenary>")
		if len(found) != 1 {
			t.Fatalf("found %d by Message-ID, want 1", len(found))
		}
		m := mp.Message(found[0].ID)
		if m.Subject != "Voting is open" || !strings.Contains(m.Text, "Hello.") || len(m.To) != 1 || m.To[0].Address != "jo@example.org" {
			t.Errorf("message %+v", m)
		}
		if got := m.Header("List-Unsubscribe"); got != "<https://vote.example.coop/unsubscribe/x>" {
			t.Errorf("List-Unsubscribe %q", got)
		}
		if len(mp.ByMessageID("voting_opened.1.2@plen")) != 0 {
			t.Error("a part of a Message-ID found a message")
		}
		if len(mp.To("jo@example.org")) != 1 || len(mp.To("al@example.org")) != 0 {
			t.Error("search by recipient")
		}
	})

	t.Run("refuses an address it does not allow with a 5xx", func(t *testing.T) {
		err := send(mp.SMTPAddr, "bounce@refused.invalid", "x.1.1@plenary", "Refused")
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code/100 != 5 {
			t.Fatalf("err = %v, want a 5xx", err)
		}
	})

	t.Run("stops and starts again with its messages", func(t *testing.T) {
		mp.Stop()
		if c, err := net.DialTimeout("tcp", mp.SMTPAddr, time.Second); err == nil {
			c.Close()
			t.Fatal("SMTP still answers after Stop")
		}
		mp.Restart()
		if n := mp.Count(); n != 1 {
			t.Errorf("%d messages after restart, want 1", n)
		}
		mp.Clear()
		if n := mp.Count(); n != 0 {
			t.Errorf("%d messages after Clear", n)
		}
	})
}
