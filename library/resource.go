package library

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
)

// Viewer is who is asking, as far as the library cares. The server builds it
// from the logged-in member; the zero Viewer is the public.
type Viewer struct {
	ID     int64
	Active bool // an active member: may submit and draft
	Admin  bool // may curate
}

// Field limits, mirrored by CHECK constraints in schema.sql and by the
// tags of ResourceInput.
const (
	MaxTitleLen     = 300
	MaxURLLen       = check.MaxLinkLen
	MaxAuthors      = 30
	MaxAuthorLen    = 120
	MaxPublisherLen = 200
	MaxRegionLen    = 80
	MaxTopics       = 10
	MaxTopicLen     = 40
	MaxLicenceLen   = 100
	MaxSummaryLen   = 5000
	MinYear         = check.MinYear
	MaxYear         = check.MaxYear
)

// ResourceInput is a resource as a person or an import file gives it.
// Authors are one per line or separated by semicolons; topics by commas.
//
// The tags check the input once normalised: trimmed, authors and topics
// one a line, link, language, DOI and ISBN in the form they are kept. The
// URL's tags before link only choose the message; link alone refuses all
// they do.
type ResourceInput struct {
	Title     string `form:"title" validate:"utf8,nocontrol,required,max=300"`
	URL       string `form:"url" validate:"required,max=2000,nospace,link"`
	Authors   string `form:"authors" validate:"maxlines=30,linemax=120"`
	Publisher string `form:"publisher" validate:"utf8,nocontrol,max=200"`
	Year      string `form:"year" validate:"omitempty,year"`
	Format    string `form:"format" validate:"oneof=report article book toolkit 'case study' 'policy brief' video podcast course dataset website other"`
	Language  string `form:"language" validate:"langtag"`
	Region    string `form:"region" validate:"utf8,nocontrol,max=80"`
	Topics    string `form:"topics" validate:"maxlines=10,linemax=40"`
	Licence   string `form:"licence" validate:"utf8,nocontrol,max=100"`
	Summary   string `form:"summary" validate:"utf8,max=5000"`
	DOI       string `form:"doi" validate:"omitempty,doi"`
	ISBN      string `form:"isbn" validate:"omitempty,isbnsum"`
}

var resourceMessages = map[string]string{
	"title.required":   "Enter a title.",
	"url.required":     "Enter the link where the resource can be found.",
	"url.max":          "This link is too long.",
	"url.nospace":      "A link cannot contain spaces or invisible characters.",
	"authors.maxlines": fmt.Sprintf("List at most %d authors.", MaxAuthors),
	"authors.linemax":  fmt.Sprintf("Each author's name must be plain text under %d characters.", MaxAuthorLen),
	"topics.maxlines":  fmt.Sprintf("Choose at most %d topics.", MaxTopics),
	"topics.linemax":   fmt.Sprintf("Each topic must be plain text under %d characters.", MaxTopicLen),
	"year.year":        fmt.Sprintf("Enter a year between %d and %d, or leave it empty.", MinYear, MaxYear),
	"format.oneof":     "Choose one of the formats listed.",
	"summary.max":      fmt.Sprintf("Keep the summary under %d characters.", MaxSummaryLen),
}

// Messages words what the tags refuse, where check's general message
// would not do.
func (ResourceInput) Messages() map[string]string { return resourceMessages }

// InputOf turns a resource back into the input that makes it, for edit
// forms and round trips.
func InputOf(r Resource) ResourceInput {
	in := ResourceInput{Title: r.Title, URL: r.URL, Authors: strings.Join(r.Authors, "\n"), Publisher: r.Publisher,
		Format: r.Format, Language: r.Language, Region: r.Region, Topics: strings.Join(r.Topics, ", "),
		Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN}
	if r.Year != nil {
		in.Year = strconv.Itoa(*r.Year)
	}
	return in
}

