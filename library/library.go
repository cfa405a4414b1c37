// Package library is Plenary's catalogue: resources on platform
// co-operativism that members grow and admins curate, the register of policy
// demands that ballots endorse, search, and import and export. It knows
// nothing of HTTP.
package library

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"plenary/internal/check"
	"plenary/internal/db"
)

// Errors the server maps to statuses.
var (
	ErrNotFound  = errors.New("library: not found")
	ErrForbidden = errors.New("library: forbidden")
)

// ValidationError says, field by field, what is wrong with some input; the
// messages are safe to show. It is the same type in governance and library,
// so a ballot's check of a library item passes its messages straight on.
type ValidationError = check.Errors

// Formats a resource can take, in the order a form lists them: the format
// tag of ResourceInput is their one list.
var Formats = check.OneOf(ResourceInput{}, "Format")

// Audiences a demand can address, in the order a form lists them: the
// audience tag of DemandInput is their one list.
var Audiences = check.OneOf(DemandInput{}, "Audience")

// Resource and demand statuses.
const (
	StatusPending = "pending"
	StatusListed  = "listed"
	StatusHidden  = "hidden"

	DemandProposed  = "proposed"
	DemandEndorsed  = "endorsed"
	DemandRejected  = "rejected"
	DemandWithdrawn = "withdrawn"
)

// Resource is one item in the library.
type Resource struct {
	ID         int64      `db:"id" json:"id"`
	Title      string     `db:"title" json:"title"`
	URL        string     `db:"url" json:"url"`
	Authors    List       `db:"authors" json:"authors"`
	Publisher  string     `db:"publisher" json:"publisher"`
	Year       *int       `db:"year" json:"year"`
	Format     string     `db:"format" json:"format"`
	Language   string     `db:"language" json:"language"`
	Region     string     `db:"region" json:"region"`
	Topics     List       `db:"topics" json:"topics"`
	Licence    string     `db:"licence" json:"licence"`
	Summary    string     `db:"summary" json:"summary"` // Markdown
	DOI        string     `db:"doi" json:"doi"`
	ISBN       string     `db:"isbn" json:"isbn"`
	Status     string     `db:"status" json:"status"`
	EndorsedAt *time.Time `db:"endorsed_at" json:"endorsed_at"`
	EndorsedBy *int64     `db:"endorsed_by" json:"endorsed_by_proposal"`
	AddedBy    *int64     `db:"added_by" json:"added_by"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at" json:"updated_at"`
	ListedAt   *time.Time `db:"listed_at" json:"listed_at"`
	// EndorsedDigest is the digest of the content endorsed (or last
	// amended) by ballot, as on the ledger; nil unless endorsed.
	EndorsedDigest *string `db:"endorsed_digest" json:"endorsed_digest"`
}

// Endorsed says whether a ballot has endorsed the resource.
func (r Resource) Endorsed() bool { return r.EndorsedAt != nil }

// Demand is a policy demand the co-op may endorse.
type Demand struct {
	ID         int64      `db:"id" json:"id"`
	Title      string     `db:"title" json:"title"`
	Body       string     `db:"body" json:"body"` // Markdown
	Audience   string     `db:"audience" json:"audience"`
	Status     string     `db:"status" json:"status"`
	AddedBy    *int64     `db:"added_by" json:"added_by"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at" json:"updated_at"`
	EndorsedAt *time.Time `db:"endorsed_at" json:"endorsed_at"`
	EndorsedBy *int64     `db:"endorsed_by" json:"endorsed_by_proposal"`
	Tally      *string    `db:"tally" json:"-"` // JSON, as the ballot stored it
	// EndorsedDigest is the digest of the content endorsed (or last
	// amended) by ballot, as on the ledger; nil unless endorsed.
	EndorsedDigest *string `db:"endorsed_digest" json:"endorsed_digest"`
	// Resources are the supporting resources' ids, in order.
	Resources []int64 `db:"-" json:"resources"`
}

// List is an ordered list of strings stored as a JSON array.
type List []string

// Value stores the list as a JSON array, never null.
func (l List) Value() (driver.Value, error) {
	if l == nil {
		l = List{}
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan reads a JSON array.
func (l *List) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*l = nil
		return nil
	default:
		return fmt.Errorf("library: scan list from %T", src)
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// Service holds the library's rules.
type Service struct {
	db         *db.DB
	now        func() time.Time
	countCache countCache
}

// New returns a Service on d with the clock now.
func New(d *db.DB, now func() time.Time) *Service {
	return &Service{db: d, now: func() time.Time { return now().UTC() }}
}
