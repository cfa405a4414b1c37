// Package content is what members endorse when a ballot endorses a
// resource or a demand, and its digest.
//
// The digest is the SHA-256, in hex, of the canonical JSON of the endorsed
// fields: keys in sorted order (each struct declares its fields in that
// order), no spaces, lists never null. It is computed when a ballot
// endorses or amends an item, written to the ledger and beside the item
// (endorsed_digest), and recomputed by `plenary ledger verify` and
// `plenary endorsement verify` to show that what a reader sees today is
// what the members endorsed.
//
// The library and the schema migration both read content through this
// package, so there is one definition of what is endorsed.
package content

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// ErrNotFound: no such resource or demand.
var ErrNotFound = errors.New("content: not found")

// Resource is a resource's endorsed content: its record, without its
// status, dates or who added it.
type Resource struct {
	Authors   []string `json:"authors"`
	DOI       string   `json:"doi"`
	Format    string   `json:"format"`
	ISBN      string   `json:"isbn"`
	Language  string   `json:"language"`
	Licence   string   `json:"licence"`
	Publisher string   `json:"publisher"`
	Region    string   `json:"region"`
	Summary   string   `json:"summary"`
	Title     string   `json:"title"`
	Topics    []string `json:"topics"`
	URL       string   `json:"url"`
	Year      *int     `json:"year"`
}

// Demand is a demand's endorsed content: its title, text, audience and
// supporting resources in order.
type Demand struct {
	Audience  string  `json:"audience" db:"audience"`
	Body      string  `json:"body" db:"body"`
	Resources []int64 `json:"resources" db:"-"`
	Title     string  `json:"title" db:"title"`
}

// Canonical is the resource's canonical JSON.
func (r Resource) Canonical() string {
	if r.Authors == nil {
		r.Authors = []string{}
	}
	if r.Topics == nil {
		r.Topics = []string{}
	}
	return canonical(r)
}

// Digest is the SHA-256 of the canonical JSON, in hex.
func (r Resource) Digest() string { return digest(r.Canonical()) }

// Canonical is the demand's canonical JSON.
func (d Demand) Canonical() string {
	if d.Resources == nil {
		d.Resources = []int64{}
	}
	return canonical(d)
}

// Digest is the SHA-256 of the canonical JSON, in hex.
func (d Demand) Digest() string { return digest(d.Canonical()) }

func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, numbers and lists of them always marshal
	}
	return string(b)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ReadResource reads a resource's content as stored.
func ReadResource(ctx context.Context, q sqlx.QueryerContext, id int64) (Resource, error) {
	var row struct {
		Title     string `db:"title"`
		URL       string `db:"url"`
		Authors   string `db:"authors"`
		Publisher string `db:"publisher"`
		Year      *int   `db:"year"`
		Format    string `db:"format"`
		Language  string `db:"language"`
		Region    string `db:"region"`
		Topics    string `db:"topics"`
		Licence   string `db:"licence"`
		Summary   string `db:"summary"`
		DOI       string `db:"doi"`
		ISBN      string `db:"isbn"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT title, url, authors, publisher, year, format, language, region, topics,
		licence, summary, doi, isbn FROM resources WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Resource{}, ErrNotFound
	}
	if err != nil {
		return Resource{}, fmt.Errorf("content: read resource %d: %w", id, err)
	}
	r := Resource{Title: row.Title, URL: row.URL, Publisher: row.Publisher, Year: row.Year, Format: row.Format,
		Language: row.Language, Region: row.Region, Licence: row.Licence, Summary: row.Summary, DOI: row.DOI, ISBN: row.ISBN}
	if err := json.Unmarshal([]byte(row.Authors), &r.Authors); err != nil {
		return Resource{}, fmt.Errorf("content: resource %d's authors: %w", id, err)
	}
	if err := json.Unmarshal([]byte(row.Topics), &r.Topics); err != nil {
		return Resource{}, fmt.Errorf("content: resource %d's topics: %w", id, err)
	}
	return r, nil
}

// ReadDemand reads a demand's content as stored.
func ReadDemand(ctx context.Context, q sqlx.QueryerContext, id int64) (Demand, error) {
	var d Demand
	err := sqlx.GetContext(ctx, q, &d, `SELECT title, body, audience FROM demands WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Demand{}, ErrNotFound
	}
	if err != nil {
		return Demand{}, fmt.Errorf("content: read demand %d: %w", id, err)
	}
	if err := sqlx.SelectContext(ctx, q, &d.Resources, `SELECT resource_id FROM demand_resources WHERE demand_id = ? ORDER BY position`, id); err != nil {
		return Demand{}, fmt.Errorf("content: read demand %d's resources: %w", id, err)
	}
	return d, nil
}
