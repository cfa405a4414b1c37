package governance

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
	"plenary/internal/tz"
)

// General meetings. An admin calls a meeting and chairs it: a time, a
// place or an online link, and an agenda of proposals in discussion.
// Members check in with a short code shown in the room, or the chair
// marks them present. The chair opens each item's ballot live (Advance
// does not open an agenda item by time); opening the first freezes the
// attendance register, which is published by member numbers. The chair
// closes an item's ballot once everyone present has voted; it closes by
// itself when the kind's minimum period has passed (the ballot's
// closes_at). A meeting ballot is a ballot like any other: frozen roll,
// secrecy and receipts, proxies, recusals, results hidden until close,
// effects applied on close. Its quorum is counted on the ballots cast, or,
// when the kind's rule says so (Rule.QuorumOn), on those present.
//
// Any active admin may act as chair: a meeting must not stall because its
// chair's laptop did. The ledger records who did what.

// Errors the server maps.
var (
	ErrRegisterFrozen = errors.New("governance: the attendance register is frozen")
	ErrMeetingClosed  = errors.New("governance: the meeting is closed")
)

// Meeting is a general meeting.
type Meeting struct {
	ID               int64      `db:"id"`
	Title            string     `db:"title"`
	StartsAt         time.Time  `db:"starts_at"`
	Place            string     `db:"place"`
	Link             string     `db:"link"`
	ChairID          int64      `db:"chair_id"`
	ChairName        string     `db:"chair_name"`
	CheckinCode      string     `db:"checkin_code"`
	CreatedAt        time.Time  `db:"created_at"`
	RegisterFrozenAt *time.Time `db:"register_frozen_at"`
	ClosedAt         *time.Time `db:"closed_at"`
}

// Closed says whether the chair has closed the meeting.
func (m Meeting) Closed() bool { return m.ClosedAt != nil }

const meetingColumns = `SELECT g.id, g.title, g.starts_at, g.place, g.link, g.chair_id, m.name AS chair_name, g.checkin_code, g.created_at,
	g.register_frozen_at, g.closed_at FROM meetings g JOIN members m ON m.id = g.chair_id`

