// The first step of an import: every row checked, matched against the
// library and against the rows above it, and given what the import will do
// with it. Nothing is written here.

package library

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"
)

// step is what an import does with one resource row.
type step int

const (
	stepInsert      step = iota // new to the library
	stepUpdate                  // new details for a resource in the library
	stepDuplicate               // in the library or above in the file, with nothing to change
	stepEndorsed                // a resource a ballot endorsed: skipped, left as members endorsed it
	stepUnderBallot             // a resource a proposal in discussion or voting is about: skipped, unchanged
)

// resourceStep is one resource row of a file and what the import does with it.
type resourceStep struct {
	row         ResourceRow
	r           Resource // the row, checked
	link, title string   // its link key and title key
	step        step
	// id is the library's resource the row matches, 0 if none; earlier is
	// the index of the row above that it repeats, -1 if none.
	id      int64
	earlier int
	merged  *Resource // stepUpdate: the library's resource with the row laid over it
}

// demandStep is one demand row and whether the import adds it.
type demandStep struct {
	d    Demand
	keys []string // supporting resources, as link keys
	skip bool     // the register, or a row above, already has its title
}

// importPlan is what an import will do, decided before anything is written.
type importPlan struct {
	format    string
	resources []resourceStep
	demands   []demandStep
	// linked is the library's resource for each link a demand cites that
	// is not in the file.
	linked   map[string]int64
	rejected []RowError
}

// plan checks every row of dec and decides what the import does with each,
// against the library as q sees it. Import runs it in the transaction that
// applies it, so nothing can change between the deciding and the doing.
//
// It looks up the file's links, DOIs and titles a batch of keys at a time,
// each through its index, and matches rows through maps, so the work grows
// with the file, not with the file times the library. (Asking the database
// per row made a 5,000-row file take seconds and a 50,000-row one minutes:
// the question "this link or this DOI" could use no index, so each row
// read the whole table, which grew as the rows above were inserted.)
func (s *Service) plan(ctx context.Context, q sqlx.QueryerContext, dec Decoded) (importPlan, error) {
	p := importPlan{format: dec.Format, rejected: dec.Rejected, linked: map[string]int64{}}
	inFile := p.checkResources(dec.Resources)
	lib, err := lookUp(ctx, q, p.resources, dec.Demands)
	if err != nil {
		return importPlan{}, err
	}
	p.checkDemands(dec.Demands, inFile, lib)
	p.matchResources(lib)
	if len(p.rejected) > 0 {
		sort.SliceStable(p.rejected, func(i, j int) bool {
			a, b := p.rejected[i], p.rejected[j]
			if a.Demand != b.Demand {
				return !a.Demand
			}
			return a.Row < b.Row
		})
		return p, nil
	}
	p.matchDemands(lib)
	return p, nil
}

// rejection is the error of a plan with wrong rows.
func (p importPlan) rejection() error {
	rows := map[[2]int]bool{}
	for _, e := range p.rejected {
		rows[[2]int{boolInt(e.Demand), e.Row}] = true
	}
	return fmt.Errorf("%w: %d %s wrong, so nothing was imported", ErrRejected, len(rows), plural(len(rows), "row is", "rows are"))
}

// checkResources checks each resource row by the rules a form uses, keeping
// the good ones, and returns the link keys of every row with a good link,
// wrong rows included: a demand citing a wrong row is told about the row,
// not that the link is unknown.
func (p *importPlan) checkResources(rows []ResourceRow) map[string]bool {
	inFile := make(map[string]bool, len(rows))
	p.resources = make([]resourceStep, 0, len(rows))
	for _, row := range rows {
		r, errs := row.Input.resource()
		switch strings.ToLower(strings.TrimSpace(row.Status)) {
		case "", StatusListed:
			r.Status = StatusListed
		case StatusPending, StatusHidden:
			r.Status = strings.ToLower(strings.TrimSpace(row.Status))
		default:
			errs["status"] = "Choose listed, pending or hidden."
		}
		var link string
		if r.URL != "" {
			link = urlKey(r.URL)
			inFile[link] = true
		}
		if len(errs) > 0 {
			p.rejected = append(p.rejected, rowErrors(row.Row, row.Line, false, errs)...)
			continue
		}
		p.resources = append(p.resources, resourceStep{row: row, r: r, link: link, title: titleKey(r.Title), earlier: -1})
	}
	return inFile
}

