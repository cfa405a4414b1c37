package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"plenary/internal/db"
)

// Viewer is who is asking, as far as the library cares. The server builds it
// from the logged-in member; the zero Viewer is the public.
type Viewer struct {
	ID     int64
	Active bool // an active member: may submit and draft
	Admin  bool // may curate
}

// Field limits, mirrored by CHECK constraints in schema.sql.
const (
	MaxTitleLen     = 300
	MaxURLLen       = 2000
	MaxAuthors      = 30
	MaxAuthorLen    = 120
	MaxPublisherLen = 200
	MaxRegionLen    = 80
	MaxTopics       = 10
	MaxTopicLen     = 40
	MaxLicenceLen   = 100
	MaxSummaryLen   = 5000
	MinYear         = 1800
	MaxYear         = 2100
)

// ResourceInput is a resource as a person or an import file gives it.
// Authors are one per line or separated by semicolons; topics by commas.
type ResourceInput struct {
	Title     string
	URL       string
	Authors   string
	Publisher string
	Year      string
	Format    string
	Language  string
	Region    string
	Topics    string
	Licence   string
	Summary   string
	DOI       string
	ISBN      string
}

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

// resource checks the input and returns the resource it describes, or a
// message per wrong field.
func (in ResourceInput) resource() (Resource, ValidationError) {
	v := ValidationError{}
	r := Resource{}
	text := func(field, value string, max int, required bool, label string) string {
		value = strings.TrimSpace(value)
		switch {
		case !utf8.ValidString(value):
			v[field] = "This contains invalid characters."
		case strings.ContainsFunc(value, isControl):
			v[field] = "This contains control characters."
		case required && value == "":
			v[field] = "Enter " + label + "."
		case utf8.RuneCountInString(value) > max:
			v[field] = fmt.Sprintf("Keep this under %d characters.", max)
		}
		return value
	}
	r.Title = text("title", in.Title, MaxTitleLen, true, "a title")
	r.Publisher = text("publisher", in.Publisher, MaxPublisherLen, false, "")
	r.Region = text("region", in.Region, MaxRegionLen, false, "")
	r.Licence = text("licence", in.Licence, MaxLicenceLen, false, "")

	if link, msg := checkURL(in.URL); msg != "" {
		v["url"] = msg
	} else {
		r.URL = link
	}

	r.Authors = splitList(in.Authors, "\n;")
	switch {
	case len(r.Authors) > MaxAuthors:
		v["authors"] = fmt.Sprintf("List at most %d authors.", MaxAuthors)
	case !validItems(r.Authors, MaxAuthorLen):
		v["authors"] = fmt.Sprintf("Each author's name must be plain text under %d characters.", MaxAuthorLen)
	}
	topics := splitList(in.Topics, ",\n;")
	for i, t := range topics {
		// ToLower would turn invalid bytes into U+FFFD, hiding them from
		// validItems below.
		if utf8.ValidString(t) {
			topics[i] = strings.ToLower(t)
		}
	}
	r.Topics = dedupe(topics)
	switch {
	case len(r.Topics) > MaxTopics:
		v["topics"] = fmt.Sprintf("Choose at most %d topics.", MaxTopics)
	case !validItems(r.Topics, MaxTopicLen):
		v["topics"] = fmt.Sprintf("Each topic must be plain text under %d characters.", MaxTopicLen)
	}

	if y := strings.TrimSpace(in.Year); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < MinYear || n > MaxYear {
			v["year"] = fmt.Sprintf("Enter a year between %d and %d, or leave it empty.", MinYear, MaxYear)
		} else {
			r.Year = &n
		}
	}

	r.Format = strings.ToLower(strings.TrimSpace(in.Format))
	if !slices.Contains(Formats, r.Format) {
		v["format"] = "Choose one of the formats listed."
	}

	r.Language = strings.TrimSpace(in.Language)
	if r.Language == "" {
		r.Language = "en"
	}
	if lang, ok := canonicalLanguage(r.Language); ok {
		r.Language = lang
	} else {
		v["language"] = "Enter a language tag such as en, fr, pt-BR or es-419."
	}

	// Every line break becomes \n, a lone \r included, so that a summary
	// read back from an export (where "\r\r\n" has become "\r\n") is the same.
	r.Summary = strings.TrimSpace(lineBreaks.Replace(in.Summary))
	switch {
	case !utf8.ValidString(r.Summary):
		v["summary"] = "This contains invalid characters."
	case utf8.RuneCountInString(r.Summary) > MaxSummaryLen:
		v["summary"] = fmt.Sprintf("Keep the summary under %d characters.", MaxSummaryLen)
	}

	if d := strings.TrimSpace(in.DOI); d != "" {
		if doi, ok := normaliseDOI(d); ok {
			r.DOI = doi
		} else {
			v["doi"] = "Enter a DOI such as 10.1177/0896920519870577."
		}
	}
	if i := strings.TrimSpace(in.ISBN); i != "" {
		if isbn, ok := normaliseISBN(i); ok {
			r.ISBN = isbn
		} else {
			v["isbn"] = "Enter a 10- or 13-digit ISBN."
		}
	}
	return r, v
}

// errUnderBallot refuses an edit to something members are voting on; the
// database's triggers hold the rule, this says it in words.
var errUnderBallot = ValidationError{"": "A proposal about this is in discussion or voting, so it cannot change until the ballot closes."}

func isUnderBallot(err error) bool {
	return db.IsConstraint(err, "plenary: under ballot")
}

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

func isControl(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }

