package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/ical"
	"plenary/internal/tz"
)

// Calendars: each member's private feed of the ballots they are on the
// roll for, and a download of any ballot the visitor may see.

// calendarFeed serves /calendar/TOKEN.ics. The token is the only key:
// calendar clients send no cookie.
func (s *Server) calendarFeed(c *gin.Context) {
	token, ok := strings.CutSuffix(c.Param("token"), ".ics")
	if !ok || token == "" {
		s.fail(c, errNotFound)
		return
	}
	m, ps, err := s.gov.Calendar(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	def, err := s.gov.DefaultZone(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	loc := governance.ZoneOf(m, def)
	cal := ical.Calendar{ProdID: s.prodID(), Name: s.cfg.Name + ": your ballots", Refresh: time.Hour}
	for _, p := range ps {
		cal.Events = append(cal.Events, s.ballotEvent(p, loc))
	}
	s.sendCalendar(c, cal, "")
}

// proposalCalendar serves one ballot as an .ics file, to whoever may see
// its page.
func (s *Server) proposalCalendar(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	p, err := s.gov.Proposal(c.Request.Context(), member(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	cal := ical.Calendar{ProdID: s.prodID(), Name: s.cfg.Name, Events: []ical.Event{s.ballotEvent(p, s.zone(c))}}
	s.sendCalendar(c, cal, fmt.Sprintf("proposal-%d.ics", p.ID))
}

// newCalendarLink makes the member a new calendar address, shown once:
// the one before stops working.
func (s *Server) newCalendarLink(c *gin.Context) {
	token, err := s.gov.NewCalendarToken(c.Request.Context(), member(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.addFlash(c, "ok", "Your calendar link is below. Add it to your calendar app as a subscription; it is shown only once, and any link you had before has stopped working.")
	s.addFlash(c, "calendar-link", s.cfg.BaseURL+"/calendar/"+token+".ics")
	c.Redirect(http.StatusSeeOther, "/account#calendar-h")
}

func (s *Server) sendCalendar(c *gin.Context, cal ical.Calendar, download string) {
	// Private to whoever holds the address: kept by no shared cache.
	c.Header("Cache-Control", "private, no-store")
	if download != "" {
		c.Header("Content-Disposition", `attachment; filename="`+download+`"`)
	}
	c.Data(http.StatusOK, "text/calendar; charset=utf-8", cal.Bytes())
}

func (s *Server) prodID() string {
	return "-//Plenary//" + strings.ReplaceAll(s.cfg.Name, "//", "/") + "//EN"
}

// ballotEvent is a ballot as an event: from when voting opens to when it
// closes. Its UID is the proposal's number at this co-op's address, the
// same in every feed and download, so a calendar updates it in place. The
// description gives the times in loc, the reader's zone; the event's own
// times are UTC, which every calendar shows in its own zone.
func (s *Server) ballotEvent(p governance.Proposal, loc *time.Location) ical.Event {
	host := s.cfg.BaseURL
	if u, err := url.Parse(s.cfg.BaseURL); err == nil {
		host = u.Host
	}
	link := fmt.Sprintf("%s/proposals/%d", s.cfg.BaseURL, p.ID)
	start := p.OpensAt
	if p.OpenedAt != nil {
		start = *p.OpenedAt
	}
	stamp := p.CreatedAt
	for _, t := range []*time.Time{p.OpenedAt, p.ClosedAt} {
		if t != nil {
			stamp = *t
		}
	}
	e := ical.Event{UID: fmt.Sprintf("proposal-%d@%s", p.ID, host), Stamp: stamp, Start: start, End: p.ClosesAt, URL: link}
	switch p.Status {
	case governance.ProposalClosed:
		e.Summary = "Ballot closed: " + p.Title
		e.Description = fmt.Sprintf("%s, proposal %d. Voting closed %s: %s.\n%s", p.KindName(), p.ID,
			tz.DateTime(p.ClosesAt, loc), derefOr(p.Outcome, "closed"), link)
	case governance.ProposalWithdrawn, governance.ProposalCancelled:
		e.Summary = "Ballot " + p.Status + ": " + p.Title
		e.Description = fmt.Sprintf("%s, proposal %d, was %s before voting opened.\n%s", p.KindName(), p.ID, p.Status, link)
		e.Cancelled = true
	case governance.ProposalDiscussion:
		e.Summary = "Vote: " + p.Title
		e.Description = fmt.Sprintf("%s, proposal %d. Voting opens %s and closes %s.\n%s", p.KindName(), p.ID,
			tz.DateTime(p.OpensAt, loc), tz.DateTime(p.ClosesAt, loc), link)
	default:
		e.Summary = "Vote: " + p.Title
		e.Description = fmt.Sprintf("%s, proposal %d. Voting is open until %s.\n%s", p.KindName(), p.ID,
			tz.DateTime(p.ClosesAt, loc), link)
	}
	return e
}

func derefOr(p *string, or string) string {
	if p == nil {
		return or
	}
	return *p
}