func getMeeting(ctx context.Context, q sqlx.QueryerContext, id int64) (Meeting, error) {
	var g Meeting
	err := sqlx.GetContext(ctx, q, &g, meetingColumns+` WHERE g.id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Meeting{}, ErrNotFound
	}
	if err != nil {
		return Meeting{}, fmt.Errorf("governance: get meeting: %w", err)
	}
	return g, nil
}

// MeetingInput is a meeting as the chair's form gives it. StartsAt is a
// wall-clock time "2006-01-02T15:04" in Zone (the chair's; UTC when nil).
type MeetingInput struct {
	Title    string         `form:"title" validate:"required,utf8,nocontrol,oneline,max=200"`
	StartsAt string         `form:"starts_at" validate:"required,max=40"`
	Place    string         `form:"place" validate:"utf8,nocontrol,oneline,max=300"`
	Link     string         `form:"link" validate:"omitempty,link"`
	Zone     *time.Location `form:"-" validate:"-"`
}

var meetingMessages = map[string]string{
	"title.required":     "Give the meeting a title, such as “Annual general meeting 2027”.",
	"title.utf8":         "Write the title as plain text.",
	"title.nocontrol":    "Write the title as plain text, on one line.",
	"title.oneline":      "Write the title as plain text, on one line.",
	"title.max":          "Keep the title to 200 characters.",
	"starts_at.required": "Enter when the meeting starts.",
	"starts_at.max":      "Enter when the meeting starts, as a date and time.",
	"place.utf8":         "Write the place as plain text.",
	"place.nocontrol":    "Write the place as plain text, on one line.",
	"place.oneline":      "Write the place as plain text, on one line.",
	"place.max":          "Keep the place to 300 characters.",
	"link.link":          "Enter the online meeting's link in full, starting https://.",
}

// Messages words what the tags refuse.
func (MeetingInput) Messages() map[string]string { return meetingMessages }

// checkinAlphabet has no letters or digits that read alike (0 O, 1 I L).
const checkinAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func newCheckinCode() string {
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = checkinAlphabet[int(b[i])%len(checkinAlphabet)]
	}
	return string(b)
}

// CallMeeting creates a meeting chaired by the admin who calls it.
func (s *Service) CallMeeting(ctx context.Context, chair Member, in MeetingInput) (Meeting, error) {
	in.Title, in.Place, in.Link, in.StartsAt = strings.TrimSpace(in.Title), strings.TrimSpace(in.Place), strings.TrimSpace(in.Link),
		strings.TrimSpace(in.StartsAt)
	v := check.Struct(in)
	now := s.now()
	var starts time.Time
	if _, bad := v["starts_at"]; !bad {
		zone := cmp.Or(in.Zone, time.UTC)
		at, _, err := tz.Parse(in.StartsAt, zone)
		switch {
		case err != nil:
			v["starts_at"] = fmt.Sprintf("Enter when the meeting starts, as a date and time (%s).", zone)
		case at.Before(now.Add(-24 * time.Hour)):
			v["starts_at"] = "Choose today or a day to come."
		case at.Sub(now) > MaxLead*4:
			v["starts_at"] = "A meeting can be called at most a year ahead."
		default:
			starts = at.UTC()
		}
	}
	if in.Place == "" && in.Link == "" {
		if _, bad := v["link"]; !bad {
			v["place"] = "Say where the meeting is held, or give its online link, or both."
		}
	}
	if err := v.Err(); err != nil {
		return Meeting{}, err
	}
	var g Meeting
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, chair.ID); err != nil {
			return err
		}
		id, err := db.InsertID(ctx, tx, `INSERT INTO meetings (title, starts_at, place, link, chair_id, checkin_code, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, in.Title, starts, in.Place, in.Link, chair.ID, newCheckinCode(), now)
		if err != nil {
			return fmt.Errorf("governance: call meeting: %w", err)
		}
		if err := appendEntry(ctx, tx, now, ledger.MeetingCalled{Meeting: id, Chair: chair.ID, Title: in.Title,
			StartsAt: starts.Format(time.RFC3339), Place: in.Place, Link: in.Link}); err != nil {
			return err
		}
		g, err = getMeeting(ctx, tx, id)
		return err
	})
	return g, err
}

// Meetings lists the meetings, the next or latest first.
func (s *Service) Meetings(ctx context.Context) ([]Meeting, error) {
	var gs []Meeting
	if err := s.db.R.SelectContext(ctx, &gs, meetingColumns+` ORDER BY g.starts_at DESC, g.id DESC LIMIT 200`); err != nil {
		return nil, fmt.Errorf("governance: meetings: %w", err)
	}
	return gs, nil
}

// chairAct runs fn in a transaction for an active admin acting as chair
// of an open meeting.
func (s *Service) chairAct(ctx context.Context, chair Member, meeting int64, fn func(tx *sqlx.Tx, g Meeting, now time.Time) error) error {
	if err := s.Advance(ctx); err != nil {
		return err
	}
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireAdmin(ctx, tx, chair.ID); err != nil {
			return err
		}
		g, err := getMeeting(ctx, tx, meeting)
		if err != nil {
			return err
		}
		if g.Closed() {
			return ErrMeetingClosed
		}
		return fn(tx, g, s.now())
	})
	if err != nil {
		return err
	}
	// A secret ballot the chair closed is rewritten in key order at once,
	// as one closed by time is (rewriteBoxes).
	return s.rewriteBoxes(ctx)
}

