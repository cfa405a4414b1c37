package governance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/outbox"
)

// Preference is how a member gets one kind of message.
type Preference struct {
	Kind string `db:"kind"`
	Mode string `db:"mode"` // outbox.AtOnce, InDigest or Never
}

// Preferences are a member's choices: a mode per kind they may choose for
// (Application only for admins), and the hour of their daily digest.
type Preferences struct {
	Kinds      []Preference
	DigestHour int
}

// Mode is the mode chosen for kind.
func (p Preferences) Mode(kind string) string {
	for _, k := range p.Kinds {
		if k.Kind == kind {
			return k.Mode
		}
	}
	return outbox.AtOnce
}

// kindsFor are the kinds m may choose for: the admins' notice of an
// application only for admins.
func kindsFor(m Member) []string {
	if m.IsAdmin() {
		return outbox.Choosable
	}
	return []string{outbox.VotingOpened, outbox.ClosingSoon, outbox.Result}
}

// Preferences returns member m's choices, with the defaults (at once, the
// digest at 8) where they have made none.
func (s *Service) Preferences(ctx context.Context, m Member) (Preferences, error) {
	var rows []struct {
		Kind string `db:"kind"`
		Mode string `db:"mode"`
		Hour int    `db:"digest_hour"`
	}
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT kind, mode, digest_hour FROM notification_prefs WHERE member_id = ?`, m.ID); err != nil {
		return Preferences{}, fmt.Errorf("governance: read preferences: %w", err)
	}
	p := Preferences{DigestHour: outbox.DefaultDigestHour}
	for _, k := range kindsFor(m) {
		pref := Preference{Kind: k, Mode: outbox.AtOnce}
		for _, r := range rows {
			if r.Kind == k {
				pref.Mode = r.Mode
			}
		}
		p.Kinds = append(p.Kinds, pref)
	}
	// One hour for every kind: the form sets them together.
	for _, r := range rows {
		p.DigestHour = r.Hour
		break
	}
	return p, nil
}

// PreferencesInput is the account page's form: a mode per kind, by the
// kind's name, and the digest hour. The tags check each.
type PreferencesInput struct {
	VotingOpened string `form:"voting_opened" validate:"oneof=at_once digest never"`
	ClosingSoon  string `form:"closing_soon" validate:"oneof=at_once digest never"`
	Result       string `form:"result" validate:"oneof=at_once digest never"`
	// Only admins are offered it; from anyone else it is ignored.
	Application string `form:"application" validate:"omitempty,oneof=at_once digest never"`
	DigestHour  string `form:"digest_hour" validate:"intrange=0 23"`
}

const badMode = "Choose at once, in the daily digest, or never."

var preferenceMessages = map[string]string{
	"voting_opened.oneof":  badMode,
	"closing_soon.oneof":   badMode,
	"result.oneof":         badMode,
	"application.oneof":    badMode,
	"digest_hour.intrange": "Choose an hour from 0 to 23.",
}

// Messages words what the tags refuse.
func (PreferencesInput) Messages() map[string]string { return preferenceMessages }

// modes are the input's modes by kind, for the kinds m chooses for.
func (in PreferencesInput) modes(m Member) map[string]string {
	all := map[string]string{outbox.VotingOpened: in.VotingOpened, outbox.ClosingSoon: in.ClosingSoon,
		outbox.Result: in.Result, outbox.Application: in.Application}
	out := map[string]string{}
	for _, k := range kindsFor(m) {
		if all[k] != "" {
			out[k] = all[k]
		}
	}
	return out
}

// SetPreferences stores member id's choices. Messages already held for
// their digest follow a change of mind: sent now for a kind they want at
// once, dropped for one they want never. Messages queued to go at once
// are checked against the choice when they are sent.
func (s *Service) SetPreferences(ctx context.Context, id int64, in PreferencesInput) error {
	m, err := s.accountHolder(ctx, id)
	if err != nil {
		return err
	}
	in.DigestHour = strings.TrimSpace(in.DigestHour)
	if err := check.Struct(in).Err(); err != nil {
		return err
	}
	hour, _ := strconv.Atoi(in.DigestHour)
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		for kind, mode := range in.modes(m) {
			if err := s.setMode(ctx, tx, m.ID, kind, mode, &hour); err != nil {
				return err
			}
		}
		return nil
	})
}

// setMode sets member's mode for kind, and the digest hour unless hour is
// nil (a new row then gets the default), and moves the messages held for
// their digest to match.
func (s *Service) setMode(ctx context.Context, tx *sqlx.Tx, member int64, kind, mode string, hour *int) error {
	h := outbox.DefaultDigestHour
	keep := `notification_prefs.digest_hour`
	if hour != nil {
		h, keep = *hour, `excluded.digest_hour`
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO notification_prefs (member_id, kind, mode, digest_hour) VALUES (?, ?, ?, ?)
		ON CONFLICT (member_id, kind) DO UPDATE SET mode = excluded.mode, digest_hour = `+keep, member, kind, mode, h); err != nil {
		return fmt.Errorf("governance: set preference: %w", err)
	}
	var err error
	switch mode {
	case outbox.AtOnce:
		_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'queued', next_attempt_at = ?
			WHERE member_id = ? AND kind = ? AND status = 'digest' AND digest_id IS NULL`, s.now(), member, kind)
	case outbox.Never:
		_, err = tx.ExecContext(ctx, `UPDATE notifications SET status = 'dropped', last_error = 'the member chose never'
			WHERE member_id = ? AND kind = ? AND status = 'digest' AND digest_id IS NULL`, member, kind)
	}
	if err != nil {
		return fmt.Errorf("governance: move held messages: %w", err)
	}
	return nil
}

// ErrBadToken is an unsubscribe link that is not one of ours: made up,
// cut short, or signed for another member or kind.
var ErrBadToken = errors.New("governance: not an unsubscribe link of this co-op")

// signer returns the unsubscribe tokens' signer, its key made once and
// kept in the database (every process signs alike).
func (s *Service) signer(ctx context.Context) (outbox.Signer, error) {
	if k := s.unsubscribeKey.Load(); k != nil {
		return outbox.NewSigner(*k), nil
	}
	key, err := s.db.Secret(ctx, "unsubscribe", 32)
	if err != nil {
		return outbox.Signer{}, err
	}
	s.unsubscribeKey.Store(&key)
	return outbox.NewSigner(key), nil
}

// UnsubscribeKey is the key unsubscribe tokens are signed with, for the
// sender that puts them in emails.
func (s *Service) UnsubscribeKey(ctx context.Context) ([]byte, error) {
	if _, err := s.signer(ctx); err != nil {
		return nil, err
	}
	return *s.unsubscribeKey.Load(), nil
}

// CheckUnsubscribe returns the member and kind an unsubscribe token stops,
// or ErrBadToken.
func (s *Service) CheckUnsubscribe(ctx context.Context, token string) (Member, string, error) {
	sg, err := s.signer(ctx)
	if err != nil {
		return Member{}, "", err
	}
	id, kind, ok := sg.Check(token)
	if !ok {
		return Member{}, "", ErrBadToken
	}
	m, err := s.Member(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Member{}, "", ErrBadToken
	}
	return m, kind, err
}

// Unsubscribe sets the mode of the token's kind (for a digest's token,
// of every kind its member gets in the digest) to never for its member,
// whoever follows the link (it is the one-click unsubscribe of RFC 8058,
// which a mail client may follow for them), and returns the member and
// kind.
func (s *Service) Unsubscribe(ctx context.Context, token string) (Member, string, error) {
	m, kind, err := s.CheckUnsubscribe(ctx, token)
	if err != nil {
		return Member{}, "", err
	}
	kinds := []string{kind}
	if kind == outbox.Digest {
		// A digest's link stops everything the member gets in it.
		p, err := s.Preferences(ctx, m)
		if err != nil {
			return Member{}, "", err
		}
		kinds = nil
		for _, k := range p.Kinds {
			if k.Mode == outbox.InDigest {
				kinds = append(kinds, k.Kind)
			}
		}
	}
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, k := range kinds {
			if err := s.setMode(ctx, tx, m.ID, k, outbox.Never, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return m, kind, err
}
