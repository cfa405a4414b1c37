package tz

import (
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The changes of clocks resolve by one rule, whatever the zone: a time
// shown twice is the earlier instant, a time never shown is read with the
// offset from before the change (so it lands as far past the change).
func TestWallResolvesChangesOfClocks(t *testing.T) {
	for _, tt := range []struct {
		name   string
		zone   string
		wall   string
		want   string // the instant, UTC
		shown  string // what the zone's clocks show then
		result Resolution
	}{
		{"an ordinary winter time in London", "Europe/London", "2026-12-05T18:00", "2026-12-05T18:00:00Z", "2026-12-05 18:00 GMT", Exact},
		{"an ordinary summer time in London", "Europe/London", "2026-07-01T09:00", "2026-07-01T08:00:00Z", "2026-07-01 09:00 BST", Exact},
		{"London's clocks skip 01:00–02:00 on 29 March", "Europe/London", "2026-03-29T01:30", "2026-03-29T01:30:00Z", "2026-03-29 02:30 BST", Skipped},
		{"the minute the clocks go forward is skipped too", "Europe/London", "2026-03-29T01:00", "2026-03-29T01:00:00Z", "2026-03-29 02:00 BST", Skipped},
		{"the first minute after it is there", "Europe/London", "2026-03-29T02:00", "2026-03-29T01:00:00Z", "2026-03-29 02:00 BST", Exact},
		{"London shows 01:30 twice on 25 October: the first", "Europe/London", "2026-10-25T01:30", "2026-10-25T00:30:00Z", "2026-10-25 01:30 BST", Repeated},
		{"Paris at 18:00 in December", "Europe/Paris", "2026-12-05T18:00", "2026-12-05T17:00:00Z", "2026-12-05 18:00 CET", Exact},
		{"New York skips 02:30 on 8 March", "America/New_York", "2026-03-08T02:30", "2026-03-08T07:30:00Z", "2026-03-08 03:30 EDT", Skipped},
		{"New York shows 01:30 twice on 1 November", "America/New_York", "2026-11-01T01:30", "2026-11-01T05:30:00Z", "2026-11-01 01:30 EDT", Repeated},
		{"Sydney's clocks go back on 5 April", "Australia/Sydney", "2026-04-05T02:30", "2026-04-04T15:30:00Z", "2026-04-05 02:30 AEDT", Repeated},
		{"Sydney's go forward on 4 October", "Australia/Sydney", "2026-10-04T02:30", "2026-10-03T16:30:00Z", "2026-10-04 03:30 AEDT", Skipped},
		{"Lord Howe moves half an hour", "Australia/Lord_Howe", "2026-10-04T02:15", "2026-10-03T15:45:00Z", "2026-10-04 02:45 +11", Skipped},
		{"Samoa skipped 30 December 2011 whole", "Pacific/Apia", "2011-12-30T12:00", "2011-12-30T22:00:00Z", "2011-12-31 12:00 +14", Skipped},
		{"Kathmandu is 5:45 ahead, all year", "Asia/Kathmandu", "2026-06-01T12:00", "2026-06-01T06:15:00Z", "2026-06-01 12:00 +0545", Exact},
		{"UTC", "UTC", "2026-03-29T01:30", "2026-03-29T01:30:00Z", "2026-03-29 01:30 UTC", Exact},
	} {
		t.Run(tt.name, func(t *testing.T) {
			loc := load(t, tt.zone)
			got, r, err := Parse(tt.wall, loc)
			if err != nil {
				t.Fatal(err)
			}
			if got.Format(time.RFC3339) != tt.want || r != tt.result {
				t.Errorf("%s in %s = %s (%d), want %s (%d)", tt.wall, tt.zone, got.Format(time.RFC3339), r, tt.want, tt.result)
			}
			if shown := got.In(loc).Format("2006-01-02 15:04 MST"); shown != tt.shown {
				t.Errorf("the clocks show %s, want %s", shown, tt.shown)
			}
			if got.Location() != time.UTC {
				t.Errorf("Parse returned a time in %s, want UTC", got.Location())
			}
		})
	}
}

// Every quarter hour of a year, in zones with summer time north and south,
// half-hour changes and none: an exact or repeated time is shown by the
// instant found and by no earlier one within a day; a skipped time is
// shown by no instant at all, and the one found shows a later time.
func TestWallHoldsItsRuleAllYear(t *testing.T) {
	for _, zone := range []string{"Europe/London", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"} {
		t.Run(zone, func(t *testing.T) {
			loc := load(t, zone)
			counts := map[Resolution]int{}
			for w := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); w.Year() == 2026; w = w.Add(15 * time.Minute) {
				got, r := Wall(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), loc)
				counts[r]++
				shown := got.In(loc)
				showsW := func(s time.Time) bool {
					y, m, d := s.Date()
					return y == w.Year() && m == w.Month() && d == w.Day() && s.Hour() == w.Hour() && s.Minute() == w.Minute()
				}
				if r == Skipped {
					naive := time.Date(shown.Year(), shown.Month(), shown.Day(), shown.Hour(), shown.Minute(), 0, 0, time.UTC)
					if !naive.After(w) {
						t.Fatalf("%s skipped, found %s, which is not later", w.Format(InputLayout), shown)
					}
					for s := got.Add(-26 * time.Hour); s.Before(got.Add(26 * time.Hour)); s = s.Add(15 * time.Minute) {
						if showsW(s.In(loc)) {
							t.Fatalf("%s said skipped, but %s shows it", w.Format(InputLayout), s)
						}
					}
					continue
				}
				if !showsW(shown) {
					t.Fatalf("%s → %s, which shows %s", w.Format(InputLayout), got, shown)
				}
				for s := got.Add(-26 * time.Hour); s.Before(got); s = s.Add(15 * time.Minute) {
					if showsW(s.In(loc)) {
						t.Fatalf("%s → %s, but the earlier %s shows it too", w.Format(InputLayout), got, s)
					}
				}
				repeated := false
				for s := got.Add(15 * time.Minute); s.Before(got.Add(26 * time.Hour)); s = s.Add(15 * time.Minute) {
					repeated = repeated || showsW(s.In(loc))
				}
				if repeated != (r == Repeated) {
					t.Fatalf("%s → %s said %d, shown again later: %t", w.Format(InputLayout), got, r, repeated)
				}
			}
			if zone != "Asia/Kolkata" && (counts[Skipped] == 0 || counts[Repeated] == 0) {
				t.Errorf("%s: %v; a year with summer time skips and repeats some times", zone, counts)
			}
		})
	}
}

