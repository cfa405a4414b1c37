package db

// PostgreSQL's step 5: box_rewrites, as on SQLite (schema.sql); and the
// references that statements write 100,000 rows at a time are checked
// once per statement, not once per row.
//
// PostgreSQL checks a foreign key with one query per row written (and, on
// the referenced side, per row deleted). Freezing a roll of 100,000
// members made 200,000 such checks at commit, and closing a secret ballot
// of 100,000 votes, which rewrites its box and roll in key order
// (governance/scrub.go), made 400,000: the box's rows against proposals,
// the roll's deleted rows against votes, and the roll's reinserted rows
// against members and proposals, more than half of the close's time.
// SQLite checks its foreign keys inside the b-tree code, at a fraction of
// that cost, and keeps them.
//
// Here the four references (roll to proposals and members, ballot_box to
// proposals, votes to roll) become triggers that check each statement's
// rows together, through its transition table, as roll_frozen_insert
// already did: one anti-join per statement. The referenced side, which a
// foreign key also guards, is held by rules that are stronger and cost
// nothing per row: members and proposals are never deleted (Plenary erases
// a member by blanking the row, and a proposal stays on the record), their
// ids never change, and a roll's rows are deleted only by the close's
// rewrite, which puts every one back in the same statement sequence.
// plenary_dangling() checks all four over whole tables, for plenary copy
// (which sets the triggers aside) and the crash test.
//
// receipt_hash also takes the "C" collation: receipt hashes are lower-case
// hexadecimal, which every collation orders alike, and comparing bytes is
// what a b-tree of 100,000 of them inserted in one statement wants.
func init() {
	postgresSteps[5] = pgV5References
}

// TriggerReferences lists, for each table, the tables its rows refer to
// through the triggers of step 5 rather than a foreign key, so that a
// reader of the schema (the secrecy tests) sees every reference.
var TriggerReferences = map[string][]string{
	"roll":       {"members", "proposals"},
	"votes":      {"roll"},
	"ballot_box": {"proposals"},
}

const pgV5References = `CREATE TABLE box_rewrites (
    proposal_id BIGINT PRIMARY KEY REFERENCES proposals (id) DEFERRABLE
);

ALTER TABLE roll DROP CONSTRAINT roll_proposal_id_fkey, DROP CONSTRAINT roll_member_id_fkey;
ALTER TABLE votes DROP CONSTRAINT votes_proposal_id_member_id_fkey;
ALTER TABLE ballot_box DROP CONSTRAINT ballot_box_proposal_id_fkey;
ALTER TABLE ballot_box ALTER COLUMN receipt_hash TYPE TEXT COLLATE "C";

CREATE FUNCTION plenary_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM plenary_refuse('plenary: ' || TG_TABLE_NAME || ' are never deleted');
    RETURN NULL;
END $$;

CREATE FUNCTION plenary_id_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id THEN
        PERFORM plenary_refuse('plenary: ' || TG_TABLE_NAME || ' keep their ids');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER members_never_deleted BEFORE DELETE ON members FOR EACH STATEMENT EXECUTE FUNCTION plenary_never_deleted();
CREATE TRIGGER members_never_truncated BEFORE TRUNCATE ON members FOR EACH STATEMENT EXECUTE FUNCTION plenary_never_deleted();
CREATE TRIGGER members_id_kept BEFORE UPDATE OF id ON members FOR EACH ROW EXECUTE FUNCTION plenary_id_kept();
CREATE TRIGGER proposals_never_deleted BEFORE DELETE ON proposals FOR EACH STATEMENT EXECUTE FUNCTION plenary_never_deleted();
CREATE TRIGGER proposals_never_truncated BEFORE TRUNCATE ON proposals FOR EACH STATEMENT EXECUTE FUNCTION plenary_never_deleted();
CREATE TRIGGER proposals_id_kept BEFORE UPDATE OF id ON proposals FOR EACH ROW EXECUTE FUNCTION plenary_id_kept();

-- The roll: rows go in only while the proposal is in discussion (the close's
-- rewrite aside), and always for a proposal and a member that exist.
CREATE OR REPLACE FUNCTION roll_frozen_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('plenary.rewrite', true) IS DISTINCT FROM 'roll'
       AND EXISTS (SELECT 1 FROM inserted_rows n JOIN proposals p ON p.id = n.proposal_id WHERE p.status <> 'discussion') THEN
        PERFORM plenary_refuse('plenary: the roll is frozen');
    END IF;
    IF EXISTS (SELECT 1 FROM inserted_rows n WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = n.proposal_id)
                                              OR NOT EXISTS (SELECT 1 FROM members m WHERE m.id = n.member_id)) THEN
        PERFORM plenary_refuse('plenary: a roll names a proposal and a member that exist');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION votes_on_roll() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written_rows v WHERE NOT EXISTS (
            SELECT 1 FROM roll r WHERE r.proposal_id = v.proposal_id AND r.member_id = v.member_id)) THEN
        PERFORM plenary_refuse('plenary: a vote comes from the roll');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER votes_on_roll_insert AFTER INSERT ON votes REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION votes_on_roll();
CREATE TRIGGER votes_on_roll_update AFTER UPDATE ON votes REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION votes_on_roll();

CREATE FUNCTION ballot_box_of_proposal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM written_rows b WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = b.proposal_id)) THEN
        PERFORM plenary_refuse('plenary: a ballot box belongs to a proposal');
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ballot_box_of_proposal_insert AFTER INSERT ON ballot_box REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION ballot_box_of_proposal();
CREATE TRIGGER ballot_box_of_proposal_update AFTER UPDATE ON ballot_box REFERENCING NEW TABLE AS written_rows
FOR EACH STATEMENT EXECUTE FUNCTION ballot_box_of_proposal();

-- The four references over whole tables: the first row that breaks one,
-- or NULL.
CREATE FUNCTION plenary_dangling() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT format('roll (%s, %s) names no proposal', r.proposal_id, r.member_id) FROM roll r
            WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = r.proposal_id) LIMIT 1),
        (SELECT format('roll (%s, %s) names no member', r.proposal_id, r.member_id) FROM roll r
            WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = r.member_id) LIMIT 1),
        (SELECT format('vote (%s, %s) is not on the roll', v.proposal_id, v.member_id) FROM votes v
            WHERE NOT EXISTS (SELECT 1 FROM roll r WHERE r.proposal_id = v.proposal_id AND r.member_id = v.member_id) LIMIT 1),
        (SELECT format('ballot box row of proposal %s names no proposal', b.proposal_id) FROM ballot_box b
            WHERE NOT EXISTS (SELECT 1 FROM proposals p WHERE p.id = b.proposal_id) LIMIT 1))
$$;`