// AddItem puts a proposal still in discussion on the meeting's agenda,
// last. From then its ballot opens when the chair opens it.
func (s *Service) AddItem(ctx context.Context, chair Member, meeting, proposal int64) error {
	return s.chairAct(ctx, chair, meeting, func(tx *sqlx.Tx, g Meeting, now time.Time) error {
		p, err := getProposal(ctx, tx, proposal)
		if errors.Is(err, ErrNotFound) || (err == nil && p.Status != ProposalDiscussion) {
			return ValidationError{"proposal": "Choose a proposal that has not opened for voting."}
		}
		if err != nil {
			return err
		}
		if on, err := meetingOf(ctx, tx, proposal); err != nil {
			return err
		} else if on != 0 {
			return ValidationError{"proposal": "That proposal is on a meeting's agenda already."}
		}
		var position int
		if err := tx.GetContext(ctx, &position, `SELECT coalesce(max(position), 0) + 1 FROM meeting_items WHERE meeting_id = ?`, g.ID); err != nil {
			return fmt.Errorf("governance: agenda: %w", err)
		}
		if position > 100 {
			return ValidationError{"proposal": "An agenda holds at most 100 items."}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meeting_items (meeting_id, position, proposal_id) VALUES (?, ?, ?)`, g.ID, position, proposal); err != nil {
			return fmt.Errorf("governance: add item: %w", err)
		}
		return appendEntry(ctx, tx, now, ledger.MeetingItem{Meeting: g.ID, Proposal: proposal, Position: position, By: chair.ID})
	})
}

// normaliseCheckin lets members type the code in lower case or with
// spaces.
func normaliseCheckin(code string) string {
	return strings.ToUpper(strings.Join(strings.Fields(code), ""))
}

// CheckIn records m as present with the code shown in the room. Checking
// in twice is no error.
func (s *Service) CheckIn(ctx context.Context, m Member, meeting int64, code string) error {
	code = normaliseCheckin(code)
	if code == "" || len(code) > 20 {
		return ValidationError{"code": "Enter the six-character code shown in the room."}
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := requireActive(ctx, tx, m.ID); err != nil {
			return err
		}
		g, err := getMeeting(ctx, tx, meeting)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(code), []byte(g.CheckinCode)) != 1 {
			return ValidationError{"code": "That is not the code shown in the room. Check it and try again."}
		}
		return markPresent(ctx, tx, g, m.ID, "code")
	})
}

// MarkPresent records a member as present on the chair's word.
func (s *Service) MarkPresent(ctx context.Context, chair Member, meeting, member int64) error {
	return s.chairAct(ctx, chair, meeting, func(tx *sqlx.Tx, g Meeting, now time.Time) error {
		m, err := getMember(ctx, tx, `WHERE id = ?`, member)
		if err != nil || m.Status != StatusActive {
			return ValidationError{"member": "Choose an active member of the co-op."}
		}
		return markPresent(ctx, tx, g, member, "chair")
	})
}

func markPresent(ctx context.Context, tx *sqlx.Tx, g Meeting, member int64, how string) error {
	if g.Closed() {
		return ErrMeetingClosed
	}
	if g.RegisterFrozenAt != nil {
		return ErrRegisterFrozen
	}
	var present int
	if err := tx.GetContext(ctx, &present, `SELECT count(*) FROM attendance WHERE meeting_id = ? AND member_id = ?`, g.ID, member); err != nil {
		return fmt.Errorf("governance: attendance: %w", err)
	}
	if present > 0 {
		return nil
	}
	// The database refuses it too once the register is frozen (attendance_frozen).
	if _, err := tx.ExecContext(ctx, `INSERT INTO attendance (meeting_id, member_id, how) VALUES (?, ?, ?)`, g.ID, member, how); err != nil {
		return fmt.Errorf("governance: check in: %w", err)
	}
	return nil
}

// OpenItem opens an agenda item's ballot now, for the kind's minimum
// period. The first item opened freezes the attendance register.
func (s *Service) OpenItem(ctx context.Context, chair Member, meeting, proposal int64) error {
	return s.chairAct(ctx, chair, meeting, func(tx *sqlx.Tx, g Meeting, now time.Time) error {
		p, err := agendaItem(ctx, tx, g, proposal)
		if err != nil {
			return err
		}
		if p.Status != ProposalDiscussion {
			return ValidationError{"proposal": "This item's ballot has opened already."}
		}
		if g.RegisterFrozenAt == nil {
			if err := freezeRegister(ctx, tx, g, chair.ID, now); err != nil {
				return err
			}
		}
		rule, err := getRule(ctx, tx, p.Kind)
		if err != nil {
			return err
		}
		p.OpensAt, p.ClosesAt = now, now.Add(time.Duration(rule.MinMinutes)*time.Minute)
		if _, err := tx.ExecContext(ctx, `UPDATE proposals SET opens_at = ?, closes_at = ? WHERE id = ? AND status = 'discussion'`,
			p.OpensAt, p.ClosesAt, p.ID); err != nil {
			return fmt.Errorf("governance: open item: %w", err)
		}
		return s.openBallot(ctx, tx, &p, now)
	})
}

func agendaItem(ctx context.Context, tx *sqlx.Tx, g Meeting, proposal int64) (Proposal, error) {
	on, err := meetingOf(ctx, tx, proposal)
	if err != nil {
		return Proposal{}, err
	}
	if on != g.ID {
		return Proposal{}, ErrNotFound
	}
	return getProposal(ctx, tx, proposal)
}

func freezeRegister(ctx context.Context, tx *sqlx.Tx, g Meeting, by int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE meetings SET register_frozen_at = ? WHERE id = ? AND register_frozen_at IS NULL`, now, g.ID); err != nil {
		return fmt.Errorf("governance: freeze register: %w", err)
	}
	present := []int64{}
	if err := tx.SelectContext(ctx, &present, `SELECT member_id FROM attendance WHERE meeting_id = ? ORDER BY member_id`, g.ID); err != nil {
		return fmt.Errorf("governance: read register: %w", err)
	}
	return appendEntry(ctx, tx, now, ledger.MeetingRegister{Meeting: g.ID, Present: present, By: by})
}

// CloseItem closes an agenda item's ballot on the chair's word, once
// everyone present who is on its roll has voted or stood aside. (When the
// minimum period has passed it has closed by itself.)
func (s *Service) CloseItem(ctx context.Context, chair Member, meeting, proposal int64) error {
	return s.chairAct(ctx, chair, meeting, func(tx *sqlx.Tx, g Meeting, now time.Time) error {
		p, err := agendaItem(ctx, tx, g, proposal)
		if err != nil {
			return err
		}
		if p.Status != ProposalVoting {
			return ValidationError{"proposal": "This item's ballot is not open."}
		}
		waiting, err := presentNotVoted(ctx, tx, g.ID, p.ID)
		if err != nil {
			return err
		}
		if waiting > 0 {
			return ValidationError{"proposal": fmt.Sprintf("%s present %s not voted yet: wait for them, or for the ballot to close at %s.",
				plural(waiting, "member"), map[bool]string{true: "has", false: "have"}[waiting == 1], p.ClosesAt.UTC().Format("15:04 MST"))}
		}
		return s.closeBallot(ctx, tx, p, now, closing{by: chair.ID})
	})
}

// presentNotVoted counts the members present at the meeting who are on a
// ballot's roll and have neither voted nor stood aside.
func presentNotVoted(ctx context.Context, q sqlx.QueryerContext, meeting, proposal int64) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM attendance a JOIN roll r ON r.proposal_id = ? AND r.member_id = a.member_id
		WHERE a.meeting_id = ? AND r.voted = 0
		AND NOT EXISTS (SELECT 1 FROM recusals c WHERE c.proposal_id = r.proposal_id AND c.member_id = r.member_id)`, proposal, meeting)
	if err != nil {
		return 0, fmt.Errorf("governance: count votes outstanding: %w", err)
	}
	return n, nil
}

// CloseMeeting ends the meeting once no item's ballot is open. Items never
// opened stay in discussion, off the agenda's clock; an admin may cancel
// them.
func (s *Service) CloseMeeting(ctx context.Context, chair Member, meeting int64) error {
	return s.chairAct(ctx, chair, meeting, func(tx *sqlx.Tx, g Meeting, now time.Time) error {
		var open int
		if err := tx.GetContext(ctx, &open, `SELECT count(*) FROM meeting_items i JOIN proposals p ON p.id = i.proposal_id
			WHERE i.meeting_id = ? AND p.status = 'voting'`, g.ID); err != nil {
			return fmt.Errorf("governance: close meeting: %w", err)
		}
		if open > 0 {
			return ValidationError{"meeting": "Close the open ballots first."}
		}
		if g.RegisterFrozenAt == nil {
			if err := freezeRegister(ctx, tx, g, chair.ID, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meetings SET closed_at = ? WHERE id = ? AND closed_at IS NULL`, now, g.ID); err != nil {
			return fmt.Errorf("governance: close meeting: %w", err)
		}
		return appendEntry(ctx, tx, now, ledger.MeetingClosed{Meeting: g.ID, By: chair.ID})
	})
}

