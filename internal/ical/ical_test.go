package ical

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The examples are RFC 5545's own.
func TestEscapeTheRFCsExamples(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		// 3.3.11, TEXT.
		{"line breaks", "Project XYZ Final Review\nConference Room - 3B\nCome Prepared.",
			`Project XYZ Final Review\nConference Room - 3B\nCome Prepared.`},
		// 3.8.1.5, DESCRIPTION.
		{"a description", "Meeting to provide technical review for \"Phoenix\" design.\nHappy Face Conference Room. Phoenix design team MUST attend this meeting.\nRSVP to team leader.",
			`Meeting to provide technical review for "Phoenix" design.\nHappy Face Conference Room. Phoenix design team MUST attend this meeting.\nRSVP to team leader.`},
		// 3.8.1.7, LOCATION.
		{"a comma", "Conference Room - F123, Bldg. 002", `Conference Room - F123\, Bldg. 002`},
		{"semicolons and backslashes", `a;b\c`, `a\;b\\c`},
		{"an escape that is already one is escaped again", `\n`, `\\n`},
		{"CRLF and CR are line breaks too", "one\r\ntwo\rthree", `one\ntwo\nthree`},
		{"a tab is a space; other controls go", "a\tb\x00c\x1bd\x7f", "a bcd"},
		{"invalid UTF-8", "caf\xe9", "caf\uFFFD"},
		{"letters of any script", "Vote: ¿Sí? 投票", "Vote: ¿Sí? 投票"},
	} {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("%s: Escape(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	t.Run("the RFC's folded description unfolds", func(t *testing.T) {
		// 3.1: the line break and the one space after it go.
		folded := "DESCRIPTION:This is a lo\r\n ng description\r\n  that exists on a long line."
		if got, want := Unfold(folded), "DESCRIPTION:This is a long description that exists on a long line."; got != want {
			t.Errorf("Unfold = %q, want %q", got, want)
		}
	})
	t.Run("a line of 75 octets stays whole; 76 is folded", func(t *testing.T) {
		if got := Fold(strings.Repeat("a", 75)); got != strings.Repeat("a", 75) {
			t.Errorf("75 octets folded: %q", got)
		}
		if got, want := Fold(strings.Repeat("a", 76)), strings.Repeat("a", 75)+"\r\n a"; got != want {
			t.Errorf("76 octets: %q, want %q", got, want)
		}
		if got, want := Fold(strings.Repeat("a", 150)), strings.Repeat("a", 75)+"\r\n "+strings.Repeat("a", 74)+"\r\n a"; got != want {
			t.Errorf("150 octets: %q, want %q", got, want)
		}
	})
	t.Run("no line is over 75 octets, no character is split, and it unfolds to what it was", func(t *testing.T) {
		for _, unit := range []string{"a", "é", "中", "🛵", "aé中🛵,"} {
			for n := range 200 {
				line := "SUMMARY:" + strings.Repeat(unit, n)
				folded := Fold(line)
				for _, l := range strings.Split(folded, "\r\n") {
					if len(l) > 75 {
						t.Fatalf("%d × %q: a line of %d octets", n, unit, len(l))
					}
					if !utf8.ValidString(l) {
						t.Fatalf("%d × %q: a character split across lines: %q", n, unit, l)
					}
				}
				if Unfold(folded) != line {
					t.Fatalf("%d × %q: unfolds to something else", n, unit)
				}
			}
		}
	})
}

func TestCalendar(t *testing.T) {
	start := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	cal := Calendar{ProdID: "-//Plenary//Riverside Co-op//EN", Name: "Riverside Co-op, ballots", Refresh: time.Hour,
		Events: []Event{{
			UID: "proposal-7@vote.example.coop", Stamp: start.Add(-time.Hour), Start: start.In(paris), End: start.Add(7 * 24 * time.Hour),
			Summary:     "Vote: Endorse; the \"Fair Work\" demand, now",
			Description: "Voting closes 12 Dec.\nVote at https://vote.example.coop/proposals/7",
			URL:         "https://vote.example.coop/proposals/7",
		}}}
	out := string(cal.Bytes())
	if strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") || !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Fatalf("every line must end in CRLF:\n%q", out)
	}
	for _, want := range []string{
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Plenary//Riverside Co-op//EN\r\n",
		"NAME:Riverside Co-op\\, ballots\r\n",
		"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n",
		"BEGIN:VEVENT\r\nUID:proposal-7@vote.example.coop\r\nDTSTAMP:20261205T160000Z\r\n",
		// A time given in another zone is written in UTC.
		"DTSTART:20261205T170000Z\r\nDTEND:20261212T170000Z\r\n",
		`SUMMARY:Vote: Endorse\; the "Fair Work" demand\, now` + "\r\n",
		`DESCRIPTION:Voting closes 12 Dec.\nVote at https://vote.example.coop/propos` + "\r\n als/7\r\n",
		"URL;VALUE=URI:https://vote.example.coop/proposals/7\r\n",
		"STATUS:CONFIRMED\r\n",
		"END:VEVENT\r\nEND:VCALENDAR\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the calendar lacks %q:\n%s", want, out)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "PT1H", 24 * time.Hour: "P1D", 90 * time.Second: "PT1M30S",
		0: "PT0S", 2*time.Hour + 5*time.Minute: "PT2H5M"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %s, want %s", d, got, want)
		}
	}
}
