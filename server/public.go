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
	Endorsed  []library.Demand
	Resources []library.Resource
	Ledger    []governance.Entry
	// Priorities is the priority list's first three (officers.go), and
	// the ballot that set it; nil when none is set.
	Priorities *governance.PriorityList
}

func (s *Server) showHome(c *gin.Context) {
	ctx := c.Request.Context()
	entries, _, err := s.gov.Ledger(ctx, 1)
	if err != nil {
		s.fail(c, err)
		return
	}
	endorsed, _, err := s.lib.Demands(ctx, library.DemandQuery{Status: library.DemandEndorsed})
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
		Endorsed: endorsed, Resources: newest, Ledger: entries[:min(5, len(entries))], Priorities: prio}})
}

// pageParam reads ?page= through pageNumber.
func pageParam(c *gin.Context) int { return pageNumber(c.Query("page")) }

type ledgerData struct {
	Entries []governance.Entry
	Pager   pagination
}

func (s *Server) showLedger(c *gin.Context) {
	page := pageParam(c)
	entries, total, err := s.gov.Ledger(c.Request.Context(), page)
	if err != nil {
		s.fail(c, err)
		return
	}
	pager := newPagination(page, total, governance.LedgerPerPage, func(p int) string { return fmt.Sprintf("/ledger?page=%d", p) })
	s.render(c, http.StatusOK, "ledger", view{Title: "Ledger", Data: ledgerData{Entries: entries, Pager: pager}})
}
