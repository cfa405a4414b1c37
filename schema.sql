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
