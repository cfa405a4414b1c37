package library

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// ErrRejected says an import changed nothing because some rows were wrong;
// the report lists them.
var ErrRejected = errors.New("library: import rejected")

// ImportReport says what an import did, or why it did nothing.
type ImportReport struct {
	Format         string // in words, from FileFormatNames
	Added          int
	Updated        int
	Duplicates     int // resources already in the library, or twice in the file
	Endorsed       int // resources a ballot endorsed: skipped, left as members endorsed them
	UnderBallot    int // resources a proposal in discussion or voting is about: skipped, unchanged
	DemandsAdded   int
	DemandsSkipped int // demands whose title is already in the register
	Rejected       []RowError
}

// Import adds an import file's resources and demands to the library, as an
// operator's act: resources come in listed unless our JSON says otherwise.
//
// Every row is checked first, by the rules a form uses; if any is wrong,
// nothing is imported and the report lists each wrong row with ErrRejected.
// Otherwise, in one transaction:
//   - a resource with the link (normalised) or DOI of one in the library
//     that a ballot endorsed, or that a proposal in discussion or voting is
//     about, is skipped and the resource left exactly as it is;
//   - a resource with the link or DOI of any other one in the library
//     updates its metadata if anything differs (a field the file leaves
//     empty, or a format cannot carry, keeps its value; the link, status and
//     endorsement are never changed), and is a duplicate if nothing does;
//   - a resource with only the title (normalised) of one in the library, or
//     with the link, DOI or title of one earlier in the file, is a
//     duplicate and skipped;
//   - any other resource is added;
//   - a demand is added as proposed (or rejected or withdrawn, if the file
//     says so) unless a demand with the same title exists. Its supporting
//     resources are links that must be in the file or in the library.
//
// Import never endorses anything: endorsement comes only from a ballot, so
// an "endorsed" demand in a file comes in as proposed, and endorsement
// fields in a file are ignored.
func (s *Service) Import(ctx context.Context, data []byte) (ImportReport, error) {
	return s.importData(ctx, data, nil)
}

// importData is Import, with a check that runs first inside the import's
// transaction, under the writers' lock: if it returns an error, nothing is
// imported and importData returns that error.
func (s *Service) importData(ctx context.Context, data []byte, first func(*sqlx.Tx) error) (ImportReport, error) {
	dec, err := Decode(data)
	if err != nil {
		return ImportReport{}, err
	}
	var rep ImportReport
	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if first != nil {
			if err := first(tx); err != nil {
				return err
			}
		}
		p, err := s.plan(ctx, tx, dec)
		if err != nil {
			return err
		}
		if len(p.rejected) > 0 {
			rep = ImportReport{Format: p.format, Rejected: p.rejected}
			return p.rejection()
		}
		rep, err = s.apply(ctx, tx, p)
		return err
	})
	switch {
	case errors.Is(err, ErrRejected):
		return rep, err
	case err != nil:
		return ImportReport{Format: dec.Format}, err
	}
	return rep, nil
}

// apply carries out a plan without wrong rows, in the caller's transaction.
func (s *Service) apply(ctx context.Context, tx *sqlx.Tx, p importPlan) (ImportReport, error) {
	rep := ImportReport{Format: p.format}
	var inserts, updates []*Resource
	for i := range p.resources {
		switch st := &p.resources[i]; st.step {
		case stepInsert:
			inserts = append(inserts, &st.r)
		case stepUpdate:
			updates = append(updates, st.merged)
		}
	}
	added, err := s.insertResources(ctx, tx, inserts)
	if err != nil {
		return ImportReport{}, err
	}
	if err := s.updateResources(ctx, tx, updates); err != nil {
		return ImportReport{}, err
	}

	ids := make([]int64, len(p.resources))
	links := make(map[string]int64, len(p.resources)) // link key in the file → the resource it became
	for i := range p.resources {
		st := &p.resources[i]
		ids[i] = st.id
		switch st.step {
		case stepInsert:
			ids[i] = added[st.link]
			rep.Added++
		case stepUpdate:
			rep.Updated++
		case stepDuplicate:
			if st.earlier >= 0 {
				ids[i] = ids[st.earlier]
			}
			rep.Duplicates++
		case stepEndorsed:
			rep.Endorsed++
		case stepUnderBallot:
			rep.UnderBallot++
		}
		links[st.link] = ids[i]
	}

	for _, st := range p.demands {
		if st.skip {
			rep.DemandsSkipped++
			continue
		}
		d := st.d
		for _, key := range st.keys {
			id, ok := links[key]
			if !ok {
				id = p.linked[key]
			}
			if !slices.Contains(d.Resources, id) {
				d.Resources = append(d.Resources, id)
			}
		}
		if _, err := s.insertDemand(ctx, tx, d); err != nil {
			return ImportReport{}, err
		}
		rep.DemandsAdded++
	}
	return rep, nil
}