// meetingOf is the meeting whose agenda holds a proposal, or 0.
func meetingOf(ctx context.Context, q sqlx.QueryerContext, proposal int64) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT meeting_id FROM meeting_items WHERE proposal_id = ?`, proposal)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("governance: meeting of proposal: %w", err)
	}
	return id, nil
}

// MeetingOf is the meeting whose agenda holds a proposal, or 0.
func (s *Service) MeetingOf(ctx context.Context, proposal int64) (int64, error) {
	return meetingOf(ctx, s.db.R, proposal)
}

// AgendaOf is the meeting whose agenda holds a proposal; ok is false when
// none does.
func (s *Service) AgendaOf(ctx context.Context, proposal int64) (g Meeting, ok bool, err error) {
	id, err := meetingOf(ctx, s.db.R, proposal)
	if err != nil || id == 0 {
		return Meeting{}, false, err
	}
	g, err = getMeeting(ctx, s.db.R, id)
	return g, err == nil, err
}

// omitRoll leaves the default quorum base out of the ledger.
func omitRoll(quorumOn string) string {
	if quorumOn == QuorumOnRoll {
		return ""
	}
	return quorumOn
}

// Attendee is a member on a meeting's attendance register.
type Attendee struct {
	ID   int64  `db:"member_id"`
	Name string `db:"name"`
	How  string `db:"how"`
}

// Item is an agenda item with its ballot as it stands: how many on its
// roll (less those who stood aside) have voted, never how.
type Item struct {
	Position int
	Proposal Proposal
	Voted    int
	Eligible int
	// Waiting counts those present on its roll who have not voted.
	Waiting int
}

// MeetingView is a meeting with its agenda and attendance.
type MeetingView struct {
	Meeting
	Items   []Item
	Present []Attendee
}

// Current is the item the projector shows: the one whose ballot is open,
// else the last closed, else nil.
func (v MeetingView) Current() *Item {
	var last *Item
	for i := range v.Items {
		switch v.Items[i].Proposal.Status {
		case ProposalVoting:
			return &v.Items[i]
		case ProposalClosed:
			last = &v.Items[i]
		}
	}
	return last
}

// MeetingFor returns a meeting with its agenda, each item's turnout and
// the attendance, after bringing the ballots up to date.
func (s *Service) MeetingFor(ctx context.Context, id int64) (MeetingView, error) {
	if err := s.Advance(ctx); err != nil {
		return MeetingView{}, err
	}
	g, err := getMeeting(ctx, s.db.R, id)
	if err != nil {
		return MeetingView{}, err
	}
	v := MeetingView{Meeting: g}
	var ids []struct {
		Position int   `db:"position"`
		Proposal int64 `db:"proposal_id"`
	}
	if err := s.db.R.SelectContext(ctx, &ids, `SELECT position, proposal_id FROM meeting_items WHERE meeting_id = ? ORDER BY position`, id); err != nil {
		return v, fmt.Errorf("governance: agenda: %w", err)
	}
	for _, it := range ids {
		p, err := getProposal(ctx, s.db.R, it.Proposal)
		if err != nil {
			return v, err
		}
		item := Item{Position: it.Position, Proposal: p}
		if p.Status == ProposalVoting || p.Status == ProposalClosed {
			err := s.db.R.QueryRowxContext(ctx, `SELECT
				(SELECT count(*) FROM roll WHERE proposal_id = ? AND voted = 1),
				(SELECT count(*) FROM roll WHERE proposal_id = ?) - (SELECT count(*) FROM recusals WHERE proposal_id = ?)`,
				p.ID, p.ID, p.ID).Scan(&item.Voted, &item.Eligible)
			if err != nil {
				return v, fmt.Errorf("governance: turnout: %w", err)
			}
			if item.Waiting, err = presentNotVoted(ctx, s.db.R, id, p.ID); err != nil {
				return v, err
			}
		}
		v.Items = append(v.Items, item)
	}
	if err := s.db.R.SelectContext(ctx, &v.Present, `SELECT a.member_id, m.name, a.how FROM attendance a JOIN members m ON m.id = a.member_id
		WHERE a.meeting_id = ? ORDER BY a.member_id`, id); err != nil {
		return v, fmt.Errorf("governance: attendance: %w", err)
	}
	return v, nil
}
