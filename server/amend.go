package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/tz"
	"plenary/library"
)

// The amend form: the one way to change what a ballot endorsed. It opens
// from an endorsed resource's or demand's page with its content filled in;
// the member corrects it and puts the amendment to the co-op.

// amendFields are the amend form's fields: the proposal's, then the
// corrected content's, each prefixed "to_".
var amendFields = []string{"kind", "resource_id", "demand_id", "title", "body", "opens", "opens_at", "days", "hours", "minutes",
	"to_title", "to_url", "to_authors", "to_publisher", "to_year", "to_format", "to_language", "to_region", "to_topics",
	"to_licence", "to_summary", "to_doi", "to_isbn", "to_body", "to_audience", "to_resources"}

type amendData struct {
	Resource  bool   // amending a resource, else a demand
	ID        int64  // of the resource or demand, 0 if the number given is not one
	Subject   string // its title as it stands
	Formats   []string
	Audiences []string
	Now       string
}

func (s *Server) amendData(c *gin.Context, kind string, id int64, subject string) amendData {
	return amendData{Resource: kind == governance.KindAmendResource, ID: id, Subject: subject, Formats: library.Formats,
		Audiences: library.Audiences, Now: tz.Input(s.cfg.Now().Add(24*time.Hour), s.zone(c))}
}

func (s *Server) showAmend(c *gin.Context) {
	ctx := c.Request.Context()
	f := form{Values: map[string]string{"opens": "now", "hours": "0", "minutes": "0"}}
	var d amendData
	if raw := c.Query("resource"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 1 {
			s.fail(c, errNotFound)
			return
		}
		r, err := s.lib.Resource(ctx, viewer(c), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !r.Endorsed() {
			s.renderMessage(c, http.StatusConflict, "Not endorsed", fmt.Sprintf("Resource %d is not endorsed: edit it instead of proposing an amendment.", id))
			return
		}
		in := library.InputOf(r)
		for k, v := range map[string]string{"to_title": in.Title, "to_url": in.URL, "to_authors": in.Authors, "to_publisher": in.Publisher,
			"to_year": in.Year, "to_format": in.Format, "to_language": in.Language, "to_region": in.Region, "to_topics": in.Topics,
			"to_licence": in.Licence, "to_summary": in.Summary, "to_doi": in.DOI, "to_isbn": in.ISBN} {
			f.Values[k] = v
		}
		f.Values["kind"], f.Values["resource_id"], f.Values["days"] = governance.KindAmendResource, raw, "3"
		f.Values["title"] = shorten("Amend: "+r.Title, governance.MaxProposalTitleLen)
		d = s.amendData(c, governance.KindAmendResource, id, r.Title)
	} else {
		id, err := strconv.ParseInt(c.Query("demand"), 10, 64)
		if err != nil || id < 1 {
			s.fail(c, errNotFound)
			return
		}
		dm, err := s.lib.Demand(ctx, id)
		if err != nil {
			s.fail(c, err)
			return
		}
		if dm.Status != library.DemandEndorsed {
			s.renderMessage(c, http.StatusConflict, "Not endorsed", fmt.Sprintf("Demand %d is not endorsed: edit it instead of proposing an amendment.", id))
			return
		}
		in := library.InputOfDemand(dm)
		f.Values["to_title"], f.Values["to_body"], f.Values["to_audience"], f.Values["to_resources"] = in.Title, in.Body, in.Audience, in.Resources
		f.Values["kind"], f.Values["demand_id"], f.Values["days"] = governance.KindAmendDemand, strconv.FormatInt(id, 10), "7"
		f.Values["title"] = shorten("Amend: "+dm.Title, governance.MaxProposalTitleLen)
		d = s.amendData(c, governance.KindAmendDemand, id, dm.Title)
	}
	s.render(c, http.StatusOK, "proposals/amend", view{Title: "Propose an amendment", Form: f, Data: d})
}

func (s *Server) proposeAmendment(c *gin.Context) {
	kind := c.PostForm("kind")
	in := governance.ProposalInput{Kind: kind, Title: c.PostForm("title"), Body: c.PostForm("body"),
		Opens: c.PostForm("opens"), OpensAt: c.PostForm("opens_at"), Days: c.PostForm("days"), Hours: c.PostForm("hours"),
		Minutes: c.PostForm("minutes"), Zone: s.zone(c)}
	var err error
	switch kind {
	case governance.KindAmendResource:
		in.ResourceID = c.PostForm("resource_id")
		in.Resource = &library.ResourceInput{Title: c.PostForm("to_title"), URL: c.PostForm("to_url"), Authors: c.PostForm("to_authors"),
			Publisher: c.PostForm("to_publisher"), Year: c.PostForm("to_year"), Format: c.PostForm("to_format"),
			Language: c.PostForm("to_language"), Region: c.PostForm("to_region"), Topics: c.PostForm("to_topics"),
			Licence: c.PostForm("to_licence"), Summary: c.PostForm("to_summary"), DOI: c.PostForm("to_doi"), ISBN: c.PostForm("to_isbn")}
	case governance.KindAmendDemand:
		in.DemandID = c.PostForm("demand_id")
		in.Demand = &library.DemandInput{Title: c.PostForm("to_title"), Body: c.PostForm("to_body"), Audience: c.PostForm("to_audience"),
			Resources: c.PostForm("to_resources")}
	default:
		// This form proposes amendments only; other kinds have theirs.
		err = governance.ValidationError{"kind": "Choose what to amend: an endorsed resource or an endorsed demand."}
	}
	var p governance.Proposal
	if err == nil {
		p, err = s.gov.Propose(c.Request.Context(), *member(c), in)
	}
	if v := errorsOf(err); v != nil {
		f := postedForm(c, amendFields...)
		f.Errors = v
		s.render(c, http.StatusUnprocessableEntity, "proposals/amend", view{Title: "Propose an amendment", Form: f,
			Data: s.amendSubject(c, kind)})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/proposals/%d", p.ID), "Amendment proposed.")
}

// amendSubject describes, for a form sent back, the item the posted
// number names, if this member may see it; a forged number names none.
func (s *Server) amendSubject(c *gin.Context, kind string) amendData {
	ctx := c.Request.Context()
	if kind == governance.KindAmendResource {
		if id, err := strconv.ParseInt(c.PostForm("resource_id"), 10, 64); err == nil {
			if r, err := s.lib.Resource(ctx, viewer(c), id); err == nil {
				return s.amendData(c, kind, id, r.Title)
			}
		}
		return s.amendData(c, kind, 0, "")
	}
	if id, err := strconv.ParseInt(c.PostForm("demand_id"), 10, 64); err == nil {
		if d, err := s.lib.Demand(ctx, id); err == nil {
			return s.amendData(c, governance.KindAmendDemand, id, d.Title)
		}
	}
	return s.amendData(c, governance.KindAmendDemand, 0, "")
}

// shorten cuts s to n characters, with an ellipsis if it was longer.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