// importBatch is how many rows one statement writes or looks up. Each
// statement that writes makes the full-text index write out what it holds
// in memory, so a statement per resource took about five times as long as
// batches do. 500 rows of 19 columns stay well under SQLite's limit of
// 32,766 parameters.
const importBatch = 500

// valueRows writes n rows of cols placeholders: "(?, ?), (?, ?)".
func valueRows(cols, n int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.Repeat(row+", ", n-1) + row
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// insertResources adds resources as insertResource would, in file order, and
// returns the id of each by its link key (unique among them: the plan made
// a second row with a link a duplicate).
func (s *Service) insertResources(ctx context.Context, tx *sqlx.Tx, rs []*Resource) (map[string]int64, error) {
	ids := make(map[string]int64, len(rs))
	now := s.now()
	for batch := range slices.Chunk(rs, importBatch) {
		args := make([]any, 0, 19*len(batch))
		for _, r := range batch {
			var listedAt any
			if r.Status == StatusListed {
				listedAt = now
			}
			args = append(args, r.Title, r.URL, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics,
				r.Licence, r.Summary, r.DOI, r.ISBN, urlKey(r.URL), titleKey(r.Title), r.Status, now, now, listedAt)
		}
		var got []struct {
			ID     int64  `db:"id"`
			URLKey string `db:"url_key"`
		}
		err := tx.SelectContext(ctx, &got, `INSERT INTO resources (title, url, authors, publisher, year, format, language,
			region, topics, licence, summary, doi, isbn, url_key, title_key, status, created_at, updated_at, listed_at)
			VALUES `+valueRows(19, len(batch))+` RETURNING id, url_key`, args...)
		if err != nil {
			return nil, fmt.Errorf("library: import: insert resources: %w", err)
		}
		for _, g := range got {
			ids[g.URLKey] = g.ID
		}
	}
	return ids, nil
}

// updateResources writes the plan's new details for resources in the
// library. The plan carries each change over to the next row that matches
// the same resource, so only the last update of each is written. The year
// is cast: in a batch where every year is unknown, PostgreSQL would take
// the VALUES column of NULLs for text.
func (s *Service) updateResources(ctx context.Context, tx *sqlx.Tx, rs []*Resource) error {
	last := make(map[int64]int, len(rs))
	for i, r := range rs {
		last[r.ID] = i
	}
	var final []*Resource
	for i, r := range rs {
		if last[r.ID] == i {
			final = append(final, r)
		}
	}
	now := s.now()
	for batch := range slices.Chunk(final, importBatch) {
		args := make([]any, 0, 14*len(batch))
		for _, r := range batch {
			args = append(args, r.ID, r.Title, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics,
				r.Licence, r.Summary, r.DOI, r.ISBN, titleKey(r.Title))
		}
		_, err := tx.ExecContext(ctx, `UPDATE resources SET title = u.column2, authors = u.column3, publisher = u.column4,
			year = CAST(u.column5 AS INTEGER), format = u.column6, language = u.column7, region = u.column8, topics = u.column9,
			licence = u.column10, summary = u.column11, doi = u.column12, isbn = u.column13, title_key = u.column14,
			updated_at = ?
			FROM (VALUES `+valueRows(14, len(batch))+`) AS u WHERE resources.id = u.column1`, append([]any{now}, args...)...)
		if err != nil {
			return fmt.Errorf("library: import: update resources: %w", err)
		}
	}
	return nil
}
