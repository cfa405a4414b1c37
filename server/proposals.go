package server

import (
	"errors"
	"fmt"
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

type proposalsData struct {
	Lists governance.ProposalLists
	Pager pagination
}

func (s *Server) listProposals(c *gin.Context) {
	page := pageParam(c)
	lists, err := s.gov.ProposalsPage(c.Request.Context(), member(c), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	pager := newPagination(page, lists.ClosedTotal, governance.ClosedPerPage, func(n int) string {
		return fmt.Sprintf("/proposals?page=%d#closed-h", n)
	})
	s.render(c, http.StatusOK, "proposals/index", view{Title: "Proposals", Data: proposalsData{Lists: lists, Pager: pager}})
}

// bar is one bar of a result chart, laid out for the template's SVG.
type bar struct {
	Label   string
	Count   int
	Width   int // of 400
	Y       int
	Pattern string
}

type proposalData struct {
	Proposal      governance.Proposal
	Demand        *library.Demand
	Resource      *library.Resource
	Participation governance.Participation
	Tally         governance.Tally
	Bars          []bar
	Box           []governance.BoxEntry
	BoxPager      pagination
	Receipt       string // the receipt being checked
	MaxReceiptLen int
	ReceiptHash   string
	ReceiptFound  string // the choice found for it, "" if none
	Comments      []governance.Comment
	CanComment    bool
	CanWithdraw   bool
	CanCancel     bool
	Choices       []string
	Now           time.Time
	VoteForm      form
	Choice        *choiceView // a choice's ballot, and its count once closed (choice_vote.go)
	CommentForm   form
	CancelForm    form
	// Issue 15: how many members' proxies the viewer holds in this ballot,
	// those who stood aside, and the form to stand aside.
	HeldProxies int
	Recusals    []governance.Recusal
	RecuseForm  form
	// Meeting is the general meeting whose agenda holds it, if any: its
	// chair opens the ballot.
	Meeting *governance.Meeting
}

func (s *Server) showProposal(c *gin.Context) {
	s.renderProposal(c, http.StatusOK, func(*proposalData) {})
}

// renderProposal draws a proposal's page; edit changes the data before
// drawing, to show a form's errors.
func (s *Server) renderProposal(c *gin.Context, status int, edit func(*proposalData)) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	m := member(c)
	p, err := s.gov.Proposal(ctx, m, id)
	if errors.Is(err, governance.ErrNotFound) {
		s.proposalNotice(c, id)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	d := proposalData{Proposal: p, Choices: governance.Choices, Now: s.cfg.Now().UTC(), MaxReceiptLen: governance.MaxReceiptLen,
		CanComment: p.CanComment(m), CanWithdraw: p.CanWithdraw(m), CanCancel: p.CanCancel(m)}
	pub := library.Viewer{}
	if m != nil {
		pub = viewer(c)
	}
	if p.DemandID != nil {
		// Every demand is public and none is ever deleted (the proposal's
		// demand_id is a foreign key), so a proposal whose demand cannot be
		// read is broken: a 500 to log, not a 404 that would say the
		// proposal is not there. %v, not %w, keeps library.ErrNotFound
		// from being shown as one.
		dem, err := s.lib.Demand(ctx, *p.DemandID)
		if err != nil {
			s.fail(c, fmt.Errorf("server: proposal %d: its demand %d: %v", p.ID, *p.DemandID, err))
			return
		}
		d.Demand = &dem
	}
	if p.ResourceID != nil {
		// A resource that is pending or hidden is kept from this viewer
		// (library.ErrNotFound): the proposal is shown without it, as its
		// own page would be refused. Any other error is a failure.
		r, err := s.lib.Resource(ctx, pub, *p.ResourceID)
		switch {
		case err == nil:
			d.Resource = &r
		case !errors.Is(err, library.ErrNotFound):
			s.fail(c, err)
			return
		}
	}
	if m != nil {
		if d.Participation, err = s.gov.Participation(ctx, *m, p); err != nil {
			s.fail(c, err)
			return
		}
	}
	if m != nil && p.Status == governance.ProposalVoting {
		held, err := s.gov.HeldProxies(ctx, *m, p.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.HeldProxies = len(held)
	}
	if g, ok, err := s.gov.AgendaOf(ctx, p.ID); err != nil {
		s.fail(c, err)
		return
	} else if ok {
		d.Meeting = &g
	}
	if p.Status == governance.ProposalVoting || p.Status == governance.ProposalClosed {
		if d.Recusals, err = s.gov.Recusals(ctx, p.ID); err != nil {
			s.fail(c, err)
			return
		}
	}
	if p.IsChoice() {
		if d.Choice, err = s.choiceOf(ctx, p, d.Participation); err != nil {
			s.fail(c, err)
			return
		}
	}
	if t, ok := p.Tally(); ok {
		d.Tally = t
		most := max(t.Yes, t.No, t.Abstain, 1)
		for i, b := range []struct {
			label, pattern string
			n              int
		}{{"Yes", "yes", t.Yes}, {"No", "no", t.No}, {"Abstain", "abstain", t.Abstain}} {
			d.Bars = append(d.Bars, bar{Label: b.label, Count: b.n, Width: b.n * 300 / most, Y: 10 + i*40, Pattern: b.pattern})
		}
	}
	if _, ok := p.Tally(); ok || (p.IsChoice() && p.Closed()) {
		page := 0 // none asked for: a found receipt chooses
		if raw := c.Query("box_page"); raw != "" {
			page = pageNumber(raw)
		}
		// A code too long to be a receipt is echoed and found in no ballot,
		// rather than ignored as if nothing had been asked. A receipt that
		// is found opens the box at its page.
		if r := c.Query("receipt"); r != "" {
			d.Receipt = r
			if len(r) <= governance.MaxReceiptLen {
				d.ReceiptHash = governance.ReceiptHash(r)
			}
			found, at, err := s.gov.FindReceipt(ctx, p, r)
			if err != nil {
				s.fail(c, err)
				return
			}
			if d.ReceiptFound = found; found != "" && page == 0 {
				page = at
			}
		}
		var total int
		if d.Box, total, err = s.gov.BoxPage(ctx, p, page); err != nil {
			s.fail(c, err)
			return
		}
		d.BoxPager = newPagination(page, total, governance.BoxPerPage, func(n int) string {
			return fmt.Sprintf("/proposals/%d?box_page=%d#box-h", p.ID, n)
		})
		d.BoxPager.PrevLabel, d.BoxPager.NextLabel = "← Previous", "Next →"
	}
	d.inWords()
	if d.Comments, err = s.gov.Comments(ctx, p.ID); err != nil {
		s.fail(c, err)
		return
	}
	edit(&d)
	s.render(c, status, "proposals/show", view{Title: p.Title, Data: d})
}

func (s *Server) castVote(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	if c.PostForm("choice_ballot") != "" {
		s.castChoice(c, id)
		return
	}
	res, err := s.gov.Vote(c.Request.Context(), *member(c), id, c.PostForm("choice"), c.PostForm("receipt"))
	s.answerVote(c, id, res, err, func(d *proposalData, errs map[string]string) {
		d.VoteForm = form{Values: map[string]string{"choice": c.PostForm("choice")}, Errors: errs}
	}, "vote")
}

func (s *Server) addComment(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	err := s.gov.AddComment(c.Request.Context(), *member(c), id, c.PostForm("body"))
	if v := errorsOf(err); v != nil {
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) {
			d.CommentForm = form{Values: map[string]string{"body": c.PostForm("body")}, Errors: v}
		})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/proposals/%d#comments", id), "Comment added.")
}

func (s *Server) withdrawProposal(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	err := s.gov.Withdraw(c.Request.Context(), *member(c), id)
	if v := errorsOf(err); v != nil {
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) { d.CancelForm = form{Errors: v} })
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/proposals/%d", id), "Proposal withdrawn.")
}

func (s *Server) cancelProposal(c *gin.Context) {
	id, ok := s.idParam(c)
	if !ok {
		return
	}
	err := s.gov.Cancel(c.Request.Context(), *member(c), id, c.PostForm("reason"))
	if v := errorsOf(err); v != nil {
		s.renderProposal(c, http.StatusUnprocessableEntity, func(d *proposalData) {
			d.CancelForm = form{Values: map[string]string{"reason": c.PostForm("reason")}, Errors: v}
		})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, fmt.Sprintf("/proposals/%d", id), "Proposal cancelled. The reason is on the ledger.")
}

type rulesData struct {
	Rules       []governance.Rule
	KindNames   map[string]string
	Forms       map[string]form
	Methods     map[string][]ruleMethod // per choice kind, the checkboxes
	MethodNames map[string]string
}

// ruleMethod is one method's checkbox on a choice kind's rule form.
type ruleMethod struct {
	Method  string
	Checked bool
}

// ruleMethods lists a choice kind's methods for its checkboxes: those
// allowed (f's "methods", comma separated) first in their order, the
// default first, then the rest.
func ruleMethods(kind string, f form) []ruleMethod {
	var out []ruleMethod
	on := strings.Split(f.Value("methods"), ",")
	for _, m := range on {
		if slices.Contains(governance.KindMethods[kind], m) {
			out = append(out, ruleMethod{Method: m, Checked: true})
		}
	}
	for _, m := range governance.KindMethods[kind] {
		if !slices.Contains(on, m) {
			out = append(out, ruleMethod{Method: m})
		}
	}
	return out
}

func (s *Server) showRules(c *gin.Context) {
	s.renderRules(c, http.StatusOK, "", form{})
}

func (s *Server) renderRules(c *gin.Context, status int, kind string, f form) {
	rules, err := s.gov.Rules(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	forms := map[string]form{}
	for _, r := range rules {
		forms[r.Kind] = form{Values: map[string]string{"quorum_pct": strconv.Itoa(r.QuorumPct), "threshold": r.Threshold,
			"min_minutes": strconv.Itoa(r.MinMinutes), "secret": strconv.FormatBool(r.Secret), "reminder_hours": strconv.Itoa(r.ReminderHours),
			"methods": r.Methods, "approval_pct": strconv.Itoa(r.ApprovalPct), "proxy_cap": strconv.Itoa(r.ProxyCap),
			"early_close": strconv.FormatBool(r.EarlyClose), "quorum_on": r.QuorumOn}}
	}
	if kind != "" {
		forms[kind] = f
	}
	methods := map[string][]ruleMethod{}
	for k := range governance.KindMethods {
		methods[k] = ruleMethods(k, forms[k])
	}
	s.render(c, status, "admin/rules", view{Title: "Rules", Data: rulesData{Rules: rules, KindNames: governance.KindNames, Forms: forms,
		Methods: methods, MethodNames: governance.MethodNames}})
}

func (s *Server) setRule(c *gin.Context) {
	in := governance.RuleInput{Kind: c.PostForm("kind"), QuorumPct: c.PostForm("quorum_pct"), Threshold: c.PostForm("threshold"),
		MinMinutes: c.PostForm("min_minutes"), Secret: c.PostForm("secret") == "true", ReminderHours: c.PostForm("reminder_hours"),
		Methods: c.PostFormArray("methods"), ApprovalPct: c.PostForm("approval_pct"), ProxyCap: c.PostForm("proxy_cap"),
		EarlyClose: c.PostForm("early_close") == "true", QuorumOn: c.PostForm("quorum_on")}
	err := s.gov.SetRule(c.Request.Context(), *member(c), in)
	if v := errorsOf(err); v != nil {
		f := postedForm(c, "quorum_pct", "threshold", "min_minutes", "secret", "reminder_hours", "approval_pct", "proxy_cap", "early_close",
			"quorum_on")
		f.Values["methods"] = strings.Join(in.Methods, ",")
		f.Errors = v
		kind := in.Kind
		if !slices.Contains(governance.Kinds, kind) {
			kind = ""
			s.renderMessage(c, http.StatusUnprocessableEntity, "Not changed", v["kind"])
			return
		}
		s.renderRules(c, http.StatusUnprocessableEntity, kind, f)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/rules", governance.KindNames[in.Kind]+": rules saved. Ballots already open keep the rules they opened with.")
}

// proposed answers a stored proposal (a yes/no question or a choice): its
// page, with when voting opens or closes.
func (s *Server) proposed(c *gin.Context, p governance.Proposal) {
	msg := "Your proposal is in discussion. Voting opens " + tz.DateTime(p.OpensAt, s.zone(c)) + "."
	if p.Status == governance.ProposalVoting {
		msg = "Your proposal is open for voting until " + tz.DateTime(p.ClosesAt, s.zone(c)) + "."
	}
	s.redirect(c, fmt.Sprintf("/proposals/%d", p.ID), msg)
}
