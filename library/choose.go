package library

import (
	"context"
	"fmt"
	"strings"
)

// What a choice among options may offer (issue 14): the demands the co-op
// may prioritise and the resources it may choose to endorse, for the
// proposal form's lists. Proposing checks each one again
// (governance.ProposalInput.options).

// MaxChoosable is the most demands or resources the form lists at once.
const MaxChoosable = 200

// DemandsToPrioritise lists the proposed and endorsed demands, endorsed
// first, then by title; at most MaxChoosable.
func (s *Service) DemandsToPrioritise(ctx context.Context) ([]Demand, error) {
	var ds []Demand
	err := s.db.R.SelectContext(ctx, &ds, `SELECT `+demandColumns+` FROM demands WHERE status IN (?, ?)
		ORDER BY status = 'endorsed' DESC, title, id LIMIT ?`, DemandEndorsed, DemandProposed, MaxChoosable)
	if err != nil {
		return nil, fmt.Errorf("library: demands to prioritise: %w", err)
	}
	return ds, nil
}

// ResourcesToChoose lists the listed resources not yet endorsed whose
// title contains q (any case; all when q is empty), by title; at most
// MaxChoosable, and whether there were more.
func (s *Service) ResourcesToChoose(ctx context.Context, q string) ([]Resource, bool, error) {
	// Escape LIKE's wildcards so "%" and "_" match themselves.
	pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(strings.TrimSpace(q))) + "%"
	var rs []Resource
	err := s.db.R.SelectContext(ctx, &rs, `SELECT `+resourceColumns+` FROM resources
		WHERE status = ? AND endorsed_at IS NULL AND lower(title) LIKE ? ESCAPE '\' ORDER BY title, id LIMIT ?`,
		StatusListed, pattern, MaxChoosable+1)
	if err != nil {
		return nil, false, fmt.Errorf("library: resources to choose: %w", err)
	}
	if len(rs) > MaxChoosable {
		return rs[:MaxChoosable], true, nil
	}
	return rs, false, nil
}

// DemandsByStatus lists the demands in any of the statuses, by title; at
// most MaxChoosable. The yes/no proposal form picks a demand from it by
// title (issue 16): proposed and rejected ones to endorse, endorsed ones to
// withdraw.
func (s *Service) DemandsByStatus(ctx context.Context, statuses ...string) ([]Demand, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(statuses)), ", ")
	args := make([]any, 0, len(statuses)+1)
	for _, st := range statuses {
		args = append(args, st)
	}
	var ds []Demand
	err := s.db.R.SelectContext(ctx, &ds, `SELECT `+demandColumns+` FROM demands WHERE status IN (`+marks+`)
		ORDER BY title, id LIMIT ?`, append(args, MaxChoosable)...)
	if err != nil {
		return nil, fmt.Errorf("library: demands by status: %w", err)
	}
	return ds, nil
}

// EndorsedResources lists the listed resources the co-op endorses, by
// title; at most MaxChoosable, and whether there were more.
func (s *Service) EndorsedResources(ctx context.Context) ([]Resource, bool, error) {
	var rs []Resource
	err := s.db.R.SelectContext(ctx, &rs, `SELECT `+resourceColumns+` FROM resources
		WHERE status = ? AND endorsed_at IS NOT NULL ORDER BY title, id LIMIT ?`, StatusListed, MaxChoosable+1)
	if err != nil {
		return nil, false, fmt.Errorf("library: endorsed resources: %w", err)
	}
	if len(rs) > MaxChoosable {
		return rs[:MaxChoosable], true, nil
	}
	return rs, false, nil
}
