// Package tz reads and writes times in a person's time zone: the zones
// they may pick from, the wall-clock times a form takes turned into
// instants (with a rule for the times a change of clocks skips or
// repeats), and instants written for reading with the zone named.
//
// Plenary stores and compares instants in UTC; zones are only for people.
package tz

import (
	_ "embed"
	"errors"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the same zones on every host, with or without a zoneinfo directory
)

// UTC is the zone of a co-op that has not chosen one.
const UTC = "UTC"

// InputLayout is how an HTML datetime-local field writes a wall-clock
// time: 2026-12-05T18:00.
const InputLayout = "2006-01-02T15:04"

//go:embed zones.txt
var zonesText string

// Names lists the zones a person picks from, UTC first, then IANA's
// zone.tab in order of name. Any other name time.LoadLocation takes (an
// older alias such as Europe/Belfast) is still a zone; these are the ones
// offered.
var Names = func() []string {
	names := []string{UTC}
	for _, line := range strings.Split(zonesText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, line)
		}
	}
	return names
}()

// Group is the zones of one region, for a <select>'s <optgroup>.
type Group struct {
	Region string
	Zones  []Zone
}

// Zone is one zone as a person picks it: its IANA name and a label
// ("Buenos Aires" for America/Argentina/Buenos_Aires).
type Zone struct {
	Name, Label string
}

// Groups is Names by region, in order: UTC alone, then Africa, America…
var Groups = func() []Group {
	var groups []Group
	for _, name := range Names {
		region, place, ok := strings.Cut(name, "/")
		if !ok {
			region, place = "", name
		}
		if len(groups) == 0 || groups[len(groups)-1].Region != region {
			groups = append(groups, Group{Region: region})
		}
		if i := strings.LastIndex(place, "/"); i >= 0 {
			place = place[i+1:] + " (" + strings.ReplaceAll(place[:i], "_", " ") + ")"
		}
		g := &groups[len(groups)-1]
		g.Zones = append(g.Zones, Zone{Name: name, Label: strings.ReplaceAll(place, "_", " ")})
	}
	return groups
}()

// Valid says whether name is a zone: an IANA name time.LoadLocation
// knows, not "" or "Local" (which it takes for UTC and the server's own).
func Valid(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}

// Load returns the zone called name, or UTC for "" or a name that is not
// a zone (one chosen before a tzdata release removed it): a time shown in
// UTC, and labelled so, beats a page that fails.
func Load(name string) *time.Location {
	if !Valid(name) {
		return time.UTC
	}
	loc, _ := time.LoadLocation(name)
	return loc
}

// Resolution says how a wall-clock time became an instant.
type Resolution int

const (
	// Exact: the clocks show that time once.
	Exact Resolution = iota
	// Repeated: the clocks show it twice (they go back, as at the end of
	// summer time); the earlier instant was taken.
	Repeated
	// Skipped: the clocks never show it (they go forward past it); it was
	// read with the offset from before the change, so the instant is as
	// far past the change as the time was: 02:30 on a night the clocks go
	// from 02:00 to 03:00 is 03:30 summer time. This is RFC 5545's rule.
	Skipped
)

// Wall returns the instant at which the clocks of loc show the date and
// time y-mo-d h:mi, and how it was found. The rule is the same every
// time, whatever the zone and however the Go runtime would resolve it
// (time.Date leaves the choice open).
func Wall(y int, mo time.Month, d, h, mi int, loc *time.Location) (time.Time, Resolution) {
	naive := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	// Every offset loc uses within a day and a bit either side: no zone
	// has ever been more than 26 hours from another reading of itself.
	var offsets []int
	start, end := naive.Add(-30*time.Hour), naive.Add(30*time.Hour)
	for p := start; ; {
		at := p.In(loc)
		if _, off := at.Zone(); !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
		_, next := at.ZoneBounds()
		if next.IsZero() || !next.After(p) || next.After(end) {
			break
		}
		p = next
	}
	var exact, after []time.Time
	for _, off := range offsets {
		c := naive.Add(-time.Duration(off) * time.Second)
		shown := c.In(loc)
		sy, smo, sd := shown.Date()
		switch {
		case sy == y && smo == mo && sd == d && shown.Hour() == h && shown.Minute() == mi:
			exact = append(exact, c)
		case time.Date(sy, smo, sd, shown.Hour(), shown.Minute(), 0, 0, time.UTC).After(naive):
			after = append(after, c)
		}
	}
	switch {
	case len(exact) == 1:
		return exact[0], Exact
	case len(exact) > 1:
		return slices.MinFunc(exact, time.Time.Compare), Repeated
	}
	// Skipped: with the offset from before the change, the instant shows
	// a later time; of those, the earliest.
	if len(after) == 0 {
		// No zone in tzdata gets here; should one, a time still comes out.
		return time.Date(y, mo, d, h, mi, 0, 0, loc), Skipped
	}
	return slices.MinFunc(after, time.Time.Compare), Skipped
}

// ErrLayout is a wall-clock time not written as InputLayout.
var ErrLayout = errors.New("tz: not a date and time such as 2026-12-05T18:00")

// Parse reads a wall-clock time in InputLayout (what a datetime-local
// field sends) as a time in loc, by Wall's rule.
func Parse(s string, loc *time.Location) (time.Time, Resolution, error) {
	w, err := time.Parse(InputLayout, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, Exact, ErrLayout
	}
	t, r := Wall(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), loc)
	return t.UTC(), r, nil
}

// Input writes t as a datetime-local field shows it, in loc.
func Input(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(InputLayout)
}

// Abbrev is the zone's short name at t, as people write it after a time:
// CET, BST, EST; UTC+04 or UTC+05:45 where the zone has no letters of its
// own (tzdata writes those as numbers).
func Abbrev(t time.Time, loc *time.Location) string {
	name, _ := t.In(loc).Zone()
	if name == "" || name[0] != '+' && name[0] != '-' {
		return name
	}
	if len(name) == 5 {
		name = name[:3] + ":" + name[3:]
	}
	return "UTC" + name
}

// DateTime writes t for reading in loc, with the zone named:
// "5 Dec 2026 18:00 CET".
func DateTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2 Jan 2006 15:04") + " " + Abbrev(t, loc)
}

// DateTimeSeconds is DateTime to the second, for the ledger.
func DateTimeSeconds(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2 Jan 2006 15:04:05") + " " + Abbrev(t, loc)
}

// Date writes the day t falls on in loc: "5 Dec 2026".
func Date(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2 Jan 2006")
}
