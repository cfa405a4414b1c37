package library

import (
	"context"
	_ "embed"
	"fmt"
)

// starter is the library a new co-op starts with: real resources of the
// platform co-op field and the demands of Common Wealth's 2021 briefing,
// summarised in our own words.
//
//go:embed starter.json
var starter []byte

// LoadStarter imports the starter library into an empty library and
// reports whether it did; a library with anything in it is left alone, so
// a co-op that deleted or hid starter items never gets them back.
func (s *Service) LoadStarter(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.R.GetContext(ctx, &n, `SELECT (SELECT count(*) FROM resources) + (SELECT count(*) FROM demands)`); err != nil {
		return false, fmt.Errorf("library: count library: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := s.Import(ctx, starter); err != nil {
		return false, fmt.Errorf("library: load starter library: %w", err)
	}
	return true, nil
}
