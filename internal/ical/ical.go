// Package ical writes iCalendar (RFC 5545): a VCALENDAR of VEVENTs, as
// much of the format as a calendar of ballots needs, written by hand. Lines
// end in CRLF and are folded at 75 octets without splitting a character;
// text is escaped; every time is in UTC, so no VTIMEZONE is needed and each
// reader's calendar shows the times in its own zone.
package ical

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is a VCALENDAR.
type Calendar struct {
	// ProdID names the program that made it (PRODID), such as
	// "-//Plenary//Riverside Co-op//EN".
	ProdID string
	// Name is the calendar's name as clients show it (NAME, RFC 7986, and
	// X-WR-CALNAME, which older clients read).
	Name string
	// Refresh, when not zero, is how often a subscribed client should
	// fetch the calendar again (REFRESH-INTERVAL, RFC 7986, and
	// X-PUBLISHED-TTL).
	Refresh time.Duration
	Events  []Event
}

// Event is a VEVENT.
type Event struct {
	// UID identifies the event for ever: the same ballot has the same UID
	// in every feed and download, so a client updates it rather than
	// adding it again.
	UID string
	// Stamp is when the event's information last changed (DTSTAMP).
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Description string
	URL         string
	// Cancelled marks an event that will not happen (STATUS:CANCELLED).
	Cancelled bool
}

// Bytes writes the calendar.
func (c Calendar) Bytes() []byte {
	var b bytes.Buffer
	line := func(name, value string) {
		b.WriteString(Fold(name + ":" + value))
		b.WriteString("\r\n")
	}
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", Escape(c.ProdID))
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	if c.Name != "" {
		line("NAME", Escape(c.Name))
		line("X-WR-CALNAME", Escape(c.Name))
	}
	if c.Refresh > 0 {
		d := Duration(c.Refresh)
		b.WriteString(Fold("REFRESH-INTERVAL;VALUE=DURATION:" + d))
		b.WriteString("\r\n")
		line("X-PUBLISHED-TTL", d)
	}
	for _, e := range c.Events {
		line("BEGIN", "VEVENT")
		line("UID", Escape(e.UID))
		line("DTSTAMP", Time(e.Stamp))
		line("DTSTART", Time(e.Start))
		line("DTEND", Time(e.End))
		line("SUMMARY", Escape(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION", Escape(e.Description))
		}
		if e.URL != "" {
			// A URI value is not TEXT: it is written as it is.
			b.WriteString(Fold("URL;VALUE=URI:" + e.URL))
			b.WriteString("\r\n")
		}
		if e.Cancelled {
			line("STATUS", "CANCELLED")
		} else {
			line("STATUS", "CONFIRMED")
		}
		line("TRANSP", "TRANSPARENT")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return b.Bytes()
}

// Time is t as a DATE-TIME in UTC: 20261205T170000Z.
func Time(t time.Time) string {
	return t.UTC().Format("20060102T150405Z")
}

// Duration writes d as a DURATION (whole seconds): PT1H, P1D, PT90S.
func Duration(d time.Duration) string {
	s := int64(d / time.Second)
	if s > 0 && s%86400 == 0 {
		return "P" + itoa(s/86400) + "D"
	}
	out := "PT"
	if h := s / 3600; h > 0 {
		out += itoa(h) + "H"
	}
	if m := s % 3600 / 60; m > 0 {
		out += itoa(m) + "M"
	}
	if sec := s % 60; sec > 0 || out == "PT" {
		out += itoa(sec) + "S"
	}
	return out
}

func itoa(n int64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}

// Escape writes s as a TEXT value (RFC 5545, 3.3.11): a backslash,
// semicolon and comma are escaped with a backslash, a line break becomes
// \n (CRLF, CR and LF alike), and other control characters, which TEXT may
// not hold, are dropped. Invalid UTF-8 becomes U+FFFD.
func Escape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case ';':
			b.WriteString(`\;`)
		case ',':
			b.WriteString(`\,`)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			b.WriteString(`\n`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteByte(' ')
		default:
			if c < 0x20 || c == 0x7f {
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Fold breaks a content line (without its CRLF) so that no line is longer
// than 75 octets: each break is a CRLF followed by a space, which counts
// toward the next line's 75, and never falls inside a UTF-8 character.
func Fold(line string) string {
	const limit = 75
	if len(line) <= limit {
		return line
	}
	var b strings.Builder
	width := limit
	for len(line) > width {
		cut := width
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		width = limit - 1
	}
	b.WriteString(line)
	return b.String()
}

// Unfold joins folded lines again, as a reader does (RFC 5545, 3.1).
func Unfold(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n ", ""), "\r\n\t", "")
}