// checkDemands checks each demand row, its supporting links included: each
// must be a web address of a resource in the file or in the library.
func (p *importPlan) checkDemands(rows []DemandRow, inFile map[string]bool, lib *libraryIndex) {
	for _, row := range rows {
		d, errs := row.Input.demand()
		switch strings.ToLower(strings.TrimSpace(row.Status)) {
		case "", DemandProposed, DemandEndorsed:
			d.Status = DemandProposed
		case DemandRejected, DemandWithdrawn:
			d.Status = strings.ToLower(strings.TrimSpace(row.Status))
		default:
			errs["status"] = "Choose proposed, rejected or withdrawn."
		}
		keys, msg := p.supportingKeys(row.URLs, inFile, lib)
		if msg != "" {
			errs["resources"] = msg
		}
		if len(errs) > 0 {
			p.rejected = append(p.rejected, rowErrors(row.Row, 0, true, errs)...)
			continue
		}
		p.demands = append(p.demands, demandStep{d: d, keys: keys})
	}
}

// supportingKeys returns the link keys of a demand's supporting links, or
// a message for the person.
func (p *importPlan) supportingKeys(urls []string, inFile map[string]bool, lib *libraryIndex) ([]string, string) {
	var keys []string
	seen := map[string]bool{}
	for _, raw := range urls {
		link, msg := checkURL(raw)
		if msg != "" {
			return nil, fmt.Sprintf("%q is not a full web address starting with https:// or http://.", raw)
		}
		key := urlKey(link)
		if seen[key] {
			continue
		}
		seen[key] = true
		if !inFile[key] {
			ids := lib.links[key]
			if len(ids) == 0 {
				return nil, fmt.Sprintf("No resource in this file or in the library has the link %s.", link)
			}
			p.linked[key] = ids[0]
		}
		keys = append(keys, key)
	}
	if len(keys) > MaxSupporting {
		return nil, fmt.Sprintf("List at most %d supporting resources.", MaxSupporting)
	}
	return keys, ""
}

// matchResources decides each good resource row's step, in file order:
//   - a row with the link, DOI or title of a row above it is a duplicate;
//   - a row with the link (normalised) or DOI of a resource in the library
//     is skipped, and the resource left as it is, if a ballot endorsed the
//     resource or a proposal about it is in discussion or voting;
//   - otherwise such a row updates the resource's details if anything
//     differs, and is a duplicate if nothing does;
//   - a row with only the title (normalised) of a resource in the library
//     is a duplicate;
//   - any other row is inserted.
func (p *importPlan) matchResources(lib *libraryIndex) {
	n := len(p.resources)
	seen := fileKeys{links: make(map[string]int, n), dois: make(map[string]int, n), titles: make(map[string]int, n)}
	for i := range p.resources {
		st := &p.resources[i]
		if j, ok := seen.match(st); ok {
			st.step, st.earlier = stepDuplicate, j
		} else if old, ok := lib.match(st.link, st.r.DOI); ok {
			st.id = old.ID
			switch {
			case old.Endorsed():
				// What members endorsed changes only by another ballot.
				st.step = stepEndorsed
			case lib.underBallot[old.ID]:
				// Members are deciding on the resource as it stands, so the
				// database refuses to change it (the trigger
				// resources_frozen_under_ballot). Before the plan knew
				// this, the refusal failed the whole import with an
				// internal error, so one such row kept the whole file out
				// for the length of a ballot. Decided: skip the row and
				// report it in its own count, whether or not it would
				// change anything, and let the rest of the file in; the
				// same file imported again after the ballot closes brings
				// the change (and the rest are duplicates by then).
				st.step = stepUnderBallot
			default:
				p.merge(st, old, lib)
			}
		} else if id, ok := lib.titled(st.title); ok {
			st.step, st.id = stepDuplicate, id
		} else {
			st.step = stepInsert
		}
		seen.add(st, i)
	}
}

// merge decides the step of a row whose link or DOI matches a resource
// the import may change: an update if the row changes anything.
func (p *importPlan) merge(st *resourceStep, old Resource, lib *libraryIndex) {
	merged, errs := mergeResource(old, st.row.Input)
	switch {
	case len(errs) > 0:
		// The row is good and so is the resource, so only a resource a
		// form could not make now (from an older rule) ends here.
		p.rejected = append(p.rejected, rowErrors(st.row.Row, st.row.Line, false, errs)...)
	case sameMetadata(old, merged):
		st.step = stepDuplicate
	default:
		st.step, st.merged = stepUpdate, &merged
		lib.update(old.ID, merged)
	}
}

