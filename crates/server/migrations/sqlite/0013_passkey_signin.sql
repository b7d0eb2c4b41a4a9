-- Issue 12, the スマートフォン way of the daily sign-in.
--
-- On the device itself: a discoverable WebAuthn assertion. Its challenge waits here for the
-- browser (page session) that asked for it, one at a time, and is deleted by the finish that
-- answers it, right or wrong.
CREATE TABLE signin_assertions (
    session_hash BLOB    PRIMARY KEY,
    state        TEXT    NOT NULL,                  -- serialised DiscoverableAuthentication (JSON)
    expires_ms   INTEGER NOT NULL
);

-- From a PC: the PC shows a sign-in code (2D code) whose token only the phone that opens it
-- holds. state: 'valid' → 'in_use' (a phone opened it) → 'proved' (its passkey passed; hpki_id,
-- phone_id and backed_up set; the phone shows a confirmation code), or 'expired' / 'cancelled'.
-- completed_ms: the PC entered the right confirmation code and its browser was signed in (once).
CREATE TABLE signin_codes (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash         BLOB    NOT NULL UNIQUE,
    pc_session_hash    BLOB    NOT NULL,
    state              TEXT    NOT NULL
        CHECK (state IN ('valid', 'in_use', 'proved', 'expired', 'cancelled')),
    phone_session_hash BLOB,
    hpki_id            TEXT    REFERENCES identities (hpki_id),
    phone_id           INTEGER REFERENCES phone_credentials (id),
    backed_up          INTEGER CHECK (backed_up IN (0, 1)),
    created_ms         INTEGER NOT NULL,
    expires_ms         INTEGER NOT NULL,
    opened_ms          INTEGER,
    ended_ms           INTEGER,
    completed_ms       INTEGER
);
CREATE UNIQUE INDEX signin_codes_one_live_per_session ON signin_codes (pc_session_hash)
    WHERE state IN ('valid', 'in_use');

-- The phone's waiting assertion of a sign-in code, deleted in the transaction that uses it.
CREATE TABLE signin_code_assertions (
    code_id    INTEGER PRIMARY KEY REFERENCES signin_codes (id),
    state      TEXT    NOT NULL,                    -- serialised DiscoverableAuthentication (JSON)
    expires_ms INTEGER NOT NULL
);

-- The confirmation machinery gains the purpose 'signin' (subject: signin_codes.id). SQLite
-- cannot alter a CHECK: the table is rebuilt with its rows and indexes.
CREATE TABLE phone_confirmations_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose            TEXT    NOT NULL CHECK (purpose IN ('enrolment', 'change', 'signin')),
    subject_id         INTEGER NOT NULL,
    pc_session_hash    BLOB    NOT NULL,
    phone_session_hash BLOB    NOT NULL,
    code_hash          BLOB    NOT NULL,
    tries_left         INTEGER NOT NULL CHECK (tries_left >= 0),
    state              TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'failed')),
    created_ms         INTEGER NOT NULL,
    expires_ms         INTEGER NOT NULL,
    ended_ms           INTEGER
);
INSERT INTO phone_confirmations_new (id, purpose, subject_id, pc_session_hash,
    phone_session_hash, code_hash, tries_left, state, created_ms, expires_ms, ended_ms)
SELECT id, purpose, subject_id, pc_session_hash, phone_session_hash, code_hash, tries_left,
    state, created_ms, expires_ms, ended_ms FROM phone_confirmations;
DROP TABLE phone_confirmations;
ALTER TABLE phone_confirmations_new RENAME TO phone_confirmations;
CREATE UNIQUE INDEX phone_confirmations_one_per_subject
    ON phone_confirmations (purpose, subject_id);
CREATE INDEX phone_confirmations_pc ON phone_confirmations (pc_session_hash);
CREATE INDEX phone_confirmations_phone ON phone_confirmations (phone_session_hash);
