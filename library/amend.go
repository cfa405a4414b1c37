package library

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"plenary/internal/content"
)

// Amendments: the only way to change what a ballot endorsed. A member
// proposes the corrected text; the proposal keeps the content as it was
// (from) and as corrected (to); if the ballot carries, the closing
// transaction applies to, but only if the item still reads from.

// ContentOf is a resource's endorsable content.
func ContentOf(r Resource) content.Resource {
	return content.Resource{Title: r.Title, URL: r.URL, Authors: append([]string{}, r.Authors...), Publisher: r.Publisher,
		Year: r.Year, Format: r.Format, Language: r.Language, Region: r.Region, Topics: append([]string{}, r.Topics...),
		Licence: r.Licence, Summary: r.Summary, DOI: r.DOI, ISBN: r.ISBN}
}

// DemandContentOf is a demand's endorsable content.
func DemandContentOf(d Demand) content.Demand {
	return content.Demand{Title: d.Title, Body: d.Body, Audience: d.Audience, Resources: append([]int64{}, d.Resources...)}
}

// InputOfContent turns content back into the input that makes it, for the
// amend form.
func InputOfContent(c content.Resource) ResourceInput {
	return InputOf(Resource{Title: c.Title, URL: c.URL, Authors: c.Authors, Publisher: c.Publisher, Year: c.Year, Format: c.Format,
		Language: c.Language, Region: c.Region, Topics: c.Topics, Licence: c.Licence, Summary: c.Summary, DOI: c.DOI, ISBN: c.ISBN})
}

// InputOfDemandContent turns a demand's content back into its input.
func InputOfDemandContent(c content.Demand) DemandInput {
	return InputOfDemand(Demand{Title: c.Title, Body: c.Body, Audience: c.Audience, Resources: c.Resources})
}

// CheckResourceAmendment checks an amendment's corrected resource, by the
// rules the resource form uses, and returns it as it would be kept.
func CheckResourceAmendment(in ResourceInput) (content.Resource, ValidationError) {
	r, v := in.resource()
	return ContentOf(r), v
}

// CheckDemandAmendment checks an amendment's corrected demand, and that its
// supporting resources are listed.
func CheckDemandAmendment(ctx context.Context, tx *sqlx.Tx, in DemandInput) (content.Demand, error) {
	d, v := in.demand()
	if err := v.Err(); err != nil {
		return content.Demand{}, err
	}
	if err := checkSupporting(ctx, tx, d.Resources); err != nil {
		return content.Demand{}, err
	}
	return DemandContentOf(d), nil
}

// EndorsedResourceContent is the content of an endorsed resource, for an
// amendment's "from"; a resource not endorsed gives a ValidationError.
func EndorsedResourceContent(ctx context.Context, q sqlx.QueryerContext, id int64) (content.Resource, error) {
	if err := CheckResourceEndorsed(ctx, q, id); err != nil {
		return content.Resource{}, ValidationError{"resource_id": fmt.Sprintf("Resource %d is not endorsed: edit it instead of proposing an amendment.", id)}
	}
	return content.ReadResource(ctx, q, id)
}

// EndorsedDemandContent is the content of an endorsed demand.
func EndorsedDemandContent(ctx context.Context, q sqlx.QueryerContext, id int64) (content.Demand, error) {
	if err := CheckDemandEndorsed(ctx, q, id); err != nil {
		return content.Demand{}, ValidationError{"demand_id": fmt.Sprintf("Demand %d is not endorsed: edit it instead of proposing an amendment.", id)}
	}
	return content.ReadDemand(ctx, q, id)
}

// AmendResource applies a carried amendment: if the resource is still
// endorsed and reads from, it is changed to read to and the new digest is
// kept and returned. stale is true, and nothing changes, otherwise.
func AmendResource(ctx context.Context, tx *sqlx.Tx, id, proposal int64, from, to content.Resource, at time.Time) (digest string, stale bool, err error) {
	r, err := getResource(ctx, tx, id)
	if err != nil {
		return "", false, err
	}
	if !r.Endorsed() || ContentOf(r).Digest() != from.Digest() {
		return "", true, nil
	}
	digest = to.Digest()
	authors, topics := List(to.Authors), List(to.Topics)
	err = applying(ctx, tx, proposal, func() error {
		return exec1(ctx, tx, "amend resource", `UPDATE resources SET title = ?, url = ?, authors = ?, publisher = ?, year = ?,
			format = ?, language = ?, region = ?, topics = ?, licence = ?, summary = ?, doi = ?, isbn = ?, url_key = ?, title_key = ?,
			endorsed_digest = ?, updated_at = ? WHERE id = ?`,
			to.Title, to.URL, authors, to.Publisher, to.Year, to.Format, to.Language, to.Region, topics, to.Licence, to.Summary,
			to.DOI, to.ISBN, urlKey(to.URL), titleKey(to.Title), digest, at, id)
	})
	return digest, false, err
}

// AmendDemand applies a carried amendment to a demand, as AmendResource
// does. Its supporting resources must still be listed; if one is not, the
// amendment is stale.
func AmendDemand(ctx context.Context, tx *sqlx.Tx, id, proposal int64, from, to content.Demand, at time.Time) (digest string, stale bool, err error) {
	d, err := getDemand(ctx, tx, id)
	if err != nil {
		return "", false, err
	}
	if d.Status != DemandEndorsed || DemandContentOf(d).Digest() != from.Digest() || checkSupporting(ctx, tx, to.Resources) != nil {
		return "", true, nil
	}
	digest = to.Digest()
	err = applying(ctx, tx, proposal, func() error {
		if err := exec1(ctx, tx, "amend demand", `UPDATE demands SET title = ?, body = ?, audience = ?, endorsed_digest = ?, updated_at = ?
			WHERE id = ?`, to.Title, to.Body, to.Audience, digest, at, id); err != nil {
			return err
		}
		return setSupporting(ctx, tx, id, to.Resources)
	})
	return digest, false, err
}
