-- Plenary's whole schema: the single source of truth. internal/db applies it
-- to an empty database and records the version in PRAGMA user_version; later
-- changes are ordered steps in internal/db/migrate.go.
--
-- Times are UTC, written by the Go driver as text that sorts in time order.

-- Secrets generated once and kept with the data (session and CSRF keys), so a
-- restart or a second process does not log anybody out.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL CHECK (length(value) >= 32)
) WITHOUT ROWID;

-- Members. The id is the public member number: sequential, never reused, kept
-- after erasure; the ledger names members only by it.
CREATE TABLE members (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL CHECK (length(name) <= 80),
    email            TEXT    COLLATE NOCASE UNIQUE CHECK (email IS NULL OR length(email) <= 254),
    password_hash    TEXT,
    statement        TEXT    NOT NULL DEFAULT '' CHECK (length(statement) <= 1000),
    role             TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    status           TEXT    NOT NULL CHECK (status IN ('applicant', 'active', 'suspended', 'left', 'rejected')),
    status_reason    TEXT    NOT NULL DEFAULT '' CHECK (length(status_reason) <= 500),
    session_version  INTEGER NOT NULL DEFAULT 1,
    applied_at       TIMESTAMP NOT NULL,
    joined_at        TIMESTAMP,
    erased_at        TIMESTAMP,
    -- The IANA name of the zone the member reads times in (Europe/London);
    -- NULL for the co-op's default (settings).
    time_zone        TEXT    CHECK (time_zone IS NULL OR length(time_zone) BETWEEN 1 AND 64),
    -- When the member left (marked as left, or erased while a member), for
    -- the register.
    left_at          TIMESTAMP,
    CHECK (left_at IS NULL OR status = 'left'),
    -- An erased member keeps only the number, the status and the dates.
    CHECK (erased_at IS NULL OR (email IS NULL AND password_hash IS NULL AND name = '' AND statement = '')),
    -- Anyone who can log in has both an email and a password.
    CHECK (erased_at IS NOT NULL OR (email IS NOT NULL AND password_hash IS NOT NULL))
);

CREATE INDEX members_status ON members (status, id);

-- The co-op always keeps at least one active admin once it has one: a change
-- that would remove the last is refused by the database itself.
CREATE TRIGGER members_keep_last_admin
AFTER UPDATE OF role, status ON members
WHEN OLD.role = 'admin' AND OLD.status = 'active'
 AND NOT (NEW.role = 'admin' AND NEW.status = 'active')
 AND NOT EXISTS (SELECT 1 FROM members WHERE role = 'admin' AND status = 'active')
BEGIN
    SELECT RAISE(ABORT, 'plenary: last admin');
END;

-- Failed logins, counted per account (the email as typed, whether or not it
-- exists) and per client address, for throttling.
CREATE TABLE login_failures (
    id     INTEGER PRIMARY KEY,
    scope  TEXT      NOT NULL CHECK (scope IN ('account', 'address')),
    key    TEXT      NOT NULL,
    at     TIMESTAMP NOT NULL
);

CREATE INDEX login_failures_key ON login_failures (scope, key, at);

-- The one-time link that creates the founding admin. Only its hash is kept.
CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    created_at  TIMESTAMP NOT NULL
) WITHOUT ROWID;

-- Single-use invitation links. Only the token's hash is kept: the link is
-- shown once, to the admin who made it, or emailed to the person invited.
-- An invitation made for someone names them: it is tied to their address
-- (the member it makes has that email) and says which role they get. One
-- without an email is a link to hand on, for whoever has it.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT      NOT NULL UNIQUE,
    note        TEXT      NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    created_by  INTEGER   NOT NULL REFERENCES members (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL CHECK (expires_at > created_at),
    used_at     TIMESTAMP,
    used_by     INTEGER   REFERENCES members (id),
    revoked_at  TIMESTAMP,
    email       TEXT      COLLATE NOCASE CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    name        TEXT      NOT NULL DEFAULT '' CHECK (length(name) <= 80),
    role        TEXT      NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    CHECK ((used_at IS NULL) = (used_by IS NULL)),
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);

CREATE INDEX invitations_email ON invitations (email) WHERE email IS NOT NULL;

-- The co-op's settings, by name: the time zone that readers, and members
-- who chose none, see times in (UTC when unset).
CREATE TABLE settings (
    name   TEXT PRIMARY KEY CHECK (name IN ('time_zone')),
    value  TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 200)
) WITHOUT ROWID;

-- Each member's private calendar feed (/calendar/TOKEN.ics) of the ballots
-- they are on the roll for. Only the token's hash is kept; a new link
-- replaces the row, so the old link stops working.
CREATE TABLE calendar_tokens (
    member_id   INTEGER   PRIMARY KEY REFERENCES members (id),
    token_hash  TEXT      NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL
);

-- Single-use, expiring password-reset links. Only the token's hash is kept.
-- created_by is the admin who issued the link, or NULL when it was mailed to
-- the member at their own request. A member has at most one link that is
-- neither used nor revoked: issuing a new one revokes the old.
CREATE TABLE password_resets (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER   NOT NULL REFERENCES members (id),
    token_hash  TEXT      NOT NULL UNIQUE,
    created_by  INTEGER   REFERENCES members (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL CHECK (expires_at > created_at),
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP,
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);

CREATE UNIQUE INDEX password_resets_one_open ON password_resets (member_id)
    WHERE used_at IS NULL AND revoked_at IS NULL;

-- A member's request, from the "forgot your password" page, for the admins
-- to see; it goes when the password is reset.
CREATE TABLE reset_requests (
    member_id     INTEGER PRIMARY KEY REFERENCES members (id),
    requested_at  TIMESTAMP NOT NULL
);

-- What the rate limits on the public forms count, per action and key (a
-- client address, or an email as typed): applications made, wrong
-- invitation links tried, password-reset requests. Old rows are pruned as
-- new ones come in.
CREATE TABLE rate_events (
    id      INTEGER PRIMARY KEY,
    action  TEXT      NOT NULL CHECK (action IN ('join', 'invitation', 'reset-address', 'reset-email')),
    key     TEXT      NOT NULL CHECK (length(key) <= 300),
    at      TIMESTAMP NOT NULL
);

CREATE INDEX rate_events_key ON rate_events (action, key, at);

-- The ledger: an append-only, hash-chained record of every governance event.
-- Each hash covers the previous hash and the entry's canonical JSON, so an
-- edited, removed or reordered row breaks the chain (`plenary ledger verify`).
-- Entries name members by number only.
CREATE TABLE ledger (
    seq        INTEGER PRIMARY KEY,
    at         TEXT      NOT NULL, -- RFC 3339, exactly as hashed
    kind       TEXT      NOT NULL,
    body       TEXT      NOT NULL CHECK (json_valid(body)),
    prev_hash  TEXT      NOT NULL,
    hash       TEXT      NOT NULL UNIQUE
);

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'plenary: the ledger is append-only');
END;

CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'plenary: the ledger is append-only');
END;

-- INSERT OR REPLACE removes the old row without firing ledger_no_delete
-- (recursive_triggers is off), so an insert over an existing entry is refused.
CREATE TRIGGER ledger_no_replace BEFORE INSERT ON ledger
WHEN EXISTS (SELECT 1 FROM ledger WHERE seq = NEW.seq OR hash = NEW.hash)
BEGIN
    SELECT RAISE(ABORT, 'plenary: the ledger is append-only');
END;

-- The library: resources on platform co-operativism. Authors and topics are
-- JSON arrays (authors in order). url_key, doi and title_key are normalised
-- forms for spotting duplicates. Endorsement is set only by a ballot, with
-- the digest of the content it endorsed (see internal/content); once
-- endorsed, a resource changes only through a ballot (the triggers
-- resources_endorsed_* below).
CREATE TABLE resources (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    url         TEXT    NOT NULL CHECK ((url LIKE 'http://%' OR url LIKE 'https://%') AND length(url) <= 2000),
    authors     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(authors) AND json_type(authors) = 'array'),
    publisher   TEXT    NOT NULL DEFAULT '' CHECK (length(publisher) <= 200),
    year        INTEGER CHECK (year IS NULL OR year BETWEEN 1800 AND 2100),
    format      TEXT    NOT NULL CHECK (format IN ('report', 'article', 'book', 'toolkit', 'case study', 'policy brief',
                                                   'video', 'podcast', 'course', 'dataset', 'website', 'other')),
    language    TEXT    NOT NULL DEFAULT 'en' CHECK (length(language) BETWEEN 2 AND 35),
    region      TEXT    NOT NULL DEFAULT '' CHECK (length(region) <= 80),
    topics      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(topics) AND json_type(topics) = 'array'),
    licence     TEXT    NOT NULL DEFAULT '' CHECK (length(licence) <= 100),
    summary     TEXT    NOT NULL DEFAULT '' CHECK (length(summary) <= 5000),
    doi         TEXT    NOT NULL DEFAULT '' CHECK (length(doi) <= 200),
    isbn        TEXT    NOT NULL DEFAULT '' CHECK (length(isbn) <= 20),
    url_key     TEXT    NOT NULL,
    title_key   TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'listed', 'hidden')),
    endorsed_at TIMESTAMP,
    endorsed_by INTEGER REFERENCES proposals (id),
    added_by    INTEGER REFERENCES members (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    listed_at   TIMESTAMP,
    endorsed_digest TEXT CHECK (endorsed_digest IS NULL OR length(endorsed_digest) = 64),
    CHECK ((endorsed_at IS NULL) = (endorsed_by IS NULL)),
    CHECK ((endorsed_at IS NULL) = (endorsed_digest IS NULL))
);

CREATE INDEX resources_status ON resources (status, listed_at);
-- Covers the facet counts, so counting reads the index, not whole rows.
CREATE INDEX resources_facets ON resources (status, format, language, region, year, topics);
CREATE INDEX resources_url_key ON resources (url_key);
CREATE INDEX resources_title_key ON resources (title_key);
CREATE INDEX resources_doi ON resources (doi) WHERE doi <> '';

-- Full-text search over the library, kept in step by the triggers below.
CREATE VIRTUAL TABLE resources_fts USING fts5(
    title, authors, summary, topics,
    content = 'resources', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER resources_fts_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resources_fts (rowid, title, authors, summary, topics)
    VALUES (NEW.id, NEW.title, NEW.authors, NEW.summary, NEW.topics);
END;

CREATE TRIGGER resources_fts_delete AFTER DELETE ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, title, authors, summary, topics)
    VALUES ('delete', OLD.id, OLD.title, OLD.authors, OLD.summary, OLD.topics);
END;

CREATE TRIGGER resources_fts_update AFTER UPDATE OF title, authors, summary, topics ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, title, authors, summary, topics)
    VALUES ('delete', OLD.id, OLD.title, OLD.authors, OLD.summary, OLD.topics);
    INSERT INTO resources_fts (rowid, title, authors, summary, topics)
    VALUES (NEW.id, NEW.title, NEW.authors, NEW.summary, NEW.topics);
END;

-- Policy demands the co-op may endorse. Endorsement and its provenance (the
-- proposal, the date, the tally as JSON, the digest of the endorsed
-- content) are set only by a ballot; once endorsed, a demand changes only
-- through a ballot (the triggers demands_endorsed_* below).
CREATE TABLE demands (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body        TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    audience    TEXT    NOT NULL CHECK (audience IN ('co-op movement', 'local government', 'devolved administrations',
                                                    'national government', 'international', 'funders and investors', 'unions')),
    status      TEXT    NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'endorsed', 'rejected', 'withdrawn')),
    added_by    INTEGER REFERENCES members (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    endorsed_at TIMESTAMP,
    endorsed_by INTEGER REFERENCES proposals (id),
    tally       TEXT CHECK (tally IS NULL OR json_valid(tally)),
    endorsed_digest TEXT CHECK (endorsed_digest IS NULL OR length(endorsed_digest) = 64),
    CHECK ((status = 'endorsed') = (endorsed_at IS NOT NULL AND endorsed_by IS NOT NULL)),
    CHECK ((status = 'endorsed') = (endorsed_digest IS NOT NULL))
);

CREATE INDEX demands_status ON demands (status, audience);

-- The resources that support a demand, in the order they are listed.
CREATE TABLE demand_resources (
    demand_id   INTEGER NOT NULL REFERENCES demands (id) ON DELETE CASCADE,
    resource_id INTEGER NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    PRIMARY KEY (demand_id, resource_id)
) WITHOUT ROWID;