// matchDemands skips each demand whose title is in the register or above
// it in the file.
func (p *importPlan) matchDemands(lib *libraryIndex) {
	titles := make(map[string]bool, len(p.demands))
	for i := range p.demands {
		d := &p.demands[i]
		if lib.demands[d.d.Title] || titles[d.d.Title] {
			d.skip = true
			continue
		}
		titles[d.d.Title] = true
	}
}

// mergeResource lays a file's input over a resource already in the library:
// what the file gives replaces, what it leaves empty stays, and the link is
// kept (the two match already, or share a DOI). The result is old with the
// new details.
func mergeResource(old Resource, in ResourceInput) (Resource, ValidationError) {
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
		return Resource{}, errs
	}
	out := old
	out.Title, out.Authors, out.Publisher, out.Year, out.Format = r.Title, r.Authors, r.Publisher, r.Year, r.Format
	out.Language, out.Region, out.Topics, out.Licence, out.Summary = r.Language, r.Region, r.Topics, r.Licence, r.Summary
	out.DOI, out.ISBN = r.DOI, r.ISBN
	return out, nil
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

// fileKeys remembers the rows above in a file, by their index in the plan,
// so a resource twice in one file comes in once. A later row's keys
// replace an earlier's.
type fileKeys struct {
	links, dois, titles map[string]int
}

func (k fileKeys) add(st *resourceStep, i int) {
	k.links[st.link] = i
	if st.r.DOI != "" {
		k.dois[st.r.DOI] = i
	}
	if st.title != "" {
		k.titles[st.title] = i
	}
}

func (k fileKeys) match(st *resourceStep) (int, bool) {
	if i, ok := k.links[st.link]; ok {
		return i, true
	}
	if i, ok := k.dois[st.r.DOI]; ok && st.r.DOI != "" {
		return i, true
	}
	i, ok := k.titles[st.title]
	return i, ok && st.title != ""
}

// libraryIndex is what the library holds under the keys of an import
// file: for each link, DOI and title key the resources with it, lowest id
// first, the resources under an open ballot, and the titles of demands in
// the register.
type libraryIndex struct {
	resources           map[int64]Resource
	titleKeys           map[int64]string // as stored, then as the plan changes them
	links, dois, titles map[string][]int64
	underBallot         map[int64]bool
	demands             map[string]bool
}

// indexed is a resource with the keys stored for it.
type indexed struct {
	Resource
	URLKey   string `db:"url_key"`
	TitleKey string `db:"title_key"`
}

// lookUp reads the library's resources that share a link, DOI or title key
// with the file's good resources, or a link with its demands, and, if the
// file has demands, the titles in the register.
func lookUp(ctx context.Context, q sqlx.QueryerContext, rs []resourceStep, ds []DemandRow) (*libraryIndex, error) {
	lib := &libraryIndex{resources: map[int64]Resource{}, titleKeys: map[int64]string{}, links: map[string][]int64{},
		dois: map[string][]int64{}, titles: map[string][]int64{}, underBallot: map[int64]bool{}, demands: map[string]bool{}}
	links := make([]string, 0, len(rs))
	for _, st := range rs {
		links = append(links, st.link)
	}
	for _, d := range ds {
		for _, raw := range d.URLs {
			if link, msg := checkURL(raw); msg == "" {
				links = append(links, urlKey(link))
			}
		}
	}
	err := lookUpBatches(ctx, q, distinct(links), `SELECT `+resourceColumns+`, url_key, title_key FROM resources WHERE url_key IN `, lib.add)
	if err != nil {
		return nil, err
	}
	// A row whose link is in the library never gets as far as its DOI or
	// title, so only the others' are looked up; and a title match needs
	// only the resource's id.
	var dois, titles []string
	for _, st := range rs {
		if len(lib.links[st.link]) > 0 {
			continue
		}
		if st.r.DOI != "" {
			dois = append(dois, st.r.DOI)
		}
		if st.title != "" {
			titles = append(titles, st.title)
		}
	}
	err = lookUpBatches(ctx, q, distinct(dois), `SELECT `+resourceColumns+`, url_key, title_key FROM resources WHERE doi <> '' AND doi IN `, lib.add)
	if err != nil {
		return nil, err
	}
	err = lookUpBatches(ctx, q, distinct(titles), `SELECT id, title_key FROM resources WHERE title_key IN `, func(f indexed) {
		if _, ok := lib.titleKeys[f.ID]; !ok {
			lib.titleKeys[f.ID] = f.TitleKey
			lib.titles[f.TitleKey] = append(lib.titles[f.TitleKey], f.ID)
		}
	})
	if err != nil {
		return nil, err
	}
	// The answers arrive a batch and a key at a time, so a key's ids are in
	// order only once sorted.
	for _, m := range []map[string][]int64{lib.links, lib.dois, lib.titles} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	// Few proposals are open at a time, so all their resources are read.
	// This is the condition of the trigger resources_frozen_under_ballot.
	var open []int64
	err = sqlx.SelectContext(ctx, q, &open, `SELECT DISTINCT resource_id FROM proposals
		WHERE resource_id IS NOT NULL AND status IN ('discussion', 'voting')`)
	if err != nil {
		return nil, fmt.Errorf("library: import: find resources under ballot: %w", err)
	}
	for _, id := range open {
		lib.underBallot[id] = true
	}
	if len(ds) > 0 {
		// The register is short beside any import, and its titles have no
		// index to look them up by, so it is read whole, once.
		var registered []string
		if err := sqlx.SelectContext(ctx, q, &registered, `SELECT title FROM demands`); err != nil {
			return nil, fmt.Errorf("library: import: read demand titles: %w", err)
		}
		for _, t := range registered {
			lib.demands[t] = true
		}
	}
	return lib, nil
}

