package server

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
)

type membersData struct {
	Members  []governance.Member
	Resets   []governance.ResetRequest // members waiting for a password reset
	Search   string
	Status   string
	Statuses []string
	Pager    pagination
}

func (s *Server) listMembers(c *gin.Context) {
	q := governance.MemberQuery{Search: c.Query("q"), Page: pageParam(c)}
	if st := c.Query("status"); slices.Contains(governance.Statuses, st) {
		q.Status = st
	}
	if len(q.Search) > 200 {
		q.Search = q.Search[:200]
	}
	ms, total, err := s.gov.Members(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	resets, err := s.gov.ResetRequests(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	pager := newPagination(q.Page, total, governance.MembersPerPage, func(p int) string {
		return "/admin/members?" + url.Values{"q": {q.Search}, "status": {q.Status}, "page": {strconv.Itoa(p)}}.Encode()
	})
	s.render(c, http.StatusOK, "admin/members", view{Title: "Members", Data: membersData{
		Members: ms, Resets: resets, Search: q.Search, Status: q.Status, Statuses: governance.Statuses, Pager: pager}})
}

// idParam reads a numeric :id; anything else is a page that doesn't exist.
func (s *Server) idParam(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		s.fail(c, errNotFound)
		return 0, false
	}
	return id, true
}

type memberData struct {
	Subject governance.Member
	Self    bool
	Reset   governance.ResetStatus
	// ResetFor is how long a reset link works, in words.
	ResetFor string
}

func (s *Server) showMember(c *gin.Context) {
	s.renderMember(c, http.StatusOK, form{})
}

func (s *Server) renderMember(c *gin.Context, status int, f form) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	subject, err := s.gov.Member(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	reset, err := s.gov.ResetStatus(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, status, "admin/member", view{Title: fmt.Sprintf("Member %d", id), Form: f,
		Data: memberData{Subject: subject, Self: subject.ID == member(c).ID, Reset: reset,
			ResetFor: hours(s.gov.ResetTTL)}})
}

// memberAction is the five beats every membership decision shares: read the
// id, call the service, re-render the member page with 422 on a refused
// decision, or flash and go back to it.
func (s *Server) memberAction(c *gin.Context, done string, act func(id int64) error) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	err := act(id)
	if errors.Is(err, governance.ErrLastAdmin) {
		err = governance.ValidationError{"": "The co-op must keep at least one active admin. Make someone else an admin first."}
	}
	if v := errorsOf(err); v != nil {
		f := postedForm(c, "reason", "role")
		f.Errors = v
		s.renderMember(c, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/admin/members/%d", id), done)
}

func (s *Server) approveMember(c *gin.Context) {
	s.memberAction(c, "Application approved: they are a member now.", func(id int64) error {
		return s.gov.Approve(c.Request.Context(), *member(c), id)
	})
}

func (s *Server) rejectMember(c *gin.Context) {
	s.memberAction(c, "Application rejected. They will see your reason when they log in.", func(id int64) error {
		return s.gov.Reject(c.Request.Context(), *member(c), id, c.PostForm("reason"))
	})
}

func (s *Server) suspendMember(c *gin.Context) {
	s.memberAction(c, "Member suspended and logged out everywhere.", func(id int64) error {
		return s.gov.Suspend(c.Request.Context(), *member(c), id, c.PostForm("reason"))
	})
}

func (s *Server) reinstateMember(c *gin.Context) {
	s.memberAction(c, "Member reinstated.", func(id int64) error {
		return s.gov.Reinstate(c.Request.Context(), *member(c), id)
	})
}

func (s *Server) setRole(c *gin.Context) {
	s.memberAction(c, "Role changed.", func(id int64) error {
		return s.gov.SetRole(c.Request.Context(), *member(c), id, c.PostForm("role"))
	})
}

func (s *Server) markLeft(c *gin.Context) {
	s.memberAction(c, "Recorded that this member has left.", func(id int64) error {
		return s.gov.MarkLeft(c.Request.Context(), *member(c), id)
	})
}

func (s *Server) eraseMember(c *gin.Context) {
	s.memberAction(c, "Personal data erased. The member number stays on the ledger.", func(id int64) error {
		return s.gov.Erase(c.Request.Context(), *member(c), id, c.PostForm("confirm") == "yes")
	})
}

type invitationsData struct {
	Invitations []governance.Invitation
	Now         time.Time
	DefaultDays int
}

func (s *Server) listInvitations(c *gin.Context) {
	s.renderInvitations(c, http.StatusOK, form{})
}

func (s *Server) renderInvitations(c *gin.Context, status int, f form) {
	invs, err := s.gov.Invitations(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, status, "admin/invitations", view{Title: "Invitations", Form: f, Data: invitationsData{
		Invitations: invs, Now: s.cfg.Now().UTC(), DefaultDays: int(s.gov.InvitationTTL / (24 * time.Hour))}})
}

func (s *Server) createInvitation(c *gin.Context) {
	// A browser sends the field empty when it is left blank: the default.
	days, err := strconv.Atoi(cmp.Or(strings.TrimSpace(c.PostForm("days")), "0"))
	if err != nil {
		days = -1 // refused by the service with a message
	}
	inv, token, err := s.gov.InvitePerson(c.Request.Context(), *member(c), governance.InvitationInput{Name: c.PostForm("name"),
		Email: c.PostForm("email"), Role: c.PostForm("role"), Note: c.PostForm("note"), Days: days})
	if v := errorsOf(err); v != nil {
		f := postedForm(c, "name", "email", "role", "note", "days")
		f.Errors = v
		s.renderInvitations(c, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// The link goes in a flash of its own kind, drawn as a field to copy
	// below the message: it is shown this once, since only its hash is kept.
	msg := "Invitation created. Send the link below to the person you are inviting; it is shown only once."
	if inv.Email != nil {
		msg = fmt.Sprintf("Invitation created for %s, to be emailed to them. The link below is shown only once, should you want to pass it on yourself.",
			*inv.Email)
	}
	s.addFlash(c, "ok", msg)
	s.addFlash(c, "link", s.cfg.BaseURL+"/invite/"+token)
	c.Redirect(http.StatusSeeOther, "/admin/invitations")
}

func (s *Server) revokeInvitation(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	err := s.gov.RevokeInvitation(c.Request.Context(), *member(c), id)
	if v := errorsOf(err); v != nil {
		s.renderInvitations(c, http.StatusUnprocessableEntity, form{Errors: v})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/invitations", "Invitation revoked.")
}