CREATE INDEX demand_resources_resource ON demand_resources (resource_id);

-- The co-op's rules for each kind of proposal. Copied into a proposal when
-- its ballot opens, so a later edit never changes a running vote.
CREATE TABLE rules (
    kind        TEXT    PRIMARY KEY CHECK (kind IN ('endorse_demand', 'endorse_resource', 'withdraw_endorsement', 'adopt_demand', 'motion',
                                                    'amend_demand', 'amend_resource', 'prioritise_demands', 'choose_resources', 'elect',
                                                    'poll')),
    quorum_pct  INTEGER NOT NULL CHECK (quorum_pct BETWEEN 0 AND 100),
    threshold   TEXT    NOT NULL CHECK (threshold IN ('majority', 'two_thirds')),
    min_minutes INTEGER NOT NULL CHECK (min_minutes BETWEEN 1 AND 129600), -- 1 minute to 90 days, the longest vote
    secret      INTEGER NOT NULL CHECK (secret IN (0, 1)),
    -- The counting methods a proposal of the kind may choose, a comma list
    -- of approval, schulze, irv and stv; empty for the yes/no kinds (their
    -- threshold decides instead).
    methods     TEXT    NOT NULL DEFAULT '' CHECK (trim(replace(replace(replace(replace(methods, 'approval', ''), 'schulze', ''),
                                                        'irv', ''), 'stv', ''), ',') = '' AND length(methods) <= 40),
    -- choose_resources endorses the options approved on more than this
    -- share of the ballots cast.
    approval_pct INTEGER NOT NULL DEFAULT 50 CHECK (approval_pct BETWEEN 0 AND 99),
    -- General meetings and absent members (version 9): how many members'
    -- proxies one member may hold in a ballot of the kind (0: no proxies);
    -- whether a ballot closes as soon as everyone on its roll, less those
    -- who stood aside, has voted; and what a meeting ballot's quorum is
    -- counted on: the whole roll, or the members present at the meeting
    -- (and those whose proxy is present).
    proxy_cap    INTEGER NOT NULL DEFAULT 0 CHECK (proxy_cap BETWEEN 0 AND 20),
    early_close  INTEGER NOT NULL DEFAULT 0 CHECK (early_close IN (0, 1)),
    quorum_on    TEXT    NOT NULL DEFAULT 'roll' CHECK (quorum_on IN ('roll', 'present')),
    CHECK ((kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')) = (methods <> ''))
) WITHOUT ROWID;

INSERT INTO rules (kind, quorum_pct, threshold, min_minutes, secret, methods) VALUES
    ('endorse_demand',       25, 'two_thirds', 7 * 24 * 60, 1, ''),
    ('adopt_demand',         25, 'two_thirds', 7 * 24 * 60, 1, ''),
    ('withdraw_endorsement', 25, 'two_thirds', 7 * 24 * 60, 1, ''),
    ('endorse_resource',     10, 'majority',   3 * 24 * 60, 0, ''),
    ('motion',               25, 'majority',   7 * 24 * 60, 1, ''),
    ('amend_demand',         25, 'two_thirds', 7 * 24 * 60, 1, ''),
    ('amend_resource',       10, 'majority',   3 * 24 * 60, 0, ''),
    ('prioritise_demands',   25, 'majority',   7 * 24 * 60, 1, 'schulze,approval'),
    ('choose_resources',     10, 'majority',   3 * 24 * 60, 0, 'approval'),
    ('elect',                25, 'majority',   7 * 24 * 60, 1, 'stv,irv,approval'),
    ('poll',                 10, 'majority',   3 * 24 * 60, 0, 'approval,schulze,irv');

-- Proposals and their ballots. The rules, roll size and roll digest are
-- frozen into the row when voting opens; the tally, outcome and box digest
-- are written once, when it closes.
CREATE TABLE proposals (
    id            INTEGER PRIMARY KEY,
    kind          TEXT      NOT NULL REFERENCES rules (kind),
    title         TEXT      NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body          TEXT      NOT NULL CHECK (length(body) <= 10000),
    demand_id     INTEGER   REFERENCES demands (id),
    resource_id   INTEGER   REFERENCES resources (id),
    new_title     TEXT      CHECK (new_title IS NULL OR length(new_title) BETWEEN 1 AND 200),
    new_body      TEXT      CHECK (new_body IS NULL OR length(new_body) BETWEEN 1 AND 10000),
    new_audience  TEXT,
    author_id     INTEGER   NOT NULL REFERENCES members (id),
    status        TEXT      NOT NULL CHECK (status IN ('discussion', 'voting', 'closed', 'withdrawn', 'cancelled')),
    created_at    TIMESTAMP NOT NULL,
    opens_at      TIMESTAMP NOT NULL,
    closes_at     TIMESTAMP NOT NULL CHECK (closes_at > opens_at),
    cancel_reason TEXT      CHECK (cancel_reason IS NULL OR length(cancel_reason) <= 500),
    -- Frozen when voting opens.
    quorum_pct    INTEGER,
    threshold     TEXT,
    secret        INTEGER,
    roll_size     INTEGER,
    roll_digest   TEXT,
    opened_at     TIMESTAMP,
    -- Written when it closes.
    yes           INTEGER,
    no            INTEGER,
    abstain       INTEGER,
    quorum_met    INTEGER,
    outcome       TEXT CHECK (outcome IS NULL OR outcome IN ('carried', 'defeated', 'inquorate')),
    box_digest    TEXT,
    closed_at     TIMESTAMP,
    -- An amendment's text: {"from": the content when proposed, "to": the
    -- corrected content} (internal/content's JSON).
    amendment     TEXT CHECK (amendment IS NULL OR (json_valid(amendment) AND length(amendment) <= 40000)),
    -- A choice among options (the kinds prioritise_demands, choose_resources,
    -- elect and poll; proposal_options): how it is counted, the seats to
    -- fill (elect), the most options a ballot may approve (approval; NULL:
    -- any number), the office elected to, the approval share that endorses
    -- (choose_resources, frozen with the rules when voting opens); and,
    -- written once at close, the count as JSON (governance's ChoiceResult).
    -- NULL for yes/no kinds.
    method        TEXT    CHECK (method IS NULL OR method IN ('approval', 'schulze', 'irv', 'stv')),
    seats         INTEGER CHECK (seats IS NULL OR seats BETWEEN 1 AND 49),
    max_approvals INTEGER CHECK (max_approvals IS NULL OR max_approvals BETWEEN 1 AND 49),
    office        TEXT    CHECK (office IS NULL OR length(office) BETWEEN 1 AND 200),
    approval_pct  INTEGER CHECK (approval_pct IS NULL OR approval_pct BETWEEN 0 AND 99),
    result        TEXT    CHECK (result IS NULL OR (json_valid(result) AND length(result) <= 1000000)),
    -- Version 9: the proxy cap, early close and what the quorum counts,
    -- frozen with the rules when voting opens; and, written at close, how
    -- many on the roll stood aside (recusals: the quorum is a share of the
    -- roll less them) and, when quorum_on is 'present', the number that
    -- had to reach it: those on the roll present at the meeting or
    -- represented by a present proxy, less those who stood aside (NULL
    -- when the ballots cast reach it).
    proxy_cap     INTEGER CHECK (proxy_cap IS NULL OR proxy_cap BETWEEN 0 AND 20),
    early_close   INTEGER CHECK (early_close IS NULL OR early_close IN (0, 1)),
    quorum_on     TEXT    CHECK (quorum_on IS NULL OR quorum_on IN ('roll', 'present')),
    recused       INTEGER CHECK (recused IS NULL OR recused >= 0),
    quorum_base   INTEGER CHECK (quorum_base IS NULL OR quorum_base >= 0),
    -- What each kind acts on. An adopted demand's id is filled in when the
    -- ballot carries and creates it.
    CHECK (CASE kind
        WHEN 'endorse_demand'       THEN demand_id IS NOT NULL AND resource_id IS NULL
        WHEN 'endorse_resource'     THEN resource_id IS NOT NULL AND demand_id IS NULL
        WHEN 'withdraw_endorsement' THEN (demand_id IS NULL) <> (resource_id IS NULL)
        WHEN 'adopt_demand'         THEN resource_id IS NULL AND new_title IS NOT NULL AND new_body IS NOT NULL AND new_audience IS NOT NULL
        WHEN 'amend_demand'         THEN demand_id IS NOT NULL AND resource_id IS NULL
        WHEN 'amend_resource'       THEN resource_id IS NOT NULL AND demand_id IS NULL
        ELSE demand_id IS NULL AND resource_id IS NULL END),
    CHECK ((kind = 'adopt_demand') = (new_title IS NOT NULL)),
    CHECK ((kind IN ('amend_demand', 'amend_resource')) = (amendment IS NOT NULL)),
    CHECK (status IN ('discussion', 'withdrawn', 'cancelled') OR (roll_size IS NOT NULL AND roll_digest IS NOT NULL AND opened_at IS NOT NULL)),
    CHECK ((status = 'closed') = (outcome IS NOT NULL AND closed_at IS NOT NULL AND box_digest IS NOT NULL)),
    CHECK ((kind IN ('prioritise_demands', 'choose_resources', 'elect', 'poll')) = (method IS NOT NULL)),
    CHECK ((kind = 'elect') = (seats IS NOT NULL AND office IS NOT NULL)),
    CHECK (method <> 'stv' OR seats IS NOT NULL),
    CHECK (method <> 'irv' OR seats IS NULL OR seats = 1),
    CHECK (max_approvals IS NULL OR method = 'approval'),
    CHECK ((method IS NOT NULL AND status = 'closed') = (result IS NOT NULL))
);

CREATE INDEX proposals_status ON proposals (status, closes_at);
CREATE INDEX proposals_due ON proposals (status, opens_at);
-- Version 10: the decisions, newest first, a page at a time (the proposals
-- page, the feed, the API), read in order from the index rather than
-- sorted whole: every closed row and its text on each read, and on the
-- proposals page a check of the viewer's roll for each.
CREATE INDEX proposals_closed ON proposals (status, closed_at, id);

-- The roll: the active members at the instant voting opened, and whether
-- each has voted. One member, one vote: the (proposal, member) key admits
-- one row per member, and `voted` goes from 0 to 1 once, never back. It is
-- set by updating the row in place, so neither the table nor the file's
-- pages record who voted when (an inserted row would sit in arrival order,
-- which could be paired with the ballot box's). No time is kept.
CREATE TABLE roll (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    member_id   INTEGER NOT NULL REFERENCES members (id),
    voted       INTEGER NOT NULL DEFAULT 0 CHECK (voted IN (0, 1)),
    PRIMARY KEY (proposal_id, member_id)
) WITHOUT ROWID;

CREATE TRIGGER roll_vote_once BEFORE UPDATE ON roll
WHEN OLD.voted = 1 OR NEW.proposal_id <> OLD.proposal_id OR NEW.member_id <> OLD.member_id
BEGIN
    SELECT RAISE(ABORT, 'plenary: a vote once cast stays cast');
END;

-- The roll is frozen: rows are added only while the proposal is still in
-- discussion (the instant voting opens), and never removed.
CREATE TRIGGER roll_frozen_insert BEFORE INSERT ON roll
WHEN (SELECT status FROM proposals WHERE id = NEW.proposal_id) <> 'discussion'
BEGIN
    SELECT RAISE(ABORT, 'plenary: the roll is frozen');
END;

CREATE TRIGGER roll_frozen_delete BEFORE DELETE ON roll
BEGIN
    SELECT RAISE(ABORT, 'plenary: the roll is frozen');
END;

-- Open ballots: the choice beside the member, changeable until close and
-- published as the roll-call after it.
CREATE TABLE votes (
    proposal_id INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    choice      TEXT    NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    PRIMARY KEY (proposal_id, member_id),
    FOREIGN KEY (proposal_id, member_id) REFERENCES roll (proposal_id, member_id)
) WITHOUT ROWID;

-- Secret ballots: a box of choices with no member, no time and (WITHOUT
-- ROWID) no insertion order. Only the SHA-256 of each voter's receipt is
-- kept, and it is the key: random, so the rows lie in no order that says
-- who voted when, and a ballot's rows lie together for its rebuild at close.
CREATE TABLE ballot_box (
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id),
    receipt_hash TEXT    NOT NULL,
    choice       TEXT    NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    PRIMARY KEY (proposal_id, receipt_hash)
) WITHOUT ROWID;

-- The options of a choice (proposals whose method is set), numbered from 0
-- in the order the ballot lists them: an existing demand, an existing
-- resource, a candidate (a member by number, or a person named, with a
-- statement), or a short text. label is what the ballot shows: the item's
-- title or the person's name as it was when proposed. No option twice.
-- Like the roll, they are frozen once voting opens.
CREATE TABLE proposal_options (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 49),
    kind        TEXT    NOT NULL CHECK (kind IN ('demand', 'resource', 'candidate', 'text')),
    demand_id   INTEGER REFERENCES demands (id),
    resource_id INTEGER REFERENCES resources (id),
    member_id   INTEGER REFERENCES members (id),
    label       TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
    statement   TEXT    NOT NULL DEFAULT '' CHECK (length(statement) <= 2000),
    PRIMARY KEY (proposal_id, position),
    UNIQUE (proposal_id, demand_id),
    UNIQUE (proposal_id, resource_id),
    UNIQUE (proposal_id, member_id),
    CHECK (CASE kind
        WHEN 'demand'    THEN demand_id IS NOT NULL AND resource_id IS NULL AND member_id IS NULL AND statement = ''
        WHEN 'resource'  THEN resource_id IS NOT NULL AND demand_id IS NULL AND member_id IS NULL AND statement = ''
        WHEN 'candidate' THEN demand_id IS NULL AND resource_id IS NULL
        ELSE demand_id IS NULL AND resource_id IS NULL AND member_id IS NULL AND statement = '' AND length(label) <= 200 END)
) WITHOUT ROWID;

-- Two texts, or two people named without a member number, alike are one option.
CREATE UNIQUE INDEX proposal_options_label ON proposal_options (proposal_id, label) WHERE demand_id IS NULL AND resource_id IS NULL AND member_id IS NULL;
-- The choices a demand or resource is an option of (it is frozen under them).
CREATE INDEX proposal_options_demand ON proposal_options (demand_id) WHERE demand_id IS NOT NULL;
CREATE INDEX proposal_options_resource ON proposal_options (resource_id) WHERE resource_id IS NOT NULL;

CREATE TRIGGER proposal_options_frozen_insert BEFORE INSERT ON proposal_options
WHEN (SELECT status FROM proposals WHERE id = NEW.proposal_id) <> 'discussion'
BEGIN
    SELECT RAISE(ABORT, 'plenary: the options are frozen');
END;

CREATE TRIGGER proposal_options_frozen_update BEFORE UPDATE ON proposal_options
BEGIN
    SELECT RAISE(ABORT, 'plenary: the options are frozen');
END;

CREATE TRIGGER proposal_options_frozen_delete BEFORE DELETE ON proposal_options
BEGIN
    SELECT RAISE(ABORT, 'plenary: the options are frozen');
END;

-- The ballots of a choice, as votes and ballot_box hold yes/no: open ones
-- beside the member (changeable until close, published as the roll-call),
-- secret ones in a box with no member, no time and no insertion order,
-- under the hash of the voter's receipt, rewritten in key order at close.
-- One member, one ballot: the roll's voted flag (roll_vote_once). A ballot
-- is canonical JSON: a ranking, positions most preferred first ([3,0,2],
-- possibly partial), or an approval set, positions in ascending order
-- ([0,2]); [] is a blank ballot, which counts for the quorum only.
CREATE TABLE choice_votes (
    proposal_id INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    ballot      TEXT    NOT NULL CHECK (json_valid(ballot) AND json_type(ballot) = 'array' AND length(ballot) <= 200),
    PRIMARY KEY (proposal_id, member_id),
    FOREIGN KEY (proposal_id, member_id) REFERENCES roll (proposal_id, member_id)
) WITHOUT ROWID;

CREATE TABLE choice_box (
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id),
    receipt_hash TEXT    NOT NULL,
    ballot       TEXT    NOT NULL CHECK (json_valid(ballot) AND json_type(ballot) = 'array' AND length(ballot) <= 200),
    PRIMARY KEY (proposal_id, receipt_hash)
) WITHOUT ROWID;

-- The effects of a choice, written by the ballot's close and never changed.
-- demand_priorities: a prioritise_demands ballot's order, first at
-- position 0; the latest such ballot carried is the co-op's priority list.
-- officers: who an elect ballot elected to which office, seat by seat in
-- the order elected.
CREATE TABLE demand_priorities (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 49),
    demand_id   INTEGER NOT NULL REFERENCES demands (id),
    PRIMARY KEY (proposal_id, position),
    UNIQUE (proposal_id, demand_id)
) WITHOUT ROWID;

