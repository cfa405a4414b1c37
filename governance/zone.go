package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/ledger"
	"plenary/internal/tz"
)

// SettingTimeZone names the co-op's default time zone in settings: the
// zone readers, and members who chose none, see times in.
const SettingTimeZone = "time_zone"

// DefaultZone is the co-op's time zone: UTC until an admin sets one.
func (s *Service) DefaultZone(ctx context.Context) (*time.Location, error) {
	name, err := s.DefaultZoneName(ctx)
	if err != nil {
		return time.UTC, err
	}
	return tz.Load(name), nil
}

// DefaultZoneName is the IANA name of the co-op's time zone.
func (s *Service) DefaultZoneName(ctx context.Context) (string, error) {
	return defaultZoneName(ctx, s.db.R)
}

func defaultZoneName(ctx context.Context, q sqlx.QueryerContext) (string, error) {
	var name string
	err := sqlx.GetContext(ctx, q, &name, `SELECT value FROM settings WHERE name = ?`, SettingTimeZone)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return tz.UTC, nil
	case err != nil:
		return tz.UTC, fmt.Errorf("governance: read the co-op's time zone: %w", err)
	}
	return name, nil
}

// ZoneOf is where m reads times: their own zone, or else def, the
// co-op's.
func ZoneOf(m Member, def *time.Location) *time.Location {
	if m.TimeZone != nil && tz.Valid(*m.TimeZone) {
		return tz.Load(*m.TimeZone)
	}
	return def
}

// Zone is where member id reads times: their own zone, or the co-op's.
func (s *Service) Zone(ctx context.Context, id int64) (*time.Location, error) {
	var own *string
	err := s.db.R.GetContext(ctx, &own, `SELECT time_zone FROM members WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("governance: read a member's time zone: %w", err)
	}
	def, err := s.DefaultZone(ctx)
	if err != nil {
		return nil, err
	}
	return ZoneOf(Member{TimeZone: own}, def), nil
}

// LocalHour is member id's zone and the hour of the day (0 to 23) it is
// there now, by the service's clock: for mail that goes at an hour the
// member picked, such as a daily digest, and for saying times in the
// member's own zone.
func (s *Service) LocalHour(ctx context.Context, id int64) (*time.Location, int, error) {
	loc, err := s.Zone(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return loc, s.now().In(loc).Hour(), nil
}

// zoneInput is a time zone as a form gives it: an IANA name. Empty means
// the co-op's default when a member chooses; the co-op itself must name
// one.
type zoneInput struct {
	Zone string `form:"time_zone" validate:"omitempty,max=64,zone"`
}

var zoneMessages = map[string]string{
	"time_zone.max":  "Choose a time zone from the list.",
	"time_zone.zone": "Choose a time zone from the list, such as Europe/London.",
}

// Messages words what the tags refuse.
func (zoneInput) Messages() map[string]string { return zoneMessages }

// SetTimeZone sets the zone member id reads times in; "" goes back to
// the co-op's. Like the member's other details, a suspended member's stays
// as it was.
func (s *Service) SetTimeZone(ctx context.Context, id int64, name string) error {
	if _, err := s.accountHolder(ctx, id); err != nil {
		return err
	}
	in := zoneInput{Zone: strings.TrimSpace(name)}
	if err := check.Struct(in).Err(); err != nil {
		return err
	}
	var zone *string
	if in.Zone != "" {
		zone = &in.Zone
	}
	return s.updateSelf(ctx, id, `UPDATE members SET time_zone = ? WHERE id = ? AND `+editsOwnAccount, zone, id)
}

// SetDefaultZone has an admin set the co-op's time zone, on the ledger.
func (s *Service) SetDefaultZone(ctx context.Context, actor Member, name string) error {
	in := zoneInput{Zone: strings.TrimSpace(name)}
	v := check.Struct(in)
	if in.Zone == "" {
		v["time_zone"] = "Choose the co-op's time zone."
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, actor.ID); err != nil {
			return err
		}
		old, err := defaultZoneName(ctx, tx)
		if err != nil {
			return err
		}
		if old == in.Zone {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, SettingTimeZone, in.Zone); err != nil {
			return fmt.Errorf("governance: set the co-op's time zone: %w", err)
		}
		return appendEntry(ctx, tx, s.now(), ledger.SettingChanged{By: actor.ID, Setting: SettingTimeZone, Value: in.Zone})
	})
}
