package library

import (
	"context"
	_ "embed"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
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
//
// Several processes sharing the database may start together, each finding
// the library empty: the library is counted again inside the import's
// transaction, under the writers' lock, so the first loads it and the
// others find it loaded.
func (s *Service) LoadStarter(ctx context.Context) (bool, error) {
	const count = `SELECT (SELECT count(*) FROM resources) + (SELECT count(*) FROM demands)`
	var n int
	if err := s.db.R.GetContext(ctx, &n, count); err != nil {
		return false, fmt.Errorf("library: count library: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	_, err := s.importData(ctx, starter, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &n, count); err != nil {
			return fmt.Errorf("library: count library: %w", err)
		}
		if n > 0 {
			return errLoaded
		}
		return nil
	})
	switch {
	case errors.Is(err, errLoaded):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("library: load starter library: %w", err)
	}
	return true, nil
}

// errLoaded: another process loaded the library first.
var errLoaded = errors.New("library: the library is no longer empty")