CREATE TABLE officers (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    seat        INTEGER NOT NULL CHECK (seat BETWEEN 1 AND 49),
    position    INTEGER NOT NULL,
    member_id   INTEGER REFERENCES members (id),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    office      TEXT    NOT NULL CHECK (length(office) BETWEEN 1 AND 200),
    PRIMARY KEY (proposal_id, seat),
    UNIQUE (proposal_id, position),
    FOREIGN KEY (proposal_id, position) REFERENCES proposal_options (proposal_id, position)
) WITHOUT ROWID;

CREATE TRIGGER demand_priorities_by_ballot BEFORE INSERT ON demand_priorities
WHEN NOT EXISTS (SELECT 1 FROM proposals WHERE id = NEW.proposal_id AND kind = 'prioritise_demands' AND status = 'closed'
                 AND outcome = 'carried')
BEGIN
    SELECT RAISE(ABORT, 'plenary: only a carried ballot applies');
END;

CREATE TRIGGER demand_priorities_kept BEFORE UPDATE ON demand_priorities
BEGIN
    SELECT RAISE(ABORT, 'plenary: decided by ballot');
END;

CREATE TRIGGER demand_priorities_no_delete BEFORE DELETE ON demand_priorities
BEGIN
    SELECT RAISE(ABORT, 'plenary: decided by ballot');
