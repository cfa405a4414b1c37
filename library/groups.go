package library

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DemandGroups is the register at a glance: the first few demands of each
// group and how many each group holds. The groups do not overlap: a
// proposed demand members are voting on is under ballot, not proposed.
type DemandGroups struct {
	Endorsed    []Demand
	UnderBallot []BallotDemand
	Proposed    []Demand
	// Totals of each group, for "all 12 endorsed demands".
	EndorsedTotal, UnderBallotTotal, ProposedTotal int
}

// BallotDemand is a proposed demand and the ballot on endorsing it that is
// open now (the one closing first, should there be two).
type BallotDemand struct {
	Demand
	Proposal int64     `db:"proposal_id"`
	ClosesAt time.Time `db:"closes_at"`
}

// votingOn is the condition "a proposal about demand d is in voting", the
// ballots the public ledger has announced.
const votingOn = `EXISTS (SELECT 1 FROM proposals p WHERE p.demand_id = d.id AND p.status = 'voting')`

// GroupedDemands returns up to n demands of each group: the endorsed ones
// as the register orders them, those under ballot closing soonest first,
// and the other proposed ones newest first. The register is public.
func (s *Service) GroupedDemands(ctx context.Context, n int) (DemandGroups, error) {
	var g DemandGroups
	var totals struct {
		Endorsed    int `db:"endorsed"`
		UnderBallot int `db:"under_ballot"`
		Proposed    int `db:"proposed"`
	}
	err := s.db.R.GetContext(ctx, &totals, `SELECT
		count(CASE WHEN d.status = 'endorsed' THEN 1 END) AS endorsed,
		count(CASE WHEN d.status = 'proposed' AND `+votingOn+` THEN 1 END) AS under_ballot,
		count(CASE WHEN d.status = 'proposed' AND NOT `+votingOn+` THEN 1 END) AS proposed
		FROM demands d`)
	if err != nil {
		return g, fmt.Errorf("library: count demand groups: %w", err)
	}
	g.EndorsedTotal, g.UnderBallotTotal, g.ProposedTotal = totals.Endorsed, totals.UnderBallot, totals.Proposed
	cols := "d." + strings.ReplaceAll(demandColumns, ", ", ", d.")
	if err := s.db.R.SelectContext(ctx, &g.Endorsed, `SELECT `+cols+` FROM demands d
		WHERE d.status = 'endorsed' ORDER BY d.endorsed_at DESC, d.id DESC LIMIT ?`, n); err != nil {
		return g, fmt.Errorf("library: endorsed demands: %w", err)
	}
	if err := s.db.R.SelectContext(ctx, &g.UnderBallot, `SELECT `+cols+`, p.id AS proposal_id, p.closes_at
		FROM demands d JOIN proposals p ON p.id = (SELECT q.id FROM proposals q
			WHERE q.demand_id = d.id AND q.status = 'voting' ORDER BY q.closes_at, q.id LIMIT 1)
		WHERE d.status = 'proposed' ORDER BY p.closes_at, d.id LIMIT ?`, n); err != nil {
		return g, fmt.Errorf("library: demands under ballot: %w", err)
	}
	if err := s.db.R.SelectContext(ctx, &g.Proposed, `SELECT `+cols+` FROM demands d
		WHERE d.status = 'proposed' AND NOT `+votingOn+` ORDER BY d.created_at DESC, d.id DESC LIMIT ?`, n); err != nil {
		return g, fmt.Errorf("library: proposed demands: %w", err)
	}
	return g, nil
}
