package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"plenary/internal/check"
	"plenary/internal/db"
	"plenary/internal/ledger"
)

// Demand field limits, mirrored in schema.sql.
const (
	MaxDemandTitleLen = 200
	MaxDemandBodyLen  = 10000
	MaxSupporting     = 20
)

// DemandInput is a demand as a person or an import file gives it.
// Resources are library numbers separated by commas or spaces. The tags
// check the text once trimmed, with CRLF line ends as LF; the library
// numbers are read, and checked, by demand.
type DemandInput struct {
	Title     string `form:"title" validate:"utf8,nocontrol,oneline,required,max=200"`
	Body      string `form:"body" validate:"utf8,nocontrol,required,max=10000"`
	Audience  string `form:"audience" validate:"oneof='co-op movement' 'local government' 'devolved administrations' 'national government' international 'funders and investors' unions"`
	Resources string `form:"resources"`
}

var demandMessages = map[string]string{
	"title.utf8":      "The title contains invalid characters.",
	"title.nocontrol": "The title contains invalid characters.",
	"title.oneline":   "The title contains invalid characters.",
	"title.required":  "Enter a short title for the demand.",
	"title.max":       fmt.Sprintf("Keep the title under %d characters.", MaxDemandTitleLen),
	"body.utf8":       "The text contains invalid characters.",
	"body.nocontrol":  "The text contains invalid characters.",
	"body.required":   "Say what the demand asks for, and of whom.",
	"body.max":        fmt.Sprintf("Keep the text under %d characters.", MaxDemandBodyLen),
	"audience.oneof":  "Choose who the demand is addressed to.",
}

// Messages words what the tags refuse.
func (DemandInput) Messages() map[string]string { return demandMessages }

// InputOfDemand turns a demand back into its input, for edit forms.
func InputOfDemand(d Demand) DemandInput {
	ids := make([]string, len(d.Resources))
	for i, id := range d.Resources {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return DemandInput{Title: d.Title, Body: d.Body, Audience: d.Audience, Resources: strings.Join(ids, ", ")}
}

// normalised is the input as it would be kept.
func (in DemandInput) normalised() DemandInput {
	return DemandInput{
		Title:     strings.TrimSpace(in.Title),
		Body:      strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n")),
		Audience:  strings.ToLower(strings.TrimSpace(in.Audience)),
		Resources: in.Resources,
	}
}

// demand checks the input and returns the demand it describes, and a
// message per wrong field (never a nil map: the import adds its own).
func (in DemandInput) demand() (Demand, ValidationError) {
	in = in.normalised()
	v := check.Struct(in)
	d := Demand{Title: in.Title, Body: in.Body, Audience: in.Audience}
	seen := map[int64]bool{}
	for _, f := range strings.FieldsFunc(in.Resources, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == ';' }) {
		id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(f), "#"), 10, 64)
		if err != nil || id < 1 {
			v["resources"] = "List library numbers such as 3, 14, 15."
			break
		}
		if !seen[id] {
			seen[id] = true
			d.Resources = append(d.Resources, id)
		}
	}
	if len(d.Resources) > MaxSupporting {
		v["resources"] = fmt.Sprintf("List at most %d supporting resources.", MaxSupporting)
	}
	return d, v
}

const demandColumns = `id, title, body, audience, status, added_by, created_at, updated_at, endorsed_at, endorsed_by, tally, endorsed_digest`

func getDemand(ctx context.Context, q sqlx.QueryerContext, id int64) (Demand, error) {
	var d Demand
	err := sqlx.GetContext(ctx, q, &d, `SELECT `+demandColumns+` FROM demands WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Demand{}, ErrNotFound
	}
	if err != nil {
		return Demand{}, fmt.Errorf("library: get demand: %w", err)
	}
	if err := sqlx.SelectContext(ctx, q, &d.Resources, `SELECT resource_id FROM demand_resources WHERE demand_id = ? ORDER BY position`, id); err != nil {
		return Demand{}, fmt.Errorf("library: get demand resources: %w", err)
	}
	return d, nil
}

// Demand returns a demand with its supporting resources' ids. The register
// is public.
func (s *Service) Demand(ctx context.Context, id int64) (Demand, error) {
	return getDemand(ctx, s.db.R, id)
}

// DraftDemand adds a proposed demand from an active member.
func (s *Service) DraftDemand(ctx context.Context, v Viewer, in DemandInput) (Demand, error) {
	if !v.Active {
		return Demand{}, ErrForbidden
	}
	d, errs := in.demand()
	if err := errs.Err(); err != nil {
		return Demand{}, err
	}
	d.Status = DemandProposed
	d.AddedBy = &v.ID
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkSupporting(ctx, tx, d.Resources); err != nil {
			return err
		}
		var err error
		d.ID, err = s.insertDemand(ctx, tx, d)
		return err
	})
	if err != nil {
		return Demand{}, err
	}
	return getDemand(ctx, s.db.R, d.ID)
}

// checkSupporting: a demand may cite only listed resources.
func checkSupporting(ctx context.Context, tx *sqlx.Tx, ids []int64) error {
	for _, id := range ids {
		r, err := getResource(ctx, tx, id)
		if errors.Is(err, ErrNotFound) || (err == nil && r.Status != StatusListed) {
			return ValidationError{"resources": fmt.Sprintf("There is no listed resource number %d.", id)}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) insertDemand(ctx context.Context, tx *sqlx.Tx, d Demand) (int64, error) {
	now := s.now()
	id, err := db.InsertID(ctx, tx, `INSERT INTO demands (title, body, audience, status, added_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.Title, d.Body, d.Audience, d.Status, d.AddedBy, now, now)
	if err != nil {
		return 0, fmt.Errorf("library: insert demand: %w", err)
	}
	return id, setSupporting(ctx, tx, id, d.Resources)
}

func setSupporting(ctx context.Context, tx *sqlx.Tx, demand int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM demand_resources WHERE demand_id = ?`, demand); err != nil {
		return fmt.Errorf("library: clear demand resources: %w", err)
	}
	for i, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO demand_resources (demand_id, resource_id, position) VALUES (?, ?, ?)`, demand, id, i); err != nil {
			return fmt.Errorf("library: link demand resource: %w", err)
		}
	}
	return nil
}