END;

CREATE TRIGGER officers_by_ballot BEFORE INSERT ON officers
WHEN NOT EXISTS (SELECT 1 FROM proposals WHERE id = NEW.proposal_id AND kind = 'elect' AND status = 'closed' AND outcome = 'carried')
BEGIN
    SELECT RAISE(ABORT, 'plenary: only a carried ballot applies');
END;

CREATE TRIGGER officers_kept BEFORE UPDATE ON officers
BEGIN
    SELECT RAISE(ABORT, 'plenary: decided by ballot');
END;

CREATE TRIGGER officers_no_delete BEFORE DELETE ON officers
BEGIN
    SELECT RAISE(ABORT, 'plenary: decided by ballot');
END;

-- General meetings (version 9). A meeting has a chair (an admin), a time,
-- a place or an online link, and an agenda of proposals whose ballots the
-- chair opens live (meeting_items; Advance does not open them by time).
-- Members check in with the short code shown in the room, or the chair
-- marks them present (attendance); the register is frozen when the chair
-- opens the first vote, and nobody is added after.
CREATE TABLE meetings (
    id                 INTEGER PRIMARY KEY,
    title              TEXT      NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    starts_at          TIMESTAMP NOT NULL,
    place              TEXT      NOT NULL DEFAULT '' CHECK (length(place) <= 300),
    link               TEXT      NOT NULL DEFAULT '' CHECK (length(link) <= 500),
    chair_id           INTEGER   NOT NULL REFERENCES members (id),
    checkin_code       TEXT      NOT NULL CHECK (length(checkin_code) = 6),
    created_at         TIMESTAMP NOT NULL,
    register_frozen_at TIMESTAMP,
    closed_at          TIMESTAMP,
    CHECK (place <> '' OR link <> ''),
    CHECK (closed_at IS NULL OR register_frozen_at IS NOT NULL)
);

