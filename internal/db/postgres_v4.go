package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"plenary/internal/content"
	"plenary/internal/ledger"
)

// PostgreSQL's step 4, the same as SQLite's freezeEndorsed: the digest and
// amendment columns, the digests of what was endorsed already (computed in
// Go, between the two halves of the SQL, before the constraints that need
// them), the amend kinds, the applying permit and the freeze's triggers,
// which refuse with schema.sql's messages.
func init() {
	postgresSteps[4] = pgV4Columns + postgresGoMark + pgV4Freeze
	postgresGoSteps[4] = recordDigestsPostgres
}

const pgV4Columns = `ALTER TABLE resources ADD COLUMN endorsed_digest TEXT CHECK (endorsed_digest IS NULL OR length(endorsed_digest) = 64);
ALTER TABLE demands ADD COLUMN endorsed_digest TEXT CHECK (endorsed_digest IS NULL OR length(endorsed_digest) = 64);
ALTER TABLE proposals ADD COLUMN amendment TEXT CHECK (amendment IS NULL OR (plenary_json_valid(amendment) AND length(amendment) <= 40000));
`

const pgV4Freeze = `ALTER TABLE resources ADD CHECK ((endorsed_at IS NULL) = (endorsed_digest IS NULL));
ALTER TABLE demands ADD CHECK ((status = 'endorsed') = (endorsed_digest IS NOT NULL));

ALTER TABLE rules DROP CONSTRAINT rules_kind_check;
ALTER TABLE rules ADD CONSTRAINT rules_kind_check CHECK (kind IN ('endorse_demand', 'endorse_resource', 'withdraw_endorsement',
    'adopt_demand', 'motion', 'amend_demand', 'amend_resource'));
INSERT INTO rules (kind, quorum_pct, threshold, min_minutes, secret) VALUES
    ('amend_demand',   25, 'two_thirds', 7 * 24 * 60, 1),
    ('amend_resource', 10, 'majority',   3 * 24 * 60, 0);

ALTER TABLE proposals DROP CONSTRAINT proposals_check1;
ALTER TABLE proposals ADD CONSTRAINT proposals_check1 CHECK (CASE kind
    WHEN 'endorse_demand'       THEN demand_id IS NOT NULL AND resource_id IS NULL
    WHEN 'endorse_resource'     THEN resource_id IS NOT NULL AND demand_id IS NULL
    WHEN 'withdraw_endorsement' THEN (demand_id IS NULL) <> (resource_id IS NULL)
    WHEN 'adopt_demand'         THEN resource_id IS NULL AND new_title IS NOT NULL AND new_body IS NOT NULL AND new_audience IS NOT NULL
    WHEN 'amend_demand'         THEN demand_id IS NOT NULL AND resource_id IS NULL
    WHEN 'amend_resource'       THEN resource_id IS NOT NULL AND demand_id IS NULL
    ELSE demand_id IS NULL AND resource_id IS NULL END);
ALTER TABLE proposals ADD CHECK ((kind IN ('amend_demand', 'amend_resource')) = (amendment IS NOT NULL));

CREATE TABLE applying (
    proposal_id BIGINT PRIMARY KEY REFERENCES proposals (id) DEFERRABLE
);

CREATE FUNCTION applying_only_carried() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM proposals WHERE id = NEW.proposal_id AND status = 'closed' AND outcome = 'carried'
                   AND kind IN ('withdraw_endorsement', 'amend_demand', 'amend_resource')) THEN
        PERFORM plenary_refuse('plenary: only a carried ballot applies');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER applying_only_carried BEFORE INSERT ON applying FOR EACH ROW EXECUTE FUNCTION applying_only_carried();

CREATE FUNCTION resources_endorsed_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.endorsed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id
                                                   WHERE proposals.resource_id = OLD.id) THEN
        PERFORM plenary_refuse('plenary: endorsed by ballot');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER resources_endorsed_frozen BEFORE UPDATE OF title, url, authors, publisher, year, format, language, region,
    topics, licence, summary, doi, isbn, url_key, title_key, status, endorsed_at, endorsed_by, endorsed_digest ON resources
FOR EACH ROW EXECUTE FUNCTION resources_endorsed_frozen();

CREATE FUNCTION resources_endorsed_no_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.endorsed_at IS NOT NULL THEN
        PERFORM plenary_refuse('plenary: endorsed by ballot');
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER resources_endorsed_no_delete BEFORE DELETE ON resources FOR EACH ROW EXECUTE FUNCTION resources_endorsed_no_delete();

CREATE FUNCTION demands_endorsed_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'endorsed' AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id
                                               WHERE proposals.demand_id = OLD.id) THEN
        PERFORM plenary_refuse('plenary: endorsed by ballot');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER demands_endorsed_frozen BEFORE UPDATE OF title, body, audience, status, endorsed_at, endorsed_by, tally,
    endorsed_digest ON demands
FOR EACH ROW EXECUTE FUNCTION demands_endorsed_frozen();

CREATE FUNCTION demands_endorsed_no_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'endorsed' THEN
        PERFORM plenary_refuse('plenary: endorsed by ballot');
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER demands_endorsed_no_delete BEFORE DELETE ON demands FOR EACH ROW EXECUTE FUNCTION demands_endorsed_no_delete();

CREATE FUNCTION demand_resources_endorsed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    demand BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        demand := OLD.demand_id;
    ELSE
        demand := NEW.demand_id;
    END IF;
    IF (SELECT status FROM demands WHERE id = demand) = 'endorsed'
       AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id WHERE proposals.demand_id = demand) THEN
        PERFORM plenary_refuse('plenary: endorsed by ballot');
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER demand_resources_endorsed_insert BEFORE INSERT ON demand_resources
FOR EACH ROW EXECUTE FUNCTION demand_resources_endorsed();
CREATE TRIGGER demand_resources_endorsed_delete BEFORE DELETE ON demand_resources
FOR EACH ROW EXECUTE FUNCTION demand_resources_endorsed();

-- The expressions are db.JSONField's, which the query uses: a body may hold
-- \u0000, which json reads only once replaced (jsonb not at all).
CREATE INDEX ledger_digests ON ledger (
    (replace(body, '\u0000', '\ufffd')::json ->> 'resource'),
    (replace(body, '\u0000', '\ufffd')::json ->> 'demand'), seq)
    WHERE (replace(body, '\u0000', '\ufffd')::json ->> 'digest') IS NOT NULL;

CREATE TRIGGER applying_notify_insert AFTER INSERT ON applying REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify();
CREATE TRIGGER applying_notify_update AFTER UPDATE ON applying REFERENCING NEW TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify();
CREATE TRIGGER applying_notify_delete AFTER DELETE ON applying REFERENCING OLD TABLE AS changed_rows
FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify();
`

