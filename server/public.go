package server

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"plenary/governance"
	"plenary/library"
)

func (s *Server) healthz(c *gin.Context) {
	if err := s.db.R.PingContext(c.Request.Context()); err != nil {
		s.log.Error("healthz", "err", err)
		c.String(http.StatusServiceUnavailable, "database unavailable\n")
		return
	}
	c.String(http.StatusOK, "ok\n")
}

type homeData struct {
	Awaiting  []governance.Proposal
	Demands   library.DemandGroups
	Resources []library.Resource
	Ledger    []ledgerRow
	// Priorities is the priority list's first three (officers.go), and
	// the ballot that set it; nil when none is set.
	Priorities *governance.PriorityList
}

// homeDemands is how many demands of each group the home page shows.
const homeDemands = 5

func (s *Server) showHome(c *gin.Context) {
	ctx := c.Request.Context()
	// Opened and closed ballots first, so that no demand is shown under a
	// ballot that has ended.
	if err := s.gov.Advance(ctx); err != nil {
		s.fail(c, err)
		return
	}
	entries, _, err := s.gov.Ledger(ctx, 1)
	if err != nil {
		s.fail(c, err)
		return
	}
	demands, err := s.lib.GroupedDemands(ctx, homeDemands)
	if err != nil {
		s.fail(c, err)
		return
	}
	newest, err := s.lib.Newest(ctx, 6)
	if err != nil {
		s.fail(c, err)
		return
	}
	var awaiting []governance.Proposal
	if m := member(c); m != nil {
		if awaiting, err = s.gov.AwaitingVote(ctx, *m); err != nil {
			s.fail(c, err)
			return
		}
	}
	prio, err := s.priorities(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if prio != nil {
		prio.Demands = prio.Demands[:min(3, len(prio.Demands))]
	}
	s.render(c, http.StatusOK, "home", view{Title: s.cfg.Name, Data: homeData{Awaiting: awaiting,
		Demands: demands, Resources: newest, Ledger: ledgerRows(entries[:min(5, len(entries))]), Priorities: prio}})
}

// pageParam reads ?page= through pageNumber.
func pageParam(c *gin.Context) int { return pageNumber(c.Query("page")) }

type ledgerData struct {
	Entries []ledgerRow
	Pager   pagination
}

// ledgerRow is an entry as pages write it: its summary as a sentence whose
// proposal, demand or resource links to its page.
type ledgerRow struct {
	governance.Entry
	Sentence []phrase
}

// phrase is words of a sentence, and where they link ("" for none).
type phrase struct{ Text, Href string }

func ledgerRows(es []governance.Entry) []ledgerRow {
	rows := make([]ledgerRow, len(es))
	for i, e := range es {
		rows[i].Entry = e
		for _, p := range e.Phrases() {
			rows[i].Sentence = append(rows[i].Sentence, phrase{Text: p.Text, Href: subjectPath(p.Subject)})
		}
	}
	return rows
}

// subjectPath is the public page of what an entry is about, built from its
// number alone.
func subjectPath(s *governance.Subject) string {
	if s == nil {
		return ""
	}
	switch s.Kind {
	case "proposal":
		return fmt.Sprintf("/proposals/%d", s.ID)
	case "demand":
		return fmt.Sprintf("/demands/%d", s.ID)
	case "resource":
		return fmt.Sprintf("/library/%d", s.ID)
	}
	return ""
}

func (s *Server) showLedger(c *gin.Context) {
	page := pageParam(c)
	entries, total, err := s.gov.Ledger(c.Request.Context(), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	pager := newPagination(page, total, governance.LedgerPerPage, func(p int) string { return fmt.Sprintf("/ledger?page=%d", p) })
	s.render(c, http.StatusOK, "ledger", view{Title: "Ledger", Data: ledgerData{Entries: ledgerRows(entries), Pager: pager}})
}