-- A frozen register stays frozen, and a closed meeting closed.
CREATE TRIGGER meetings_frozen BEFORE UPDATE ON meetings
WHEN (OLD.register_frozen_at IS NOT NULL AND NEW.register_frozen_at IS NOT OLD.register_frozen_at)
  OR (OLD.closed_at IS NOT NULL AND NEW.closed_at IS NOT OLD.closed_at)
BEGIN
    SELECT RAISE(ABORT, 'plenary: the attendance register is frozen');
END;

CREATE TABLE meeting_items (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    position    INTEGER NOT NULL CHECK (position BETWEEN 1 AND 100),
    proposal_id INTEGER NOT NULL UNIQUE REFERENCES proposals (id),
    PRIMARY KEY (meeting_id, position)
) WITHOUT ROWID;

CREATE TABLE attendance (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id),
    member_id  INTEGER NOT NULL REFERENCES members (id),
    how        TEXT    NOT NULL CHECK (how IN ('code', 'chair')),
    PRIMARY KEY (meeting_id, member_id)
) WITHOUT ROWID;

CREATE TRIGGER attendance_frozen BEFORE INSERT ON attendance
WHEN (SELECT register_frozen_at FROM meetings WHERE id = NEW.meeting_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'plenary: the attendance register is frozen');
END;

CREATE TRIGGER attendance_kept_update BEFORE UPDATE ON attendance
BEGIN
    SELECT RAISE(ABORT, 'plenary: the attendance register is kept');
END;

CREATE TRIGGER attendance_kept_delete BEFORE DELETE ON attendance
BEGIN
    SELECT RAISE(ABORT, 'plenary: the attendance register is kept');
END;

