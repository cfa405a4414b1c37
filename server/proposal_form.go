package server

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/internal/tz"
	"plenary/library"
)

// The yes/no proposal form, a page per kind (issue 16), and the notice a
// shared link to a running proposal opens.

type noticeData struct {
	Notice   governance.Notice
	Demand   *library.Demand
	Resource *library.Resource
	Next     string
}

// proposalNotice answers a shared link to a running proposal that this
// reader may not follow (issue 16): not a bare "Not found", but what it is,
// when its result will be public, and the way to log in. The status stays
// 404, as it is for anything the reader may not see; the page says no
// more than the public ledger does, and names the demand or resource only
// when that is public too.
func (s *Server) proposalNotice(c *gin.Context, id int64) {
	ctx := c.Request.Context()
	n, err := s.gov.ProposalNotice(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := noticeData{Notice: n, Next: c.Request.URL.Path}
	if n.DemandID != nil {
		if dem, err := s.lib.Demand(ctx, *n.DemandID); err == nil {
			d.Demand = &dem
		} else if !errors.Is(err, library.ErrNotFound) {
			s.fail(c, err)
			return
		}
	}
	if n.ResourceID != nil {
		if r, err := s.lib.Resource(ctx, library.Viewer{}, *n.ResourceID); err == nil {
			d.Resource = &r
		} else if !errors.Is(err, library.ErrNotFound) {
			s.fail(c, err)
			return
		}
	}
	s.render(c, http.StatusNotFound, "proposals/notice", view{Title: "A proposal for members", Data: d})
}

var proposalFields = []string{"kind", "title", "body", "demand_id", "resource_id", "new_title", "new_body", "new_audience",
	"opens", "opens_at", "days", "hours", "minutes"}

// The yes/no proposal form (issue 16) is a page per kind: /proposals/new
// without a kind asks which kind, and ?kind=K draws only K's fields. A
// demand or resource is picked by its title: fixed when the form was
// opened from its page (?demand=N, ?resource=N) or posted, else from a
// list. The voting period starts at the kind's own minimum.

// kindFields names the fields each yes/no kind draws beyond the title,
// text, opening and length every kind has.
var kindFields = map[string][]string{
	governance.KindEndorseDemand:   {"demand_id"},
	governance.KindEndorseResource: {"resource_id"},
	governance.KindWithdraw:        {"demand_id", "resource_id"},
	governance.KindAdoptDemand:     {"new_title", "new_audience", "new_body"},
	governance.KindMotion:          {},
}

// commonFields are the fields every kind's form draws.
var commonFields = []string{"kind", "title", "body", "opens", "opens_at", "days", "hours", "minutes"}

// kindSummaries says in a line what each kind does, for the first step.
var kindSummaries = map[string]string{
	governance.KindEndorseDemand:   "Put a demand from the register to a vote; carried, the co-op endorses it.",
	governance.KindAdoptDemand:     "Write a new demand and put it to a vote in one step.",
	governance.KindEndorseResource: "Put a resource from the library to a vote; carried, the co-op endorses it.",
	governance.KindWithdraw:        "Ask the co-op to stop endorsing a demand or a resource.",
	governance.KindMotion:          "Any other question the members answer yes or no.",
	governance.KindPrioritise:      "Members rank demands; the count gives the co-op's priority list.",
	governance.KindChoose:          "Members approve the resources they back among several.",
	governance.KindElect:           "Fill seats on a board or other office from a list of candidates.",
	governance.KindPoll:            "An open question with several answers.",
}

type newProposalData struct {
	Kind        string // a yes/no kind, or "" to choose one
	Kinds       []string
	ChoiceKinds []string
	KindNames   map[string]string
	Summaries   map[string]string
	Rule        governance.Rule
	Rules       []governance.Rule
	Audiences   []string
	Now         string
	// Demand and Resource are the subject the form was opened with or
	// posted, drawn by title; the lists are what may be picked otherwise.
	Demand        *library.Demand
	Resource      *library.Resource
	Demands       []library.Demand
	Resources     []library.Resource
	MoreResources bool
	// Other is a posted id the lists do not hold, echoed as it was sent.
	OtherDemand, OtherResource string
}

// ShowDemand and ShowResource say which of the subject fields the form
// draws.
func (d newProposalData) ShowDemand() bool {
	return slices.Contains(kindFields[d.Kind], "demand_id") && !(d.Kind == governance.KindWithdraw && d.Resource != nil && d.Demand == nil && d.OtherDemand == "")
}

func (d newProposalData) ShowResource() bool {
	return slices.Contains(kindFields[d.Kind], "resource_id") && !(d.Kind == governance.KindWithdraw && d.Demand != nil && d.Resource == nil && d.OtherResource == "")
}

// yesNoKinds are the kinds this form puts: amendments have their own form,
// opened from the endorsed item, and choices among options theirs
// (choice_form.go).
func yesNoKinds() []string {
	return slices.DeleteFunc(slices.Clone(governance.Kinds), func(k string) bool {
		return k == governance.KindAmendDemand || k == governance.KindAmendResource || governance.IsChoiceKind(k)
	})
}

// newProposalData gathers what f's kind's form draws.
func (s *Server) newProposalData(c *gin.Context, f form) (newProposalData, error) {
	ctx := c.Request.Context()
	rules, err := s.gov.Rules(ctx)
	if err != nil {
		return newProposalData{}, err
	}
	d := newProposalData{Kinds: yesNoKinds(), ChoiceKinds: choiceKinds, KindNames: governance.KindNames, Summaries: kindSummaries,
		Rules: rules, Audiences: library.Audiences, Now: tz.DateTime(s.cfg.Now().Add(24*time.Hour), s.zone(c))}
	if !slices.Contains(d.Kinds, f.Values["kind"]) {
		return d, nil
	}
	d.Kind = f.Values["kind"]
	for _, r := range rules {
		if r.Kind == d.Kind {
			d.Rule = r
		}
	}
	fields := kindFields[d.Kind]
	if slices.Contains(fields, "demand_id") {
		if d.Demand, err = s.pickedDemand(c, f.Values["demand_id"]); err != nil {
			return d, err
		}
		statuses := []string{library.DemandProposed, library.DemandRejected}
		if d.Kind == governance.KindWithdraw {
			statuses = []string{library.DemandEndorsed}
		}
		if d.Demand == nil {
			if d.Demands, err = s.lib.DemandsByStatus(ctx, statuses...); err != nil {
				return d, err
			}
			d.OtherDemand = strings.TrimSpace(f.Values["demand_id"])
		}
	}
	if slices.Contains(fields, "resource_id") {
		if d.Resource, err = s.pickedResource(c, f.Values["resource_id"]); err != nil {
			return d, err
		}
		if d.Resource == nil {
			if d.Kind == governance.KindWithdraw {
				d.Resources, d.MoreResources, err = s.lib.EndorsedResources(ctx)
			} else {
				d.Resources, d.MoreResources, err = s.lib.ResourcesToChoose(ctx, "")
			}
			if err != nil {
				return d, err
			}
			d.OtherResource = strings.TrimSpace(f.Values["resource_id"])
		}
	}
	// A listed id is picked in its list rather than echoed as other.
	for _, dem := range d.Demands {
		if strconv.FormatInt(dem.ID, 10) == d.OtherDemand {
			d.OtherDemand = ""
		}
	}
	for _, r := range d.Resources {
		if strconv.FormatInt(r.ID, 10) == d.OtherResource {
			d.OtherResource = ""
		}
	}
	return d, nil
}

// pickedDemand is the demand raw names, or nil if it names none.
func (s *Server) pickedDemand(c *gin.Context, raw string) (*library.Demand, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id < 1 {
		return nil, nil
	}
	d, err := s.lib.Demand(c.Request.Context(), id)
	switch {
	case errors.Is(err, library.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &d, nil
}

// pickedResource is the resource raw names that this member may see, or
// nil if it names none.
func (s *Server) pickedResource(c *gin.Context, raw string) (*library.Resource, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id < 1 {
		return nil, nil
	}
	r, err := s.lib.Resource(c.Request.Context(), viewer(c), id)
	switch {
	case errors.Is(err, library.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &r, nil
}

// renderNewProposal draws f's kind's form, or the first step when f names
// no kind. A message for a field the form does not draw (a forged field
// of another kind) is shown above the form, never lost.
func (s *Server) renderNewProposal(c *gin.Context, status int, f form) {
	data, err := s.newProposalData(c, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	drawn := append(slices.Clone(commonFields), kindFields[data.Kind]...)
	for field, msg := range f.Errors {
		if field != "" && !slices.Contains(drawn, field) {
			delete(f.Errors, field)
			f.Errors[""] = strings.TrimSpace(f.Errors[""] + " " + msg)
		}
	}
	title := "New proposal"
	if data.Kind != "" {
		title += ": " + governance.KindNames[data.Kind]
	}
	s.render(c, status, "proposals/new", view{Title: title, Form: f, Data: data})
}

func (s *Server) showNewProposal(c *gin.Context) {
	if k := c.Query("kind"); governance.IsChoiceKind(k) {
		s.showChoiceForm(c, k)
		return
	}
	kind := c.Query("kind")
	if !slices.Contains(yesNoKinds(), kind) {
		// The first step: which kind of proposal.
		s.renderNewProposal(c, http.StatusOK, form{Values: map[string]string{}})
		return
	}
	rule, err := s.choiceRule(c, kind)
	if err != nil {
		s.fail(c, err)
		return
	}
	m := rule.MinMinutes
	f := form{Values: map[string]string{"kind": kind, "opens": "now", "days": strconv.Itoa(m / 1440),
		"hours": strconv.Itoa(m % 1440 / 60), "minutes": strconv.Itoa(m % 60),
		"demand_id": c.Query("demand"), "resource_id": c.Query("resource")}}
	title, err := s.suggestedTitle(c, f.Values)
	if err != nil {
		s.fail(c, err)
		return
	}
	f.Values["title"] = title
	if len([]rune(f.Values["title"])) > governance.MaxProposalTitleLen {
		f.Values["title"] = string([]rune(f.Values["title"])[:governance.MaxProposalTitleLen-1]) + "…"
	}
	s.renderNewProposal(c, http.StatusOK, f)
}

// suggestedTitle names the demand or resource a new proposal's form was
// opened from, or is "" when it was opened from neither. The number comes
// from the address: one that names nothing this member may see
// (library.ErrNotFound) suggests no title rather than an error page.
func (s *Server) suggestedTitle(c *gin.Context, values map[string]string) (string, error) {
	verb := map[string]string{governance.KindEndorseDemand: "Endorse", governance.KindEndorseResource: "Endorse",
		governance.KindWithdraw: "Withdraw our endorsement of"}[values["kind"]]
	if verb == "" {
		return "", nil
	}
	var subject string
	var err error
	if id, perr := strconv.ParseInt(values["demand_id"], 10, 64); perr == nil {
		var d library.Demand
		d, err = s.lib.Demand(c.Request.Context(), id)
		subject = d.Title
	} else if id, perr := strconv.ParseInt(values["resource_id"], 10, 64); perr == nil {
		var r library.Resource
		r, err = s.lib.Resource(c.Request.Context(), viewer(c), id)
		subject = r.Title
	}
	switch {
	case errors.Is(err, library.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case subject == "":
		return "", nil
	}
	return verb + ": " + subject, nil
}

func (s *Server) propose(c *gin.Context) {
	if governance.IsChoiceKind(c.PostForm("kind")) {
		s.proposeChoice(c) // choice_form.go
		return
	}
	in := governance.ProposalInput{Kind: c.PostForm("kind"), Title: c.PostForm("title"), Body: c.PostForm("body"),
		DemandID: c.PostForm("demand_id"), ResourceID: c.PostForm("resource_id"), NewTitle: c.PostForm("new_title"),
		NewBody: c.PostForm("new_body"), NewAudience: c.PostForm("new_audience"), Opens: c.PostForm("opens"),
		OpensAt: c.PostForm("opens_at"), Days: c.PostForm("days"), Hours: c.PostForm("hours"), Minutes: c.PostForm("minutes"),
		Zone: s.zone(c)}
	var p governance.Proposal
	var err error
	if in.Kind == governance.KindAmendDemand || in.Kind == governance.KindAmendResource {
		// An amendment carries corrected content this form has no fields for.
		err = governance.ValidationError{"kind": "Propose an amendment from the endorsed resource's or demand's page."}
	} else {
		p, err = s.gov.Propose(c.Request.Context(), *member(c), in)
	}
	if v := errorsOf(err); v != nil {
		f := postedForm(c, proposalFields...)
		f.Errors = v
		s.renderNewProposal(c, http.StatusUnprocessableEntity, f)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.proposed(c, p)
}