// recordDigestsPostgres is recordDigests (migrate_v4.go) on a pgx
// transaction: the digest of every endorsed resource and demand, beside it
// and on the ledger, resources first, each in id order.
func recordDigestsPostgres(ctx context.Context, tx pgx.Tx) error {
	now := time.Now().UTC()
	type item struct{ id, proposal int64 }
	read := func(query string) ([]item, error) {
		rows, err := tx.Query(ctx, query)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (item, error) {
			var it item
			return it, r.Scan(&it.id, &it.proposal)
		})
	}
	resources, err := read(`SELECT id, endorsed_by FROM resources WHERE endorsed_at IS NOT NULL ORDER BY id`)
	if err != nil {
		return err
	}
	demands, err := read(`SELECT id, endorsed_by FROM demands WHERE status = 'endorsed' ORDER BY id`)
	if err != nil {
		return err
	}
	for _, r := range resources {
		var c content.Resource
		var authors, topics string
		if err := tx.QueryRow(ctx, `SELECT title, url, authors, publisher, year, format, language, region, topics, licence, summary,
			doi, isbn FROM resources WHERE id = $1`, r.id).Scan(&c.Title, &c.URL, &authors, &c.Publisher, &c.Year, &c.Format,
			&c.Language, &c.Region, &topics, &c.Licence, &c.Summary, &c.DOI, &c.ISBN); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(authors), &c.Authors); err != nil {
			return fmt.Errorf("resource %d's authors: %w", r.id, err)
		}
		if err := json.Unmarshal([]byte(topics), &c.Topics); err != nil {
			return fmt.Errorf("resource %d's topics: %w", r.id, err)
		}
		d := c.Digest()
		if _, err := tx.Exec(ctx, `UPDATE resources SET endorsed_digest = $1 WHERE id = $2`, d, r.id); err != nil {
			return err
		}
		id := r.id
		if err := appendPostgres(ctx, tx, now, ledger.DigestRecorded{Resource: &id, Proposal: r.proposal, Digest: d}); err != nil {
			return err
		}
	}
	for _, dm := range demands {
		var c content.Demand
		if err := tx.QueryRow(ctx, `SELECT title, body, audience FROM demands WHERE id = $1`, dm.id).Scan(&c.Title, &c.Body, &c.Audience); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT resource_id FROM demand_resources WHERE demand_id = $1 ORDER BY position`, dm.id)
		if err != nil {
			return err
		}
		if c.Resources, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
		d := c.Digest()
		if _, err := tx.Exec(ctx, `UPDATE demands SET endorsed_digest = $1 WHERE id = $2`, d, dm.id); err != nil {
			return err
		}
		id := dm.id
		if err := appendPostgres(ctx, tx, now, ledger.DigestRecorded{Demand: &id, Proposal: dm.proposal, Digest: d}); err != nil {
			return err
		}
	}
	return nil
}

// appendPostgres is ledger.Append on a pgx transaction: the same chain rule
// and the same canonical body.
func appendPostgres(ctx context.Context, tx pgx.Tx, at time.Time, ev ledger.Event) error {
	body, err := ledger.Body(ev)
	if err != nil {
		return err
	}
	var seq int64
	var prev string
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0), coalesce((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1), $1)
		FROM ledger`, ledger.Genesis).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("ledger head: %w", err)
	}
	seq++
	stamp := at.UTC().Format(time.RFC3339Nano)
	_, err = tx.Exec(ctx, `INSERT INTO ledger (seq, at, kind, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)`,
		seq, stamp, ev.Kind(), body, prev, ledger.Hash(prev, seq, stamp, ev.Kind(), body))
	return err
}
