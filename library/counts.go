package library

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Counting a search's total and facets reads every match, which over ten
// thousand resources is most of a library page's time, and the answer is
// the same for every reader until something is committed. countCache keeps
// the answers while SQLite's data_version stands still (it moves with any
// commit, this process's or another's) and forgets them all when it moves.
type countCache struct {
	mu      sync.Mutex
	known   bool
	version int64
	entries map[string]counted
}

type counted struct {
	total  int
	facets Facets
}

// countCacheSize bounds the entries: search text is unbounded, so when the
// cache is full it starts again empty.
const countCacheSize = 512

// counts returns q's total and facets, from the cache when nothing has been
// committed since they were counted.
func (s *Service) counts(ctx context.Context, q Query, match string) (int, Facets, error) {
	v, err := s.db.DataVersion(ctx)
	if err != nil {
		return s.facets(ctx, q, match)
	}
	key := fmt.Sprintf("%q|%q|%q|%q|%q|%d|%d", match, q.Topics, q.Formats, q.Languages, q.Regions, q.YearFrom, q.YearTo)
	c := &s.countCache
	c.mu.Lock()
	if !c.known || c.version != v {
		c.known, c.version, c.entries = true, v, map[string]counted{}
	}
	hit, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return hit.total, hit.facets.clone(), nil
	}
	total, facets, err := s.facets(ctx, q, match)
	if err != nil {
		return 0, Facets{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Counted after v was read, so at least as new as v: keep it for v only.
	if c.version == v {
		if len(c.entries) >= countCacheSize {
			clear(c.entries)
		}
		c.entries[key] = counted{total, facets.clone()}
	}
	return total, facets, nil
}

func (f Facets) clone() Facets {
	return Facets{Topics: slices.Clone(f.Topics), Formats: slices.Clone(f.Formats), Languages: slices.Clone(f.Languages),
		Regions: slices.Clone(f.Regions), Decades: slices.Clone(f.Decades)}
}
