package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/library"
)

type demandsData struct {
	Demands   []library.Demand
	Audience  string
	Status    string
	Audiences []string
	Statuses  []string
	Pager     pagination
	// Priorities is the co-op's priority list (officers.go), nil when
	// none is set.
	Priorities *governance.PriorityList
}

var demandStatuses = []string{library.DemandProposed, library.DemandEndorsed, library.DemandRejected, library.DemandWithdrawn}

func (s *Server) listDemands(c *gin.Context) {
	q := library.DemandQuery{Page: pageParam(c)}
	if a := c.Query("audience"); slices.Contains(library.Audiences, a) {
		q.Audience = a
	}
	if st := c.Query("status"); slices.Contains(demandStatuses, st) {
		q.Status = st
	}
	ds, total, err := s.lib.Demands(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	pager := newPagination(q.Page, total, library.DemandsPerPage, func(p int) string {
		return "/demands?" + url.Values{"audience": {q.Audience}, "status": {q.Status}, "page": {strconv.Itoa(p)}}.Encode()
	})
	prio, err := s.priorities(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "demands/index", view{Title: "Demands", Data: demandsData{Demands: ds, Audience: q.Audience,
		Status: q.Status, Audiences: library.Audiences, Statuses: demandStatuses, Pager: pager, Priorities: prio}})
}

type demandData struct {
	Demand      library.Demand
	Resources   []library.Resource
	CanEdit     bool
	Endorsement *governance.Endorsement // nil unless endorsed
}

func (s *Server) showDemand(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	d, err := s.lib.Demand(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := viewer(c)
	rs, err := s.lib.ResourcesByID(c.Request.Context(), v, d.Resources)
	if err != nil {
		s.fail(c, err)
		return
	}
	e, err := s.endorsement(c, "demand", id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "demands/show", view{Title: d.Title, Data: demandData{Demand: d, Resources: rs,
		CanEdit: library.CanEditDemand(v, d), Endorsement: e}})
}

var demandFields = []string{"title", "body", "audience", "resources"}

func demandInput(c *gin.Context) library.DemandInput {
	return library.DemandInput{Title: c.PostForm("title"), Body: c.PostForm("body"), Audience: c.PostForm("audience"), Resources: c.PostForm("resources")}
}

type demandFormData struct {
	Action    string
	Editing   bool
	Audiences []string
}

func (s *Server) showNewDemand(c *gin.Context) {
	f := form{Values: map[string]string{"resources": c.Query("resource")}}
	s.render(c, http.StatusOK, "demands/form", view{Title: "Draft a demand", Form: f,
		Data: demandFormData{Action: "/demands/new", Audiences: library.Audiences}})
}

func (s *Server) draftDemand(c *gin.Context) {
	d, err := s.lib.DraftDemand(c.Request.Context(), viewer(c), demandInput(c))
	if v := errorsOf(err); v != nil {
		f := postedForm(c, demandFields...)
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "demands/form", view{Title: "Draft a demand", Form: f,
			Data: demandFormData{Action: "/demands/new", Audiences: library.Audiences}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/demands/%d", d.ID), "Your demand is on the register as proposed. A ballot decides whether the co-op endorses it.")
}

func (s *Server) showEditDemand(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	d, err := s.lib.Demand(c.Request.Context(), id)
	if err == nil && d.Status == library.DemandEndorsed {
		s.refuseEndorsed(c, library.ErrEndorsedDemand)
		return
	}
	if err == nil && !library.CanEditDemand(viewer(c), d) {
		err = errForbidden
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	in := library.InputOfDemand(d)
	f := form{Values: map[string]string{"title": in.Title, "body": in.Body, "audience": in.Audience, "resources": in.Resources}}
	s.render(c, http.StatusOK, "demands/form", view{Title: "Edit demand", Form: f,
		Data: demandFormData{Action: fmt.Sprintf("/demands/%d/edit", id), Editing: true, Audiences: library.Audiences}})
}

func (s *Server) updateDemand(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	_, err := s.lib.UpdateDemand(c.Request.Context(), viewer(c), id, demandInput(c))
	if v := errorsOf(err); v != nil {
		f := postedForm(c, demandFields...)
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "demands/form", view{Title: "Edit demand", Form: f,
			Data: demandFormData{Action: fmt.Sprintf("/demands/%d/edit", id), Editing: true, Audiences: library.Audiences}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/demands/%d", id), "Demand updated.")
}
