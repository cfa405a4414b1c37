package governance_test

import (
	"errors"
	"testing"
	"time"

	"plenary/governance"
)

func TestTimeZones(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t, 0)
	mo := e.member(t, 1, governance.StatusActive, admin)

	zoneName := func(id int64) string {
		t.Helper()
		loc, err := e.s.Zone(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return loc.String()
	}
	t.Run("a new co-op reads times in UTC", func(t *testing.T) {
		if got := zoneName(mo.ID); got != "UTC" {
			t.Errorf("zone %s, want UTC", got)
		}
	})
	t.Run("only an admin sets the co-op's zone, and it goes on the ledger", func(t *testing.T) {
		if err := e.s.SetDefaultZone(e.ctx, mo, "Europe/Paris"); !errors.Is(err, governance.ErrForbidden) {
			t.Errorf("a member setting it: %v, want ErrForbidden", err)
		}
		if err := e.s.SetDefaultZone(e.ctx, admin, "Europe/Paris"); err != nil {
			t.Fatal(err)
		}
		// The same again changes nothing and records nothing.
		if err := e.s.SetDefaultZone(e.ctx, admin, "Europe/Paris"); err != nil {
			t.Fatal(err)
		}
		entries, _, err := e.s.Ledger(e.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, en := range entries {
			if en.Kind == governance.EventSettingChanged {
				n++
				if want := "The co-op's time zone set to Europe/Paris by member 1"; en.Summary() != want {
					t.Errorf("summary %q, want %q", en.Summary(), want)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d setting entries on the ledger, want 1", n)
		}
		if got := zoneName(mo.ID); got != "Europe/Paris" {
			t.Errorf("a member without a zone reads times in %s, want the co-op's", got)
		}
	})
	t.Run("a member's own zone wins, and the local hour is theirs", func(t *testing.T) {
		if err := e.s.SetTimeZone(e.ctx, mo.ID, "Asia/Kolkata"); err != nil {
			t.Fatal(err)
		}
		loc, hour, err := e.s.LocalHour(e.ctx, mo.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The clock says 09:30 UTC: 15:00 in Kolkata.
		if loc.String() != "Asia/Kolkata" || hour != 15 {
			t.Errorf("LocalHour = %s, %d; want Asia/Kolkata, 15", loc, hour)
		}
		if _, hour, _ := e.s.LocalHour(e.ctx, admin.ID); hour != 10 {
			t.Errorf("the admin, in the co-op's zone (Paris): hour %d, want 10", hour)
		}
		if _, _, err := e.s.LocalHour(e.ctx, 9999); !errors.Is(err, governance.ErrNotFound) {
			t.Errorf("LocalHour of nobody: %v", err)
		}
		if err := e.s.SetTimeZone(e.ctx, mo.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got := zoneName(mo.ID); got != "Europe/Paris" {
			t.Errorf("after choosing none: %s", got)
		}
	})
	t.Run("what is not a zone is refused", func(t *testing.T) {
		for _, bad := range []string{"Local", "Mars/Base", "europe/paris", "Europe/Paris\x00", "\xff"} {
			var v governance.ValidationError
			if err := e.s.SetTimeZone(e.ctx, mo.ID, bad); !errors.As(err, &v) || v["time_zone"] == "" {
				t.Errorf("SetTimeZone(%q) = %v", bad, err)
			}
			if err := e.s.SetDefaultZone(e.ctx, admin, bad); !errors.As(err, &v) || v["time_zone"] == "" {
				t.Errorf("SetDefaultZone(%q) = %v", bad, err)
			}
		}
	})
	t.Run("a suspended member's zone stays as it was; erasure clears it", func(t *testing.T) {
		sam := e.member(t, 2, governance.StatusActive, admin)
		if err := e.s.SetTimeZone(e.ctx, sam.ID, "Africa/Lagos"); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Suspend(e.ctx, admin, sam.ID, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.s.SetTimeZone(e.ctx, sam.ID, "Europe/Paris"); !errors.Is(err, governance.ErrSuspended) {
			t.Errorf("a suspended member: %v, want ErrSuspended", err)
		}
		if err := e.s.Erase(e.ctx, admin, sam.ID, true); err != nil {
			t.Fatal(err)
		}
		if m := e.get(t, sam.ID); m.TimeZone != nil {
			t.Errorf("an erased member keeps the zone %s", *m.TimeZone)
		}
	})
	t.Run("ZoneOf falls back on the co-op's for a zone tzdata no longer has", func(t *testing.T) {
		gone := "Nowhere/Atlantis"
		paris, _ := time.LoadLocation("Europe/Paris")
		if got := governance.ZoneOf(governance.Member{TimeZone: &gone}, paris); got != paris {
			t.Errorf("ZoneOf = %s", got)
		}
	})
}