// normalised is the input as it would be kept: what a tag then refuses is
// wrong with what was typed, not with how it was typed.
func (in ResourceInput) normalised() ResourceInput {
	out := ResourceInput{
		Title:     strings.TrimSpace(in.Title),
		URL:       strings.TrimSpace(in.URL),
		Authors:   strings.Join(splitList(in.Authors, "\n;"), "\n"),
		Publisher: strings.TrimSpace(in.Publisher),
		Year:      strings.TrimSpace(in.Year),
		Format:    strings.ToLower(strings.TrimSpace(in.Format)),
		Language:  cmp.Or(strings.TrimSpace(in.Language), "en"),
		Region:    strings.TrimSpace(in.Region),
		Licence:   strings.TrimSpace(in.Licence),
		// Every line break becomes \n, a lone \r included, so that a summary
		// read back from an export (where "\r\r\n" has become "\r\n") is the same.
		Summary: strings.TrimSpace(lineBreaks.Replace(in.Summary)),
		DOI:     strings.TrimSpace(in.DOI),
		ISBN:    strings.TrimSpace(in.ISBN),
	}
	topics := splitList(in.Topics, ",\n;")
	for i, t := range topics {
		// ToLower would turn invalid bytes into U+FFFD, hiding them from
		// the check.
		if utf8.ValidString(t) {
			topics[i] = strings.ToLower(t)
		}
	}
	out.Topics = strings.Join(dedupe(topics), "\n")
	if link, ok := check.LinkForm(out.URL); ok {
		out.URL = link
	}
	if lang, ok := check.Language(out.Language); ok {
		out.Language = lang
	}
	if doi, ok := check.DOI(out.DOI); ok {
		out.DOI = doi
	}
	if isbn, ok := check.ISBN(out.ISBN); ok {
		out.ISBN = isbn
	}
	return out
}

// resource checks the input and returns the resource it describes, and a
// message per wrong field (never a nil map: the import adds its own).
// The link is left empty unless it is right.
func (in ResourceInput) resource() (Resource, ValidationError) {
	in = in.normalised()
	v := check.Struct(in)
	r := Resource{Title: in.Title, Authors: lineList(in.Authors), Publisher: in.Publisher, Format: in.Format,
		Language: in.Language, Region: in.Region, Topics: lineList(in.Topics), Licence: in.Licence, Summary: in.Summary,
		DOI: in.DOI, ISBN: in.ISBN}
	if _, bad := v["url"]; !bad {
		r.URL = in.URL
	}
	if y, err := strconv.Atoi(in.Year); err == nil && v["year"] == "" {
		r.Year = &y
	}
	return r, v
}

// ErrEndorsedResource and ErrEndorsedDemand refuse a change to what a
// ballot endorsed; the database's triggers hold the rule (schema.sql,
// resources_endorsed_frozen and the others), these say it in words.
var (
	ErrEndorsedResource = ValidationError{"": "This resource was endorsed by ballot; to change it, propose an amendment, or propose withdrawing the endorsement."}
	ErrEndorsedDemand   = ValidationError{"": "This demand was endorsed by ballot; to change it, propose an amendment, or propose withdrawing the endorsement."}
)

func isEndorsedRefusal(err error) bool {
	return db.IsConstraint(err, "plenary: endorsed by ballot")
}

// errUnderBallot refuses an edit to something members are voting on; the
// database's triggers hold the rule, this says it in words.
var errUnderBallot = ValidationError{"": "A proposal about this is in discussion or voting, so it cannot change until the ballot closes."}

func isUnderBallot(err error) bool {
	return db.IsConstraint(err, "plenary: under ballot")
}

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// checkURL checks a link as a resource's is checked and returns it as it
// is kept, or a message.
func checkURL(raw string) (string, string) {
	in := ResourceInput{URL: raw}.normalised()
	if msg, bad := check.Partial(in, "URL")["url"]; bad {
		return "", msg
	}
	return in.URL, ""
}

// splitList splits on any of seps, trimming and dropping empty items.
func splitList(s, seps string) List {
	out := List{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p := strings.Join(strings.Fields(part), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// lineList splits a list kept one item a line.
func lineList(s string) List {
	if s == "" {
		return List{}
	}
	return strings.Split(s, "\n")
}

func dedupe(items List) List {
	seen := map[string]bool{}
	out := List{}
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return out
}

// urlKey is a link reduced to what makes two links the same resource:
// no scheme, no "www.", no fragment, no trailing slash, no tracking
// parameters, lower-case host.
func urlKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.ToLower(raw)
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") || k == "fbclid" || k == "gclid" {
			q.Del(k)
		}
	}
	key := host + strings.TrimRight(u.EscapedPath(), "/")
	if enc := q.Encode(); enc != "" {
		key += "?" + enc
	}
	return key
}