func TestParseRefusesWhatIsNotADateAndTime(t *testing.T) {
	for _, s := range []string{"", "tomorrow", "2026-12-05", "2026-12-05 18:00", "2026-13-01T10:00", "2026-02-30T10:00",
		"2026-12-05T24:00", "2026-12-05T18:00:00Z", "<script>", strings.Repeat("9", 1000), "2026-12-05T18:00\x00"} {
		if _, _, err := Parse(s, time.UTC); err == nil {
			t.Errorf("Parse(%q) took it", s)
		}
	}
	if got, _, err := Parse(" 2026-12-05T18:00 ", time.UTC); err != nil || got != time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC) {
		t.Errorf("spaces around: %v, %v", got, err)
	}
}

func TestWritingTimes(t *testing.T) {
	at := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ zone, dateTime, date, input string }{
		{"Europe/Paris", "5 Dec 2026 18:00 CET", "5 Dec 2026", "2026-12-05T18:00"},
		{"UTC", "5 Dec 2026 17:00 UTC", "5 Dec 2026", "2026-12-05T17:00"},
		{"Pacific/Auckland", "6 Dec 2026 06:00 NZDT", "6 Dec 2026", "2026-12-06T06:00"},
		{"Asia/Dubai", "5 Dec 2026 21:00 UTC+04", "5 Dec 2026", "2026-12-05T21:00"},
		{"Asia/Kathmandu", "5 Dec 2026 22:45 UTC+05:45", "5 Dec 2026", "2026-12-05T22:45"},
		{"America/Los_Angeles", "5 Dec 2026 09:00 PST", "5 Dec 2026", "2026-12-05T09:00"},
	} {
		loc := load(t, tt.zone)
		if got := DateTime(at, loc); got != tt.dateTime {
			t.Errorf("DateTime in %s = %q, want %q", tt.zone, got, tt.dateTime)
		}
		if got := Date(at, loc); got != tt.date {
			t.Errorf("Date in %s = %q, want %q", tt.zone, got, tt.date)
		}
		if got := Input(at, loc); got != tt.input {
			t.Errorf("Input in %s = %q, want %q", tt.zone, got, tt.input)
		}
		// What a form shows comes back as the same instant.
		if back, _, err := Parse(Input(at, loc), loc); err != nil || !back.Equal(at) {
			t.Errorf("Input then Parse in %s: %v, %v", tt.zone, back, err)
		}
	}
}

func TestZones(t *testing.T) {
	if len(Names) < 400 || Names[0] != UTC {
		t.Fatalf("%d zones, first %q", len(Names), Names[0])
	}
	seen := map[string]bool{}
	for _, name := range Names {
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		if !Valid(name) {
			t.Errorf("%s is offered but Go's tzdata does not know it", name)
		}
	}
	for _, name := range []string{"Europe/London", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "Pacific/Apia"} {
		if !seen[name] {
			t.Errorf("%s is not offered", name)
		}
	}
	n := 0
	for _, g := range Groups {
		n += len(g.Zones)
		for _, z := range g.Zones {
			if !strings.HasPrefix(z.Name, g.Region) || z.Label == "" || strings.Contains(z.Label, "_") {
				t.Errorf("%s in group %q labelled %q", z.Name, g.Region, z.Label)
			}
		}
	}
	if n != len(Names) {
		t.Errorf("the groups hold %d zones, the list %d", n, len(Names))
	}
	var buenos Zone
	for _, g := range Groups {
		for _, z := range g.Zones {
			if z.Name == "America/Argentina/Buenos_Aires" {
				buenos = z
			}
		}
	}
	if buenos.Label != "Buenos Aires (Argentina)" {
		t.Errorf("Buenos Aires labelled %q", buenos.Label)
	}
	for _, bad := range []string{"", "Local", "Mars/Base", "europe/london", "../etc/passwd", strings.Repeat("x", 65)} {
		if Valid(bad) {
			t.Errorf("%q is valid", bad)
		}
		if Load(bad) != time.UTC {
			t.Errorf("Load(%q) is not UTC", bad)
		}
	}
	if Load("Europe/Paris").String() != "Europe/Paris" {
		t.Error("Load(Europe/Paris)")
	}
}
