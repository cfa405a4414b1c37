package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/content"
	"plenary/internal/ledger"
	"plenary/library"
)

// Amendments change what a ballot endorsed, and nothing else can (the
// database refuses any other change: schema.sql's resources_endorsed_*
// and demands_endorsed_* triggers). An amend proposal keeps the content as
// it was when proposed (From) and the corrected content (To); when the
// ballot carries, To is applied only if the item still reads From, and the
// new digest goes on the ledger and beside the item.

// ResourceAmendment is an amend_resource proposal's text.
type ResourceAmendment struct {
	From content.Resource `json:"from"`
	To   content.Resource `json:"to"`
}

// DemandAmendment is an amend_demand proposal's text.
type DemandAmendment struct {
	From content.Demand `json:"from"`
	To   content.Demand `json:"to"`
}

// checkResourceAmendment checks the corrected resource by the resource
// form's rules; its messages are keyed "to_" and the field.
func (in ProposalInput) checkResourceAmendment(p *Proposal, v ValidationError) {
	if in.Resource == nil {
		v["to_title"] = "Give the resource's corrected details."
		return
	}
	to, errs := library.CheckResourceAmendment(*in.Resource)
	for f, msg := range errs {
		v["to_"+f] = msg
	}
	b, _ := json.Marshal(ResourceAmendment{To: to})
	s := string(b)
	p.Amendment = &s // From is filled in by amendment, inside the transaction
}

// amendment reads the item's content as it stands into an amend
// proposal's From, inside the transaction that stores it, and refuses an
// amendment that changes nothing or is too long to keep.
func (in ProposalInput) amendment(ctx context.Context, tx *sqlx.Tx, p *Proposal) error {
	var text any
	switch p.Kind {
	case KindAmendResource:
		from, err := library.EndorsedResourceContent(ctx, tx, *p.ResourceID)
		if err != nil {
			return err
		}
		var a ResourceAmendment
		if err := json.Unmarshal([]byte(*p.Amendment), &a); err != nil {
			return fmt.Errorf("governance: amendment: %w", err)
		}
		a.From = from
		if a.From.Digest() == a.To.Digest() {
			return ValidationError{"": "The amendment changes nothing: correct at least one field."}
		}
		text = a
	case KindAmendDemand:
		from, err := library.EndorsedDemandContent(ctx, tx, *p.DemandID)
		if err != nil {
			return err
		}
		to, err := library.CheckDemandAmendment(ctx, tx, *in.Demand)
		var lv ValidationError
		if errors.As(err, &lv) {
			out := ValidationError{}
			for f, msg := range lv {
				out["to_"+f] = msg
			}
			return out
		}
		if err != nil {
			return err
		}
		if from.Digest() == to.Digest() {
			return ValidationError{"": "The amendment changes nothing: correct at least one field."}
		}
		text = DemandAmendment{From: from, To: to}
	default:
		return nil
	}
	b, err := json.Marshal(text)
	if err != nil {
		return fmt.Errorf("governance: amendment: %w", err)
	}
	if len(b) > MaxAmendmentLen {
		return ValidationError{"": "The amendment is too long to keep: shorten the summary or text."}
	}
	s := string(b)
	p.Amendment = &s
	return nil
}

// MaxAmendmentLen is the longest amendment kept (from and to together),
// as schema.sql's CHECK on proposals.amendment.
const MaxAmendmentLen = 40000

// applyAmendment applies a carried amendment, or records on the ledger
// that it was stale: the item changed, or its endorsement was withdrawn,
// after the amendment was proposed.
func (s *Service) applyAmendment(ctx context.Context, tx *sqlx.Tx, p Proposal, now time.Time) error {
	ev := ledger.Effect{Proposal: p.ID, Demand: p.DemandID, Resource: p.ResourceID}
	var stale bool
	var err error
	if p.Kind == KindAmendResource {
		var a ResourceAmendment
		if err := json.Unmarshal([]byte(*p.Amendment), &a); err != nil {
			return fmt.Errorf("governance: amendment of proposal %d: %w", p.ID, err)
		}
		ev.Effect = "resource amended"
		ev.Digest, stale, err = library.AmendResource(ctx, tx, *p.ResourceID, p.ID, a.From, a.To, now)
	} else {
		var a DemandAmendment
		if err := json.Unmarshal([]byte(*p.Amendment), &a); err != nil {
			return fmt.Errorf("governance: amendment of proposal %d: %w", p.ID, err)
		}
		ev.Effect = "demand amended"
		ev.Digest, stale, err = library.AmendDemand(ctx, tx, *p.DemandID, p.ID, a.From, a.To, now)
	}
	if err != nil && !errors.Is(err, library.ErrNotFound) {
		return fmt.Errorf("governance: apply amendment of proposal %d: %w", p.ID, err)
	}
	if stale || err != nil {
		ev.Skipped, ev.Digest = true, ""
		ev.Effect = "amendment not applied: the text changed, or the endorsement was withdrawn, since it was proposed (stale)"
	}
	return appendEntry(ctx, tx, now, ev)
}

// Change is one field of an amendment, before and after.
type Change struct {
	Field, Before, After string
	Changed              bool
}

// Changes sets an amend proposal's fields side by side, in the order its
// form shows them; nil for any other proposal.
func (p Proposal) Changes() []Change {
	if p.Amendment == nil {
		return nil
	}
	var out []Change
	add := func(field, before, after string) {
		out = append(out, Change{Field: field, Before: before, After: after, Changed: before != after})
	}
	switch p.Kind {
	case KindAmendResource:
		var a ResourceAmendment
		if json.Unmarshal([]byte(*p.Amendment), &a) != nil {
			return nil
		}
		year := func(y *int) string {
			if y == nil {
				return ""
			}
			return strconv.Itoa(*y)
		}
		f, t := a.From, a.To
		add("Title", f.Title, t.Title)
		add("Link", f.URL, t.URL)
		add("Authors", strings.Join(f.Authors, "; "), strings.Join(t.Authors, "; "))
		add("Publisher", f.Publisher, t.Publisher)
		add("Year", year(f.Year), year(t.Year))
		add("Format", f.Format, t.Format)
		add("Language", f.Language, t.Language)
		add("Region", f.Region, t.Region)
		add("Topics", strings.Join(f.Topics, ", "), strings.Join(t.Topics, ", "))
		add("Licence", f.Licence, t.Licence)
		add("Summary", f.Summary, t.Summary)
		add("DOI", f.DOI, t.DOI)
		add("ISBN", f.ISBN, t.ISBN)
	case KindAmendDemand:
		var a DemandAmendment
		if json.Unmarshal([]byte(*p.Amendment), &a) != nil {
			return nil
		}
		ids := func(xs []int64) string {
			s := make([]string, len(xs))
			for i, x := range xs {
				s[i] = strconv.FormatInt(x, 10)
			}
			return strings.Join(s, ", ")
		}
		add("Title", a.From.Title, a.To.Title)
		add("Addressed to", a.From.Audience, a.To.Audience)
		add("Text", a.From.Body, a.To.Body)
		add("Supporting resources", ids(a.From.Resources), ids(a.To.Resources))
	}
	return out
}
