package library

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// For the demo and benchmarks only: ListMany exists for generated
// libraries (internal/demo, behind `plenary demo` and the load program in
// bench/, and the benchmarks). It is not for the library's real users:
// request handlers and `plenary import` go through SubmitResource, the
// admin's queue and Import.

// Submission is a resource as a member submitted it, for ListMany (demo and
// benchmarks only).
type Submission struct {
	By    int64 // the member who submitted it; 0 for none
	Input ResourceInput
}

// ListMany, for the demo and benchmarks only, adds many resources at once,
// listed, as if each had been submitted by its member and listed by admin
// v: for generated libraries, where one transaction per resource is too
// slow. Every input goes through the checks SubmitResource makes; if any
// fails nothing is added and the error names the first. All go in one
// transaction. It returns the new resources' numbers, in order.
func (s *Service) ListMany(ctx context.Context, v Viewer, subs []Submission) ([]int64, error) {
	if !v.Admin {
		return nil, ErrForbidden
	}
	rs := make([]Resource, len(subs))
	for i, sub := range subs {
		r, errs := sub.Input.resource()
		if err := errs.Err(); err != nil {
			return nil, fmt.Errorf("library: resource %d of %d (%q): %w", i+1, len(subs), sub.Input.Title, err)
		}
		r.Status = StatusListed
		if sub.By != 0 {
			by := sub.By
			r.AddedBy = &by
		}
		rs[i] = r
	}
	ids := make([]int64, 0, len(rs))
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		for _, r := range rs {
			id, err := s.insertResource(ctx, tx, r)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
