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
-- shown once, to the admin who made it.
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
    CHECK ((used_at IS NULL) = (used_by IS NULL)),
    CHECK (used_at IS NULL OR revoked_at IS NULL)
);

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
-- forms for spotting duplicates. Endorsement is set only by a ballot.
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
    endorsed_by INTEGER, -- the proposal that endorsed it
    added_by    INTEGER REFERENCES members (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    listed_at   TIMESTAMP,
    CHECK ((endorsed_at IS NULL) = (endorsed_by IS NULL))
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
-- proposal, the date, the tally as JSON) are set only by a ballot.
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
    endorsed_by INTEGER, -- the proposal that endorsed it
    tally       TEXT CHECK (tally IS NULL OR json_valid(tally)),
    CHECK ((status = 'endorsed') = (endorsed_at IS NOT NULL AND endorsed_by IS NOT NULL))
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