// titleKey is a title reduced to lower-case letters and digits, so
// punctuation, case and spacing don't hide a duplicate.
func titleKey(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

const resourceColumns = `id, title, url, authors, publisher, year, format, language, region, topics, licence, summary,
	doi, isbn, status, endorsed_at, endorsed_by, added_by, created_at, updated_at, listed_at, endorsed_digest`

func getResource(ctx context.Context, q sqlx.QueryerContext, id int64) (Resource, error) {
	var r Resource
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+resourceColumns+` FROM resources WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Resource{}, ErrNotFound
	}
	if err != nil {
		return Resource{}, fmt.Errorf("library: get resource: %w", err)
	}
	return r, nil
}

// canSee: listed resources are public; pending and hidden ones are seen by
// admins and by the member who added them.
func canSee(v Viewer, r Resource) bool {
	return r.Status == StatusListed || v.Admin || (v.ID != 0 && r.AddedBy != nil && *r.AddedBy == v.ID)
}

// Resource returns the resource with id if the viewer may see it.
func (s *Service) Resource(ctx context.Context, v Viewer, id int64) (Resource, error) {
	r, err := getResource(ctx, s.db.R, id)
	if err != nil {
		return Resource{}, err
	}
	if !canSee(v, r) {
		return Resource{}, ErrNotFound
	}
	return r, nil
}

// SubmitResource adds a resource from an active member; it waits as pending
// until an admin lists it.
func (s *Service) SubmitResource(ctx context.Context, v Viewer, in ResourceInput) (Resource, error) {
	if !v.Active {
		return Resource{}, ErrForbidden
	}
	r, errs := in.resource()
	if err := errs.Err(); err != nil {
		return Resource{}, err
	}
	r.Status = StatusPending
	r.AddedBy = &v.ID
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		r.ID, err = s.insertResource(ctx, tx, r)
		return err
	})
	if err != nil {
		return Resource{}, err
	}
	return getResource(ctx, s.db.R, r.ID)
}

func (s *Service) insertResource(ctx context.Context, tx *sqlx.Tx, r Resource) (int64, error) {
	now := s.now()
	var listedAt any
	if r.Status == StatusListed {
		listedAt = now
	}
	id, err := db.InsertID(ctx, tx, `INSERT INTO resources (title, url, authors, publisher, year, format, language, region,
		topics, licence, summary, doi, isbn, url_key, title_key, status, added_by, created_at, updated_at, listed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Title, r.URL, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics, r.Licence, r.Summary,
		r.DOI, r.ISBN, urlKey(r.URL), titleKey(r.Title), r.Status, r.AddedBy, now, now, listedAt)
	if err != nil {
		return 0, fmt.Errorf("library: insert resource: %w", err)
	}
	return id, nil
}

// UpdateResource changes a resource's metadata. Its submitter may edit it
// while it is not endorsed; admins may edit any. Endorsement and status are
// not touched here.
func (s *Service) UpdateResource(ctx context.Context, v Viewer, id int64, in ResourceInput) (Resource, error) {
	r, errs := in.resource()
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		old, err := getResource(ctx, tx, id)
		if err != nil {
			return err
		}
		if !canSee(v, old) {
			return ErrNotFound
		}
		if old.Endorsed() {
			return ErrEndorsedResource
		}
		if !CanEditResource(v, old) {
			return ErrForbidden
		}
		if err := errs.Err(); err != nil {
			return err
		}
		changed := changedFields(old, r)
		if len(changed) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE resources SET title = ?, url = ?, authors = ?, publisher = ?, year = ?, format = ?,
			language = ?, region = ?, topics = ?, licence = ?, summary = ?, doi = ?, isbn = ?, url_key = ?, title_key = ?,
			updated_at = ? WHERE id = ?`,
			r.Title, r.URL, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics, r.Licence, r.Summary,
			r.DOI, r.ISBN, urlKey(r.URL), titleKey(r.Title), s.now(), id)
		switch {
		case isUnderBallot(err):
			return errUnderBallot
		case isEndorsedRefusal(err):
			return ErrEndorsedResource
		case err != nil:
			return fmt.Errorf("library: update resource: %w", err)
		}
		return ledger.Append(ctx, tx, s.now(), ledger.ResourceEdited{Resource: id, By: v.ID, Fields: changed})
	})
	if err != nil {
		return Resource{}, err
	}
	return getResource(ctx, s.db.R, id)
}

// changedFields names the fields of a resource's record that differ
// between old and r, as the ledger names them.
func changedFields(old, r Resource) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"title", old.Title == r.Title}, {"link", old.URL == r.URL}, {"authors", slicesEqual(old.Authors, r.Authors)},
		{"publisher", old.Publisher == r.Publisher}, {"year", (old.Year == nil) == (r.Year == nil) && (old.Year == nil || *old.Year == *r.Year)},
		{"format", old.Format == r.Format}, {"language", old.Language == r.Language}, {"region", old.Region == r.Region},
		{"topics", slicesEqual(old.Topics, r.Topics)}, {"licence", old.Licence == r.Licence}, {"summary", old.Summary == r.Summary},
		{"doi", old.DOI == r.DOI}, {"isbn", old.ISBN == r.ISBN},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// CanEditResource says whether v may edit r: admins and its submitter
// (while active), and nobody once a ballot has endorsed it.
func CanEditResource(v Viewer, r Resource) bool {
	return !r.Endorsed() && (v.Admin || (v.Active && r.AddedBy != nil && *r.AddedBy == v.ID))
}

// statusChoice is a status as an admin's form gives it.
type statusChoice struct {
	Status string `form:"status" validate:"oneof=listed hidden pending"`
}

var statusMessages = map[string]string{"status.oneof": "Choose listed, hidden or pending."}

// Messages words what the tag refuses.
func (statusChoice) Messages() map[string]string { return statusMessages }

// statusEvents names the ledger entry for each status an admin sets.
var statusEvents = map[string]string{
	StatusListed:  ledger.KindResourceListed,
	StatusHidden:  ledger.KindResourceHidden,
	StatusPending: ledger.KindResourceReturned,
}

// SetResourceStatus lists, hides or returns a resource to pending (admins),
// on the ledger. An endorsed resource's status changes only by ballot.
func (s *Service) SetResourceStatus(ctx context.Context, v Viewer, id int64, status string) error {
	if !v.Admin {
		return ErrForbidden
	}
	if err := check.Struct(statusChoice{status}).Err(); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		old, err := getResource(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Endorsed() {
			return ErrEndorsedResource
		}
		if old.Status == status {
			return nil
		}
		now := s.now()
		_, err = tx.ExecContext(ctx, `UPDATE resources SET status = ?, updated_at = ?,
			listed_at = CASE WHEN ? = 'listed' THEN coalesce(listed_at, ?) ELSE listed_at END WHERE id = ?`,
			status, now, status, now, id)
		switch {
		case isUnderBallot(err):
			return errUnderBallot
		case isEndorsedRefusal(err):
			return ErrEndorsedResource
		case err != nil:
			return fmt.Errorf("library: set resource status: %w", err)
		}
		return ledger.Append(ctx, tx, now, ledger.ResourceStatus{Event: statusEvents[status], Resource: id, By: v.ID})
	})
}

// Duplicates returns the other resources that look like r: the same
// normalised link or DOI, or the same normalised title.
func (s *Service) Duplicates(ctx context.Context, r Resource) ([]Resource, error) {
	var out []Resource
	err := s.db.R.SelectContext(ctx, &out, `SELECT `+resourceColumns+` FROM resources
		WHERE id <> ? AND (url_key = ? OR title_key = ? OR (doi <> '' AND doi = ?)) ORDER BY id LIMIT 20`,
		r.ID, urlKey(r.URL), titleKey(r.Title), r.DOI)
	if err != nil {
		return nil, fmt.Errorf("library: find duplicates: %w", err)
	}
	return out, nil
}

// QueuePerPage is the admin queue's page size.
const QueuePerPage = 25

// ResourcesWithStatus lists resources in one status for the admin queue:
// pending ones oldest first (first come, first served), others newest first.
func (s *Service) ResourcesWithStatus(ctx context.Context, status string, page int) ([]Resource, int, error) {
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT count(*) FROM resources WHERE status = ?`, status); err != nil {
		return nil, 0, fmt.Errorf("library: count queue: %w", err)
	}
	order := "id DESC"
	if status == StatusPending {
		order = "id"
	}
	var rs []Resource
	err := s.db.R.SelectContext(ctx, &rs, `SELECT `+resourceColumns+` FROM resources WHERE status = ? ORDER BY `+order+
		` LIMIT ? OFFSET ?`, status, QueuePerPage, (max(page, 1)-1)*QueuePerPage)
	if err != nil {
		return nil, 0, fmt.Errorf("library: list queue: %w", err)
	}
	return rs, total, nil
}

// PendingCount is how many submissions wait in the curation queue.
func (s *Service) PendingCount(ctx context.Context) (int, error) {
	var n int
	if err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM resources WHERE status = ?`, StatusPending); err != nil {
		return 0, fmt.Errorf("library: count the queue: %w", err)
	}
	return n, nil
}