// checkURL accepts only absolute http and https links.
func checkURL(raw string) (string, string) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", "Enter the link where the resource can be found."
	case len(raw) > MaxURLLen:
		return "", "This link is too long."
	case !utf8.ValidString(raw) || strings.ContainsFunc(raw, unicode.IsSpace) || strings.ContainsFunc(raw, unicode.IsControl):
		return "", "A link cannot contain spaces or invisible characters."
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", "Enter a full web address starting with https:// or http://."
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String(), ""
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

func validItems(items []string, max int) bool {
	for _, it := range items {
		if !utf8.ValidString(it) || utf8.RuneCountInString(it) > max || strings.ContainsFunc(it, unicode.IsControl) {
			return false
		}
	}
	return true
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

// languageTag is the shape of a BCP 47 tag as libraries use them: a primary
// language subtag, then optional script, region and variant subtags.
var languageTag = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|[0-9]{3}))?(-([a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*$`)

// canonicalLanguage checks a BCP 47 tag and writes it in its usual case:
// language lower, script title, region upper ("pt-br" → "pt-BR").
func canonicalLanguage(tag string) (string, bool) {
	tag = strings.ReplaceAll(tag, "_", "-")
	if len(tag) > 35 || !languageTag.MatchString(tag) {
		return "", false
	}
	parts := strings.Split(tag, "-")
	parts[0] = strings.ToLower(parts[0])
	for i := 1; i < len(parts); i++ {
		switch p := parts[i]; {
		case len(p) == 4 && unicode.IsLetter(rune(p[0])):
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2:
			parts[i] = strings.ToUpper(p)
		default:
			parts[i] = strings.ToLower(p)
		}
	}
	return strings.Join(parts, "-"), true
}

var doiPattern = regexp.MustCompile(`^10\.\d{4,9}/\S+$`)

// normaliseDOI accepts a bare DOI, doi:..., or a doi.org link, and returns
// the bare DOI in lower case (DOIs are case-insensitive).
func normaliseDOI(s string) (string, bool) {
	// Checked before ToLower, which would turn invalid bytes into U+FFFD.
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	for _, prefix := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"} {
		if strings.HasPrefix(lower, prefix) {
			lower = strings.TrimSpace(lower[len(prefix):])
			break
		}
	}
	if len(lower) > 200 || !doiPattern.MatchString(lower) {
		return "", false
	}
	return lower, true
}

// normaliseISBN keeps the digits (and a final X) of a 10- or 13-digit ISBN
// and checks its check digit.
func normaliseISBN(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r >= '0' && r <= '9', r == 'X':
			b.WriteRune(r)
		case r == '-' || r == ' ':
		default:
			return "", false
		}
	}
	isbn := b.String()
	switch len(isbn) {
	case 10:
		sum := 0
		for i, r := range isbn {
			d := int(r - '0')
			if r == 'X' {
				if i != 9 {
					return "", false
				}
				d = 10
			}
			sum += d * (10 - i)
		}
		return isbn, sum%11 == 0
	case 13:
		sum := 0
		for i, r := range isbn {
			if r == 'X' {
				return "", false
			}
			d := int(r - '0')
			if i%2 == 1 {
				d *= 3
			}
			sum += d
		}
		return isbn, sum%10 == 0
	}
	return "", false
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
	doi, isbn, status, endorsed_at, endorsed_by, added_by, created_at, updated_at, listed_at`

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
	res, err := tx.ExecContext(ctx, `INSERT INTO resources (title, url, authors, publisher, year, format, language, region,
		topics, licence, summary, doi, isbn, url_key, title_key, status, added_by, created_at, updated_at, listed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Title, r.URL, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics, r.Licence, r.Summary,
		r.DOI, r.ISBN, urlKey(r.URL), titleKey(r.Title), r.Status, r.AddedBy, now, now, listedAt)
	if err != nil {
		return 0, fmt.Errorf("library: insert resource: %w", err)
	}
	return res.LastInsertId()
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
		if !CanEditResource(v, old) {
			return ErrForbidden
		}
		if err := errs.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE resources SET title = ?, url = ?, authors = ?, publisher = ?, year = ?, format = ?,
			language = ?, region = ?, topics = ?, licence = ?, summary = ?, doi = ?, isbn = ?, url_key = ?, title_key = ?,
			updated_at = ? WHERE id = ?`,
			r.Title, r.URL, r.Authors, r.Publisher, r.Year, r.Format, r.Language, r.Region, r.Topics, r.Licence, r.Summary,
			r.DOI, r.ISBN, urlKey(r.URL), titleKey(r.Title), s.now(), id)
		if isUnderBallot(err) {
			return errUnderBallot
		}
		if err != nil {
			return fmt.Errorf("library: update resource: %w", err)
		}
		return nil
	})
	if err != nil {
		return Resource{}, err
	}
	return getResource(ctx, s.db.R, id)
}

// CanEditResource says whether v may edit r: admins always, the submitter
// while it is active and the resource not endorsed.
func CanEditResource(v Viewer, r Resource) bool {
	return v.Admin || (v.Active && r.AddedBy != nil && *r.AddedBy == v.ID && !r.Endorsed())
}

// SetResourceStatus lists, hides or returns a resource to pending (admins).
func (s *Service) SetResourceStatus(ctx context.Context, v Viewer, id int64, status string) error {
	if !v.Admin {
		return ErrForbidden
	}
	if status != StatusListed && status != StatusHidden && status != StatusPending {
		return ValidationError{"status": "Choose listed, hidden or pending."}
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE resources SET status = ?, updated_at = ?,
		listed_at = CASE WHEN ? = 'listed' THEN coalesce(listed_at, ?) ELSE listed_at END WHERE id = ?`,
		status, s.now(), status, s.now(), id)
	if isUnderBallot(err) {
		return errUnderBallot
	}
	if err != nil {
		return fmt.Errorf("library: set resource status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
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
