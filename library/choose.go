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