// CanEditDemand says whether v may edit d: its author while active and the
// demand is still proposed; admins while it is not endorsed. Once endorsed,
// only a ballot changes it.
func CanEditDemand(v Viewer, d Demand) bool {
	if d.Status == DemandEndorsed {
		return false
	}
	return v.Admin || (v.Active && d.AddedBy != nil && *d.AddedBy == v.ID && d.Status == DemandProposed)
}

// UpdateDemand changes a demand's text, audience and supporting resources.
func (s *Service) UpdateDemand(ctx context.Context, v Viewer, id int64, in DemandInput) (Demand, error) {
	d, errs := in.demand()
	err := s.db.WithTx(ctx, func(tx *sqlx.Tx) error {
		old, err := getDemand(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Status == DemandEndorsed {
			return ErrEndorsedDemand
		}
		if !CanEditDemand(v, old) {
			return ErrForbidden
		}
		if err := errs.Err(); err != nil {
			return err
		}
		if err := checkSupporting(ctx, tx, d.Resources); err != nil {
			return err
		}
		var changed []string
		for _, f := range []struct {
			name string
			same bool
		}{{"title", old.Title == d.Title}, {"text", old.Body == d.Body}, {"audience", old.Audience == d.Audience},
			{"resources", slices.Equal(old.Resources, d.Resources)}} {
			if !f.same {
				changed = append(changed, f.name)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE demands SET title = ?, body = ?, audience = ?, updated_at = ? WHERE id = ?`,
			d.Title, d.Body, d.Audience, s.now(), id)
		if err == nil {
			err = setSupporting(ctx, tx, id, d.Resources)
		}
		switch {
		case isUnderBallot(err):
			return errUnderBallot
		case isEndorsedRefusal(err):
			return ErrEndorsedDemand
		case err != nil:
			return fmt.Errorf("library: update demand: %w", err)
		}
		return ledger.Append(ctx, tx, s.now(), ledger.DemandEdited{Demand: id, By: v.ID, Fields: changed})
	})
	if err != nil {
		return Demand{}, err
	}
	return getDemand(ctx, s.db.R, id)
}

// DemandQuery selects demands for the register.
type DemandQuery struct {
	Audience string
	Status   string
	Page     int
}

// DemandsPerPage is the register's page size.
const DemandsPerPage = 25

// Demands lists demands, endorsed first, then newest.
func (s *Service) Demands(ctx context.Context, q DemandQuery) ([]Demand, int, error) {
	where, args := []string{"1 = 1"}, []any{}
	if q.Audience != "" {
		where, args = append(where, "audience = ?"), append(args, q.Audience)
	}
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.db.R.GetContext(ctx, &total, `SELECT count(*) FROM demands WHERE `+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("library: count demands: %w", err)
	}
	var ds []Demand
	err := s.db.R.SelectContext(ctx, &ds, `SELECT `+demandColumns+` FROM demands WHERE `+cond+`
		ORDER BY status = 'endorsed' DESC, endorsed_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, DemandsPerPage, (max(q.Page, 1)-1)*DemandsPerPage)...)
	if err != nil {
		return nil, 0, fmt.Errorf("library: list demands: %w", err)
	}
	return ds, total, nil
}

// DemandsCiting returns the demands a resource supports.
func (s *Service) DemandsCiting(ctx context.Context, resource int64) ([]Demand, error) {
	var ds []Demand
	err := s.db.R.SelectContext(ctx, &ds, `SELECT `+demandColumns+` FROM demands
		WHERE id IN (SELECT demand_id FROM demand_resources WHERE resource_id = ?) ORDER BY status = 'endorsed' DESC, id`, resource)
	if err != nil {
		return nil, fmt.Errorf("library: demands citing: %w", err)
	}
	return ds, nil
}

// ResourcesByID returns the resources with the given ids that v may see, in
// the order given.
func (s *Service) ResourcesByID(ctx context.Context, v Viewer, ids []int64) ([]Resource, error) {
	var out []Resource
	for _, id := range ids {
		r, err := s.Resource(ctx, v, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