// lookUpBatches asks query with keys a batch at a time, so that a few
// statements serve a file of any length; SQLite answers each IN from the
// key's index.
func lookUpBatches(ctx context.Context, q sqlx.QueryerContext, keys []string, query string, each func(indexed)) error {
	for batch := range slices.Chunk(keys, importBatch) {
		var found []indexed
		if err := sqlx.SelectContext(ctx, q, &found, query+`(`+placeholders(len(batch))+`)`, anys(batch)...); err != nil {
			return fmt.Errorf("library: import: find matching resources: %w", err)
		}
		for _, f := range found {
			each(f)
		}
	}
	return nil
}

// add indexes a resource the library holds under one of the file's keys.
func (l *libraryIndex) add(f indexed) {
	if _, ok := l.resources[f.ID]; ok {
		return
	}
	l.resources[f.ID] = f.Resource
	l.titleKeys[f.ID] = f.TitleKey
	l.links[f.URLKey] = append(l.links[f.URLKey], f.ID)
	if f.DOI != "" {
		l.dois[f.DOI] = append(l.dois[f.DOI], f.ID)
	}
	l.titles[f.TitleKey] = append(l.titles[f.TitleKey], f.ID)
}

func distinct(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// match finds the library's resource with a link key or, failing that, a
// DOI: the lowest id of either.
func (l *libraryIndex) match(link, doi string) (Resource, bool) {
	if id, ok := l.first(l.links, link, nil); ok {
		return l.resources[id], true
	}
	if doi == "" {
		return Resource{}, false
	}
	id, ok := l.first(l.dois, doi, func(id int64) bool { return l.resources[id].DOI == doi })
	return l.resources[id], ok
}

// titled finds the lowest id with a title key.
func (l *libraryIndex) titled(t string) (int64, bool) {
	if t == "" {
		return 0, false
	}
	return l.first(l.titles, t, func(id int64) bool { return l.titleKeys[id] == t })
}

// first is the lowest id under key that still holds it. An update earlier
// in the plan may have changed a resource's DOI or title; it is dropped
// from the key's list here, when it reaches the front, rather than sought
// in the list when it changes, which could take a long time for a common
// title. (If a later row gives it back, that row is in fileKeys, which is
// asked first.)
func (l *libraryIndex) first(m map[string][]int64, key string, holds func(int64) bool) (int64, bool) {
	ids, ok := m[key]
	if !ok {
		return 0, false
	}
	for len(ids) > 0 && holds != nil && !holds(ids[0]) {
		ids = ids[1:]
	}
	m[key] = ids
	if len(ids) == 0 {
		return 0, false
	}
	return ids[0], true
}

// update records the plan's new details for a resource, so later rows meet
// it as the database will hold it by then.
func (l *libraryIndex) update(id int64, r Resource) {
	l.resources[id] = r
	l.titleKeys[id] = titleKey(r.Title)
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
