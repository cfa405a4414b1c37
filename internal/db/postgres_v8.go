package db

// PostgreSQL's step 8: choices among many options, as on SQLite
// (schema.sql, migrate_v8.go). As in step 5, the choice ballots refer to
// the roll and to proposals through statement triggers rather than
// foreign keys (a ballot of 100,000 votes is rewritten at close), reusing
// step 5's functions, and plenary_dangling() checks them too. The secret
// box's receipt hashes take the "C" collation, as ballot_box's do.
func init() {
	postgresSteps[8] = pgV8
	TriggerReferences["choice_votes"] = []string{"roll"}
	TriggerReferences["choice_box"] = []string{"proposals"}
}

const pgV8 = `ALTER TABLE rules DROP CONSTRAINT rules_kind_check;
ALTER TABLE rules ADD CONSTRAINT rules_kind_check CHECK (kind IN ('endorse_demand', 'endorse_resource', 'withdraw_endorsement',
    'adopt_demand', 'motion', 'amend_demand', 'amend_resource', 'prioritise_demands', 'choose_resources', 'elect', 'poll'));
ALTER TABLE rules
    ADD COLUMN methods TEXT NOT NULL DEFAULT '' CHECK (btrim(replace(replace(replace(replace(methods, 'approval', ''), 'schulze', ''),
                                                       'irv', ''), 'stv', ''), ',') = '' AND length(methods) <= 40),
    ADD COLUMN approval_pct INTEGER NOT NULL DEFAULT 50 CHECK (approval_pct BETWEEN 0 AND 99),
    ADD CHECK ((kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')) = (methods <> ''));
INSERT INTO rules (kind, quorum_pct, threshold, min_minutes, secret, methods) VALUES
    ('prioritise_demands',   25, 'majority',   7 * 24 * 60, 1, 'schulze,approval'),
    ('choose_resources',     10, 'majority',   3 * 24 * 60, 0, 'approval'),
    ('elect',                25, 'majority',   7 * 24 * 60, 1, 'stv,irv,approval'),
    ('poll',                 10, 'majority',   3 * 24 * 60, 0, 'approval,schulze,irv');
INSERT INTO reminder_rules (kind, hours) SELECT kind, 24 FROM rules
    WHERE kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll');

ALTER TABLE proposals
    ADD COLUMN method        TEXT    CHECK (method IS NULL OR method IN ('approval', 'schulze', 'irv', 'stv')),
    ADD COLUMN seats         INTEGER CHECK (seats IS NULL OR seats BETWEEN 1 AND 49),
    ADD COLUMN max_approvals INTEGER CHECK (max_approvals IS NULL OR max_approvals BETWEEN 1 AND 49),
    ADD COLUMN office        TEXT    CHECK (office IS NULL OR length(office) BETWEEN 1 AND 200),
    ADD COLUMN approval_pct  INTEGER CHECK (approval_pct IS NULL OR approval_pct BETWEEN 0 AND 99),
    ADD COLUMN result        TEXT    CHECK (result IS NULL OR (plenary_json_valid(result) AND length(result) <= 1000000)),
    ADD CHECK ((kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')) = (method IS NOT NULL)),
    ADD CHECK ((kind = 'elect') = (seats IS NOT NULL AND office IS NOT NULL)),
    ADD CHECK (method <> 'stv' OR seats IS NOT NULL),
    ADD CHECK (method <> 'irv' OR seats IS NULL OR seats = 1),
    ADD CHECK (max_approvals IS NULL OR method = 'approval'),
    ADD CHECK ((method IS NOT NULL AND status = 'closed') = (result IS NOT NULL));

CREATE TABLE proposal_options (
    proposal_id BIGINT  NOT NULL REFERENCES proposals (id) DEFERRABLE,
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 49),
    kind        TEXT    NOT NULL CHECK (kind IN ('demand', 'resource', 'candidate', 'text')),
    demand_id   BIGINT  REFERENCES demands (id) DEFERRABLE,
    resource_id BIGINT  REFERENCES resources (id) DEFERRABLE,
    member_id   BIGINT  REFERENCES members (id) DEFERRABLE,
    label       TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
    statement   TEXT    NOT NULL DEFAULT '' CHECK (length(statement) <= 2000),
    CONSTRAINT "proposal_options.proposal_id, proposal_options.position" PRIMARY KEY (proposal_id, position),
    CONSTRAINT "proposal_options.proposal_id, proposal_options.demand_id" UNIQUE (proposal_id, demand_id),
    CONSTRAINT "proposal_options.proposal_id, proposal_options.resource_id" UNIQUE (proposal_id, resource_id),
    CONSTRAINT "proposal_options.proposal_id, proposal_options.member_id" UNIQUE (proposal_id, member_id),
    CHECK (CASE kind
        WHEN 'demand'    THEN demand_id IS NOT NULL AND resource_id IS NULL AND member_id IS NULL AND statement = ''
        WHEN 'resource'  THEN resource_id IS NOT NULL AND demand_id IS NULL AND member_id IS NULL AND statement = ''
        WHEN 'candidate' THEN demand_id IS NULL AND resource_id IS NULL
        ELSE demand_id IS NULL AND resource_id IS NULL AND member_id IS NULL AND statement = '' AND length(label) <= 200 END)
);

CREATE UNIQUE INDEX proposal_options_label ON proposal_options (proposal_id, label)
    WHERE demand_id IS NULL AND resource_id IS NULL AND member_id IS NULL;

CREATE FUNCTION proposal_options_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' OR (SELECT status FROM proposals WHERE id = NEW.proposal_id) <> 'discussion' THEN
        PERFORM plenary_refuse('plenary: the options are frozen');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER proposal_options_frozen_insert BEFORE INSERT ON proposal_options FOR EACH ROW EXECUTE FUNCTION proposal_options_frozen();
CREATE TRIGGER proposal_options_frozen_update BEFORE UPDATE ON proposal_options FOR EACH ROW EXECUTE FUNCTION proposal_options_frozen();
CREATE TRIGGER proposal_options_frozen_delete BEFORE DELETE ON proposal_options FOR EACH STATEMENT EXECUTE FUNCTION proposal_options_frozen();
CREATE TRIGGER proposal_options_frozen_truncate BEFORE TRUNCATE ON proposal_options FOR EACH STATEMENT EXECUTE FUNCTION proposal_options_frozen();

CREATE TABLE choice_votes (
    proposal_id BIGINT NOT NULL,
    member_id   BIGINT NOT NULL,
    ballot      TEXT   NOT NULL CHECK (plenary_json_array(ballot) AND length(ballot) <= 200),
    CONSTRAINT "choice_votes.proposal_id, choice_votes.member_id" PRIMARY KEY (proposal_id, member_id)
);

CREATE TRIGGER choice_votes_on_roll_insert AFTER INSERT ON choice_votes REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION votes_on_roll();
CREATE TRIGGER choice_votes_on_roll_update AFTER UPDATE ON choice_votes REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION votes_on_roll();

CREATE TABLE choice_box (
    proposal_id  BIGINT NOT NULL,
    receipt_hash TEXT   COLLATE "C" NOT NULL,
    ballot       TEXT   NOT NULL CHECK (plenary_json_array(ballot) AND length(ballot) <= 200),
    CONSTRAINT "choice_box.proposal_id, choice_box.receipt_hash" PRIMARY KEY (proposal_id, receipt_hash)
);

CREATE TRIGGER choice_box_of_proposal_insert AFTER INSERT ON choice_box REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION ballot_box_of_proposal();
CREATE TRIGGER choice_box_of_proposal_update AFTER UPDATE ON choice_box REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION ballot_box_of_proposal();

CREATE TABLE demand_priorities (
    proposal_id BIGINT  NOT NULL REFERENCES proposals (id) DEFERRABLE,
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 49),
    demand_id   BIGINT  NOT NULL REFERENCES demands (id) DEFERRABLE,
    CONSTRAINT "demand_priorities.proposal_id, demand_priorities.position" PRIMARY KEY (proposal_id, position),
    CONSTRAINT "demand_priorities.proposal_id, demand_priorities.demand_id" UNIQUE (proposal_id, demand_id)
);

CREATE TABLE officers (
    proposal_id BIGINT  NOT NULL REFERENCES proposals (id) DEFERRABLE,
    seat        INTEGER NOT NULL CHECK (seat BETWEEN 1 AND 49),
    position    INTEGER NOT NULL,
    member_id   BIGINT  REFERENCES members (id) DEFERRABLE,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    office      TEXT    NOT NULL CHECK (length(office) BETWEEN 1 AND 200),
    CONSTRAINT "officers.proposal_id, officers.seat" PRIMARY KEY (proposal_id, seat),
    CONSTRAINT "officers.proposal_id, officers.position" UNIQUE (proposal_id, position),
    FOREIGN KEY (proposal_id, position) REFERENCES proposal_options (proposal_id, position) DEFERRABLE
);

-- Written once by a carried ballot's close (the kind's own), never changed.
CREATE FUNCTION decided_by_ballot() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM plenary_refuse('plenary: decided by ballot');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM proposals WHERE id = NEW.proposal_id AND kind = TG_ARGV[0] AND status = 'closed'
                   AND outcome = 'carried') THEN
        PERFORM plenary_refuse('plenary: only a carried ballot applies');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER demand_priorities_by_ballot BEFORE INSERT ON demand_priorities FOR EACH ROW
EXECUTE FUNCTION decided_by_ballot('prioritise_demands');
CREATE TRIGGER demand_priorities_kept BEFORE UPDATE ON demand_priorities FOR EACH ROW EXECUTE FUNCTION decided_by_ballot('prioritise_demands');
CREATE TRIGGER demand_priorities_no_delete BEFORE DELETE ON demand_priorities FOR EACH STATEMENT
EXECUTE FUNCTION decided_by_ballot('prioritise_demands');
CREATE TRIGGER demand_priorities_no_truncate BEFORE TRUNCATE ON demand_priorities FOR EACH STATEMENT
EXECUTE FUNCTION decided_by_ballot('prioritise_demands');
CREATE TRIGGER officers_by_ballot BEFORE INSERT ON officers FOR EACH ROW EXECUTE FUNCTION decided_by_ballot('elect');
CREATE TRIGGER officers_kept BEFORE UPDATE ON officers FOR EACH ROW EXECUTE FUNCTION decided_by_ballot('elect');
CREATE TRIGGER officers_no_delete BEFORE DELETE ON officers FOR EACH STATEMENT EXECUTE FUNCTION decided_by_ballot('elect');
CREATE TRIGGER officers_no_truncate BEFORE TRUNCATE ON officers FOR EACH STATEMENT EXECUTE FUNCTION decided_by_ballot('elect');

CREATE INDEX proposal_options_demand ON proposal_options (demand_id) WHERE demand_id IS NOT NULL;
CREATE INDEX proposal_options_resource ON proposal_options (resource_id) WHERE resource_id IS NOT NULL;

CREATE OR REPLACE FUNCTION demands_frozen_under_ballot() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM proposals WHERE demand_id = OLD.id AND status IN ('discussion', 'voting'))
       OR EXISTS (SELECT 1 FROM proposal_options o JOIN proposals p ON p.id = o.proposal_id
                  WHERE o.demand_id = OLD.id AND p.status IN ('discussion', 'voting')) THEN
        PERFORM plenary_refuse('plenary: under ballot');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION demand_resources_frozen_under_ballot() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM proposals WHERE demand_id = OLD.demand_id AND status IN ('discussion', 'voting'))
       OR EXISTS (SELECT 1 FROM proposal_options o JOIN proposals p ON p.id = o.proposal_id
                  WHERE o.demand_id = OLD.demand_id AND p.status IN ('discussion', 'voting')) THEN
        PERFORM plenary_refuse('plenary: under ballot');
    END IF;
    RETURN OLD;
END $$;

CREATE OR REPLACE FUNCTION resources_frozen_under_ballot() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM proposals WHERE resource_id = OLD.id AND status IN ('discussion', 'voting'))
       OR EXISTS (SELECT 1 FROM proposal_options o JOIN proposals p ON p.id = o.proposal_id
                  WHERE o.resource_id = OLD.id AND p.status IN ('discussion', 'voting')) THEN
        PERFORM plenary_refuse('plenary: under ballot');
    END IF;
    RETURN NEW;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['proposal_options', 'choice_votes', 'choice_box', 'demand_priorities', 'officers'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify()', t || '_notify_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify()', t || '_notify_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION plenary_notify()', t || '_notify_delete', t);
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION plenary_dangling() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT format('roll (%s, %s) names no proposal', r.proposal_id, r.member_id) FROM roll r
            WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = r.proposal_id) LIMIT 1),
        (SELECT format('roll (%s, %s) names no member', r.proposal_id, r.member_id) FROM roll r
            WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = r.member_id) LIMIT 1),
        (SELECT format('vote (%s, %s) is not on the roll', v.proposal_id, v.member_id) FROM votes v
            WHERE NOT EXISTS (SELECT 1 FROM roll r WHERE r.proposal_id = v.proposal_id AND r.member_id = v.member_id) LIMIT 1),
        (SELECT format('ballot box row of proposal %s names no proposal', b.proposal_id) FROM ballot_box b
            WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = b.proposal_id) LIMIT 1),
        (SELECT format('notification %s names no member', n.id) FROM notifications n
            WHERE n.member_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = n.member_id) LIMIT 1),
        (SELECT format('notification %s names no digest', n.id) FROM notifications n
            WHERE n.digest_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM notifications d WHERE d.id = n.digest_id) LIMIT 1),
        (SELECT format('choice vote (%s, %s) is not on the roll', v.proposal_id, v.member_id) FROM choice_votes v
            WHERE NOT EXISTS (SELECT 1 FROM roll r WHERE r.proposal_id = v.proposal_id AND r.member_id = v.member_id) LIMIT 1),
        (SELECT format('choice box row of proposal %s names no proposal', b.proposal_id) FROM choice_box b
            WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = b.proposal_id) LIMIT 1))
$$;`