-- Proxies (version 9). A member (the principal) appoints another as their
-- proxy for one ballot (proposal_id) or for every ballot until revoked
-- (proposal_id NULL). One live appointment per principal and scope. A
-- holder holds no more live appointments than the rules allow: for one
-- ballot, its kind's proxy_cap, counting their standing appointments too;
-- for every ballot, the largest cap of any kind. Writers queue one at a
-- time (SQLite's lock; PostgreSQL's writers' advisory lock), so two
-- appointments racing past the cap cannot both pass this trigger. (A
-- standing appointment counts the holder's standing ones only; when a
-- ballot opens its roll takes no more than its kind's cap per holder,
-- the earliest appointed first: governance's freezeProxies.)
CREATE TABLE proxies (
    id           INTEGER PRIMARY KEY,
    principal_id INTEGER   NOT NULL REFERENCES members (id),
    holder_id    INTEGER   NOT NULL REFERENCES members (id),
    proposal_id  INTEGER   REFERENCES proposals (id),
    appointed_at TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    CHECK (principal_id <> holder_id),
    CHECK (revoked_at IS NULL OR revoked_at >= appointed_at)
);

CREATE UNIQUE INDEX proxies_live ON proxies (principal_id, coalesce(proposal_id, 0)) WHERE revoked_at IS NULL;
CREATE INDEX proxies_holder ON proxies (holder_id) WHERE revoked_at IS NULL;

CREATE TRIGGER proxies_cap BEFORE INSERT ON proxies
WHEN (SELECT count(*) FROM proxies WHERE holder_id = NEW.holder_id AND revoked_at IS NULL
      AND (proposal_id IS NULL OR proposal_id = NEW.proposal_id))
  >= coalesce(CASE WHEN NEW.proposal_id IS NULL THEN (SELECT max(proxy_cap) FROM rules)
              ELSE (SELECT r.proxy_cap FROM rules r JOIN proposals p ON p.kind = r.kind WHERE p.id = NEW.proposal_id) END, 0)
BEGIN
    SELECT RAISE(ABORT, 'plenary: the proxy holder holds as many proxies as the rules allow');
END;

CREATE TRIGGER proxies_kept BEFORE UPDATE ON proxies
WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR NEW.principal_id <> OLD.principal_id OR NEW.holder_id <> OLD.holder_id
  OR NEW.proposal_id IS NOT OLD.proposal_id OR NEW.appointed_at <> OLD.appointed_at
BEGIN
    SELECT RAISE(ABORT, 'plenary: a proxy is only ever revoked');
END;

CREATE TRIGGER proxies_no_delete BEFORE DELETE ON proxies
BEGIN
    SELECT RAISE(ABORT, 'plenary: a proxy is only ever revoked');
END;

-- Who held whose proxy in a ballot, frozen with the roll when voting
-- opened: both on the roll, at most the cap per holder. Rows go in only
-- at that instant, all together, and are never changed.
CREATE TABLE roll_proxies (
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id),
    principal_id INTEGER NOT NULL REFERENCES members (id),
    holder_id    INTEGER NOT NULL REFERENCES members (id),
    PRIMARY KEY (proposal_id, principal_id)
) WITHOUT ROWID;

CREATE INDEX roll_proxies_holder ON roll_proxies (proposal_id, holder_id);

CREATE TRIGGER roll_proxies_frozen_insert BEFORE INSERT ON roll_proxies
WHEN (SELECT status FROM proposals WHERE id = NEW.proposal_id) <> 'discussion'
BEGIN
    SELECT RAISE(ABORT, 'plenary: the roll is frozen');
END;

CREATE TRIGGER roll_proxies_frozen_update BEFORE UPDATE ON roll_proxies
BEGIN
    SELECT RAISE(ABORT, 'plenary: the roll is frozen');
END;

CREATE TRIGGER roll_proxies_frozen_delete BEFORE DELETE ON roll_proxies
BEGIN
    SELECT RAISE(ABORT, 'plenary: the roll is frozen');
END;

-- The ballots a holder cast for a principal, while the ballot is open:
-- the principal voting in person replaces it. In a secret ballot
-- receipt_hash names the box row the holder's ballot lies in, so that it
-- can be taken out; the close clears it, after which
-- nothing links a principal to a box row. Until then the database links
-- them, as the holder knows: a proxy's ballot is as secret as the proxy.
CREATE TABLE proxy_votes (
    proposal_id  INTEGER NOT NULL REFERENCES proposals (id),
    principal_id INTEGER NOT NULL REFERENCES members (id),
    holder_id    INTEGER NOT NULL REFERENCES members (id),
    receipt_hash TEXT,
    PRIMARY KEY (proposal_id, principal_id)
) WITHOUT ROWID;

-- A member on the roll who declares a conflict of interest stands aside:
-- before they vote, while the ballot is open, with a reason that is
-- published. They are left out of turnout, quorum and threshold, and the
-- roll then refuses their vote (roll_recused).
CREATE TABLE recusals (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    member_id   INTEGER NOT NULL REFERENCES members (id),
    reason      TEXT    NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    PRIMARY KEY (proposal_id, member_id)
) WITHOUT ROWID;

CREATE TRIGGER recusals_before_voting BEFORE INSERT ON recusals
WHEN (SELECT status FROM proposals WHERE id = NEW.proposal_id) IS NOT 'voting'
  OR NOT EXISTS (SELECT 1 FROM roll WHERE proposal_id = NEW.proposal_id AND member_id = NEW.member_id AND voted = 0)
BEGIN
    SELECT RAISE(ABORT, 'plenary: only a member on the roll who has not voted stands aside');
END;

CREATE TRIGGER recusals_kept_update BEFORE UPDATE ON recusals
BEGIN
    SELECT RAISE(ABORT, 'plenary: a recusal stands');
END;

CREATE TRIGGER recusals_kept_delete BEFORE DELETE ON recusals
BEGIN
    SELECT RAISE(ABORT, 'plenary: a recusal stands');
END;

CREATE TRIGGER roll_recused BEFORE UPDATE ON roll
WHEN NEW.voted = 1 AND EXISTS (SELECT 1 FROM recusals WHERE proposal_id = NEW.proposal_id AND member_id = NEW.member_id)
BEGIN
    SELECT RAISE(ABORT, 'plenary: a member who stood aside does not vote');
END;

-- Secret ballots closed whose box (and, on PostgreSQL, roll) still lie in
-- the order the votes were cast: the close records the ballot here, in its
-- transaction, and the rewrite in key order that follows it in a
-- transaction of its own (governance/scrub.go) takes it off. A crash
-- between the two leaves the row for the next run to finish.
CREATE TABLE box_rewrites (
    proposal_id INTEGER PRIMARY KEY REFERENCES proposals (id)
);

-- Members' comments on a proposal, until it closes.
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER   NOT NULL REFERENCES proposals (id),
    member_id   INTEGER   NOT NULL REFERENCES members (id),
    body        TEXT      NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at  TIMESTAMP NOT NULL
);

CREATE INDEX comments_proposal ON comments (proposal_id, id);

-- The outbox: what members must be told, committed in the same transaction
-- as the event that calls for it (a ballot opened or closed, an
-- application made or decided, a reset link mailed, an invitation made),
-- and delivered by the sender inside `plenary serve` (internal/notify).
-- A row is for a member, or for a bare address (an invitation, before the
-- person is a member). (kind, event, member_id) admits an event's message
-- to a member once, and message_id, made from the same three, is the
-- Message-ID every attempt carries, so a message sent again after a crash
-- is recognisable. payload is what the message says beyond the member's
-- own name and address: a reset or invitation link stays in it only
-- until the message is sent.
--
-- status: queued (the sender tries it at next_attempt_at), digest (held
-- for the member's daily digest; digest_id is set once a digest takes it),
-- sent, failed (refused for good, or given up on: last_error says why) or
-- dropped (the member chose never after it was queued, or has no address).
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    kind            TEXT      NOT NULL CHECK (kind IN ('voting_opened', 'closing_soon', 'result', 'application', 'application_decided',
                                                       'password_reset', 'invitation', 'digest')),
    event           TEXT      NOT NULL CHECK (length(event) BETWEEN 1 AND 100),
    member_id       INTEGER   REFERENCES members (id),
    address         TEXT      CHECK (address IS NULL OR length(address) BETWEEN 3 AND 254),
    payload         TEXT      NOT NULL DEFAULT '{}' CHECK (json_valid(payload) AND length(payload) <= 20000),
    status          TEXT      NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'digest', 'sent', 'failed', 'dropped')),
    attempts        INTEGER   NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT      NOT NULL DEFAULT '' CHECK (length(last_error) <= 1000),
    message_id      TEXT      NOT NULL UNIQUE CHECK (length(message_id) <= 300),
    digest_id       INTEGER   REFERENCES notifications (id),
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP,
    UNIQUE (kind, event, member_id),
    CHECK ((member_id IS NULL) <> (address IS NULL)),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CHECK (digest_id IS NULL OR status IN ('digest', 'sent', 'failed', 'dropped'))
);

-- What the sender asks for next: the queued rows that are due, oldest first.
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'queued';
-- The rows waiting for a member's digest.
CREATE INDEX notifications_digest ON notifications (member_id) WHERE status = 'digest' AND digest_id IS NULL;
CREATE INDEX notifications_in_digest ON notifications (digest_id) WHERE digest_id IS NOT NULL;

