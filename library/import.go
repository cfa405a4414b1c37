package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	DemandsAdded   int
	DemandsSkipped int // demands whose title is already in the register
	Rejected       []RowError
}

// checkedResource is a valid resource row of an import.
type checkedResource struct {
	row ResourceRow
	r   Resource
}

// checkedDemand is a valid demand row of an import, its supporting
// resources still as link keys.
type checkedDemand struct {
	d    Demand
	keys []string
}

// Import adds an import file's resources and demands to the library, as an
// operator's act: resources come in listed unless our JSON says otherwise.
//
// Every row is checked first, by the rules a form uses; if any is wrong,
// nothing is imported and the report lists each wrong row with ErrRejected.
// Otherwise, in one transaction:
//   - a resource with the link (normalised) or DOI of one in the library
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
	dec, err := Decode(data)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Format: dec.Format, Rejected: dec.Rejected}

	var resources []checkedResource
	inFile := map[string]bool{} // link keys of the file's resources
	for _, row := range dec.Resources {
		r, errs := row.Input.resource()
		switch strings.ToLower(strings.TrimSpace(row.Status)) {
		case "", StatusListed:
			r.Status = StatusListed
		case StatusPending, StatusHidden:
			r.Status = strings.ToLower(strings.TrimSpace(row.Status))
		default:
			errs["status"] = "Choose listed, pending or hidden."
		}
		if r.URL != "" {
			inFile[urlKey(r.URL)] = true
		}
		if len(errs) > 0 {
			rep.Rejected = append(rep.Rejected, rowErrors(row.Row, row.Line, false, errs)...)
			continue
		}
		resources = append(resources, checkedResource{row: row, r: r})
	}

	var demands []checkedDemand
	for _, row := range dec.Demands {
		d, errs := row.Input.demand()
		switch strings.ToLower(strings.TrimSpace(row.Status)) {
		case "", DemandProposed, DemandEndorsed:
			d.Status = DemandProposed
		case DemandRejected, DemandWithdrawn:
			d.Status = strings.ToLower(strings.TrimSpace(row.Status))
		default:
			errs["status"] = "Choose proposed, rejected or withdrawn."
		}
		keys, msg, err := s.supportingKeys(ctx, row.URLs, inFile)
		if err != nil {
			return ImportReport{}, err
		}
		if msg != "" {
			errs["resources"] = msg
		}
		if len(errs) > 0 {
			rep.Rejected = append(rep.Rejected, rowErrors(row.Row, 0, true, errs)...)
			continue
		}
		demands = append(demands, checkedDemand{d: d, keys: keys})
	}

	if n := len(rep.Rejected); n > 0 {
		sort.SliceStable(rep.Rejected, func(i, j int) bool {
			a, b := rep.Rejected[i], rep.Rejected[j]
			if a.Demand != b.Demand {
				return !a.Demand
			}
			return a.Row < b.Row
		})
		rows := map[[2]int]bool{}
		for _, e := range rep.Rejected {
			rows[[2]int{boolInt(e.Demand), e.Row}] = true
		}
		return rep, fmt.Errorf("%w: %d %s wrong, so nothing was imported", ErrRejected, len(rows), plural(len(rows), "row is", "rows are"))
	}

	err = s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		rep.Added, rep.Updated, rep.Duplicates, rep.DemandsAdded, rep.DemandsSkipped = 0, 0, 0, 0, 0
		ids := map[string]int64{} // link key in the file → the resource it became
		seen := fileKeys{}
		for _, c := range resources {
			id, outcome, err := s.importResource(ctx, tx, c, seen)
			if err != nil {
				return err
			}
			switch outcome {
			case added:
				rep.Added++
			case updated:
				rep.Updated++
			default:
				rep.Duplicates++
			}
			ids[urlKey(c.r.URL)] = id
			seen.add(c.r, id)
		}
		titles := map[string]bool{}
		for _, c := range demands {
			var exists bool
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM demands WHERE title = ?)`, c.d.Title); err != nil {
				return fmt.Errorf("library: import: find demand: %w", err)
			}
			if exists || titles[c.d.Title] {
				rep.DemandsSkipped++
				continue
			}
			titles[c.d.Title] = true
			d := c.d
			for _, key := range c.keys {
				id, ok := ids[key]
				if !ok {
					var err error
					if id, err = resourceByLink(ctx, tx, key); err != nil {
						return err
					}
				}
				if !containsID(d.Resources, id) {
					d.Resources = append(d.Resources, id)
				}
			}
			if _, err := s.insertDemand(ctx, tx, d); err != nil {
				return err
			}
			rep.DemandsAdded++
		}
		return nil
	})
	if err != nil {
		return ImportReport{Format: dec.Format}, err
	}
	return rep, nil
}

func rowErrors(row, line int, demand bool, errs ValidationError) []RowError {
	fields := make([]string, 0, len(errs))
	for f := range errs {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	out := make([]RowError, len(fields))
	for i, f := range fields {
		out[i] = RowError{Row: row, Line: line, Demand: demand, Field: f, Reason: errs[f]}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// supportingKeys checks a demand's supporting links: each must be a web
// address of a resource in the file (inFile) or in the library. It returns
// their keys, or a message for the person.
func (s *Service) supportingKeys(ctx context.Context, urls []string, inFile map[string]bool) ([]string, string, error) {
	var keys []string
	for _, raw := range urls {
		link, msg := checkURL(raw)
		if msg != "" {
			return nil, fmt.Sprintf("%q is not a full web address starting with https:// or http://.", raw), nil
		}
		key := urlKey(link)
		if slices.Contains(keys, key) {
			continue
		}
		if !inFile[key] {
			_, err := resourceByLink(ctx, s.db.R, key)
			if errors.Is(err, ErrNotFound) {
				return nil, fmt.Sprintf("No resource in this file or in the library has the link %s.", link), nil
			}
			if err != nil {
				return nil, "", err
			}
		}
		keys = append(keys, key)
	}
	if len(keys) > MaxSupporting {
		return nil, fmt.Sprintf("List at most %d supporting resources.", MaxSupporting), nil
	}
	return keys, "", nil
}

func resourceByLink(ctx context.Context, q sqlx.QueryerContext, key string) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `SELECT id FROM resources WHERE url_key = ? ORDER BY id LIMIT 1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("library: find resource by link: %w", err)
	}
	return id, nil
}