-- How a member wants each kind of message: at once (the default, when
-- there is no row), in a daily digest sent at digest_hour (their local
-- time), or never. Messages about their own account (a reset link, an
-- invitation, the decision on their application) are always sent.
CREATE TABLE notification_prefs (
    member_id   INTEGER NOT NULL REFERENCES members (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('voting_opened', 'closing_soon', 'result', 'application')),
    mode        TEXT    NOT NULL CHECK (mode IN ('at_once', 'digest', 'never')),
    digest_hour INTEGER NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23),
    PRIMARY KEY (member_id, kind)
) WITHOUT ROWID;

-- How long before a ballot of each kind closes the members on its roll
-- who have not voted are reminded (0: never). Read when the reminder falls
-- due, not frozen into the ballot: it decides no outcome. A kind without
-- a row is reminded 24 hours before.
CREATE TABLE reminder_rules (
    kind  TEXT    PRIMARY KEY REFERENCES rules (kind),
    hours INTEGER NOT NULL CHECK (hours BETWEEN 0 AND 720)
) WITHOUT ROWID;

INSERT INTO reminder_rules (kind, hours) SELECT kind, 24 FROM rules;

-- The ballots whose closing-soon reminder has been queued: once each.
CREATE TABLE reminders (
    proposal_id INTEGER PRIMARY KEY REFERENCES proposals (id)
);

-- What members vote on must not change under them: while a proposal about a
-- demand or resource, or a choice with it among its options, is in
-- discussion or voting, its text is frozen.
CREATE TRIGGER demands_frozen_under_ballot BEFORE UPDATE OF title, body, audience ON demands
WHEN EXISTS (SELECT 1 FROM proposals WHERE demand_id = OLD.id AND status IN ('discussion', 'voting'))
  OR EXISTS (SELECT 1 FROM proposal_options o JOIN proposals p ON p.id = o.proposal_id
             WHERE o.demand_id = OLD.id AND p.status IN ('discussion', 'voting'))
BEGIN
    SELECT RAISE(ABORT, 'plenary: under ballot');
END;

CREATE TRIGGER demand_resources_frozen_under_ballot BEFORE DELETE ON demand_resources
WHEN EXISTS (SELECT 1 FROM proposals WHERE demand_id = OLD.demand_id AND status IN ('discussion', 'voting'))
  OR EXISTS (SELECT 1 FROM proposal_options o JOIN proposals p ON p.id = o.proposal_id
             WHERE o.demand_id = OLD.demand_id AND p.status IN ('discussion', 'voting'))
BEGIN
    SELECT RAISE(ABORT, 'plenary: under ballot');
END;

CREATE TRIGGER resources_frozen_under_ballot BEFORE UPDATE OF title, url, authors, summary, status ON resources
WHEN EXISTS (SELECT 1 FROM proposals WHERE resource_id = OLD.id AND status IN ('discussion', 'voting'))
  OR EXISTS (SELECT 1 FROM proposal_options o JOIN proposals p ON p.id = o.proposal_id
             WHERE o.resource_id = OLD.id AND p.status IN ('discussion', 'voting'))
BEGIN
    SELECT RAISE(ABORT, 'plenary: under ballot');
END;

-- What a ballot decided stays decided. An endorsed resource or demand
-- changes only while a carried ballot applies its effect (a withdrawal or an
-- amendment about that very item): the closing transaction puts the
-- proposal in `applying`, changes the item and empties `applying` again
-- before it commits, so outside that transaction the table is empty and
-- every other change to endorsed content or status is refused.
CREATE TABLE applying (
    proposal_id INTEGER PRIMARY KEY REFERENCES proposals (id)
);

CREATE TRIGGER applying_only_carried BEFORE INSERT ON applying
WHEN NOT EXISTS (SELECT 1 FROM proposals WHERE id = NEW.proposal_id AND status = 'closed' AND outcome = 'carried'
                 AND kind IN ('withdraw_endorsement', 'amend_demand', 'amend_resource'))
BEGIN
    SELECT RAISE(ABORT, 'plenary: only a carried ballot applies');
END;

CREATE TRIGGER resources_endorsed_frozen BEFORE UPDATE OF title, url, authors, publisher, year, format, language, region,
    topics, licence, summary, doi, isbn, url_key, title_key, status, endorsed_at, endorsed_by, endorsed_digest ON resources
WHEN OLD.endorsed_at IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id WHERE proposals.resource_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'plenary: endorsed by ballot');
END;

CREATE TRIGGER resources_endorsed_no_delete BEFORE DELETE ON resources
WHEN OLD.endorsed_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'plenary: endorsed by ballot');
END;

CREATE TRIGGER demands_endorsed_frozen BEFORE UPDATE OF title, body, audience, status, endorsed_at, endorsed_by, tally,
    endorsed_digest ON demands
WHEN OLD.status = 'endorsed'
 AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id WHERE proposals.demand_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'plenary: endorsed by ballot');
END;

CREATE TRIGGER demands_endorsed_no_delete BEFORE DELETE ON demands
WHEN OLD.status = 'endorsed'
BEGIN
    SELECT RAISE(ABORT, 'plenary: endorsed by ballot');
END;

CREATE TRIGGER demand_resources_endorsed_insert BEFORE INSERT ON demand_resources
WHEN (SELECT status FROM demands WHERE id = NEW.demand_id) = 'endorsed'
 AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id WHERE proposals.demand_id = NEW.demand_id)
BEGIN
    SELECT RAISE(ABORT, 'plenary: endorsed by ballot');
END;

CREATE TRIGGER demand_resources_endorsed_delete BEFORE DELETE ON demand_resources
WHEN (SELECT status FROM demands WHERE id = OLD.demand_id) = 'endorsed'
 AND NOT EXISTS (SELECT 1 FROM applying JOIN proposals ON proposals.id = applying.proposal_id WHERE proposals.demand_id = OLD.demand_id)
BEGIN
    SELECT RAISE(ABORT, 'plenary: endorsed by ballot');
END;

-- The digests recorded for endorsed content, found by item: a resource or
-- demand page says whether what it shows matches the ledger.
CREATE INDEX ledger_digests ON ledger (json_extract(body, '$.resource'), json_extract(body, '$.demand'), seq)
    WHERE json_extract(body, '$.digest') IS NOT NULL;