// fileKeys remembers the resources already imported from a file, so a
// resource twice in one file comes in once.
type fileKeys struct {
	links, dois, titles map[string]int64
}

func (k *fileKeys) add(r Resource, id int64) {
	if k.links == nil {
		k.links, k.dois, k.titles = map[string]int64{}, map[string]int64{}, map[string]int64{}
	}
	k.links[urlKey(r.URL)] = id
	if r.DOI != "" {
		k.dois[r.DOI] = id
	}
	if t := titleKey(r.Title); t != "" {
		k.titles[t] = id
	}
}

func (k fileKeys) match(r Resource) (int64, bool) {
	if id, ok := k.links[urlKey(r.URL)]; ok {
		return id, true
	}
	if id, ok := k.dois[r.DOI]; ok && r.DOI != "" {
		return id, true
	}
	id, ok := k.titles[titleKey(r.Title)]
	return id, ok && titleKey(r.Title) != ""
}

type outcome int

const (
	duplicate outcome = iota
	added
	updated
)

func (s *Service) importResource(ctx context.Context, tx *sqlx.Tx, c checkedResource, seen fileKeys) (int64, outcome, error) {
	r := c.r
	if id, ok := seen.match(r); ok {
		return id, duplicate, nil
	}
	var old Resource
	err := tx.GetContext(ctx, &old, `SELECT `+resourceColumns+` FROM resources
		WHERE url_key = ? OR (? <> '' AND doi = ?) ORDER BY url_key = ? DESC, id LIMIT 1`,
		urlKey(r.URL), r.DOI, r.DOI, urlKey(r.URL))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, 0, fmt.Errorf("library: import: find resource: %w", err)
	default:
		return s.mergeResource(ctx, tx, old, c.row.Input)
	}
	if t := titleKey(r.Title); t != "" {
		var id int64
		err := tx.GetContext(ctx, &id, `SELECT id FROM resources WHERE title_key = ? ORDER BY id LIMIT 1`, t)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, 0, fmt.Errorf("library: import: find title: %w", err)
		default:
			return id, duplicate, nil
		}
	}
	id, err := s.insertResource(ctx, tx, r)
	return id, added, err
}

// mergeResource lays a file's input over a resource already in the library:
// what the file gives replaces, what it leaves empty stays, and the link is
// kept (the two match already, or share a DOI).
func (s *Service) mergeResource(ctx context.Context, tx *sqlx.Tx, old Resource, in ResourceInput) (int64, outcome, error) {
	merged := InputOf(old)
	over := func(dst *string, src string) {
		if strings.TrimSpace(src) != "" {
			*dst = src
		}
	}
	over(&merged.Title, in.Title)
	over(&merged.Authors, in.Authors)
	over(&merged.Publisher, in.Publisher)
	over(&merged.Year, in.Year)
	over(&merged.Format, in.Format)
	over(&merged.Language, in.Language)
	over(&merged.Region, in.Region)
	over(&merged.Topics, in.Topics)
	over(&merged.Licence, in.Licence)
	over(&merged.Summary, in.Summary)
	over(&merged.DOI, in.DOI)
	over(&merged.ISBN, in.ISBN)
	r, errs := merged.resource()
	if len(errs) > 0 {
		return 0, 0, fmt.Errorf("library: import: resource %d with the file's changes: %w", old.ID, errs)
	}
	if sameMetadata(old, r) {
		return old.ID, duplicate, nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE resources SET title = ?, authors = ?, publisher = ?, year = ?, format = ?,
		language = ?, region = ?, topics = ?, licence = ?, summary = ?, doi = ?, isbn = ?, title_key = ?, updated_at = ?
		WHERE id = ?`,
		r.Title, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics, r.Licence, r.Summary,
		r.DOI, r.ISBN, titleKey(r.Title), s.now(), old.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("library: import: update resource: %w", err)
	}
	return old.ID, updated, nil
}

func sameMetadata(a, b Resource) bool {
	return a.Title == b.Title && a.URL == b.URL && slicesEqual(a.Authors, b.Authors) && a.Publisher == b.Publisher &&
		((a.Year == nil) == (b.Year == nil) && (a.Year == nil || *a.Year == *b.Year)) &&
		a.Format == b.Format && a.Language == b.Language && a.Region == b.Region && slicesEqual(a.Topics, b.Topics) &&
		a.Licence == b.Licence && a.Summary == b.Summary && a.DOI == b.DOI && a.ISBN == b.ISBN
}

func slicesEqual(a, b List) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
