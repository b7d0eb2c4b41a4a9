-- The JMA path (医籍登録番号 + カードID), hardened (issue 11).

-- The カードID is kept only as HMAC-SHA-256 under the server secret (a file outside the database).
-- Rows written before this migration are hashed by the server at its next start, which then
-- empties hpki_card_id (the column stays, always '', as in SQLite, which cannot relax NOT NULL).
ALTER TABLE identities ADD COLUMN hpki_card_mac BYTEA;
CREATE INDEX identities_registration_number ON identities (registration_number);

-- An HMAC of a constant under the server secret: a process started with another secret file
-- refuses to run instead of failing every JMA login.
CREATE TABLE server_secret_check (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    mac BYTEA NOT NULL
);

-- JMA attempts per 医籍登録番号, keyed by its HMAC, so numbers nobody holds count and back off
-- exactly like real ones. Each attempt is counted before its numbers are compared; the fifth of a
-- batch starts a back-off (15 minutes, doubling with each further batch); a success deletes the
-- row. Replaces the permanent per-holder lock of jma_attempts (its locks lift).
CREATE TABLE jma_throttle (
    number_key       BYTEA   PRIMARY KEY,
    tries            BIGINT  NOT NULL,   -- attempts in the current batch, 1 to 5
    blocked_until_ms BIGINT  NOT NULL,   -- no attempt is counted before this
    next_backoff_ms  BIGINT  NOT NULL,   -- the back-off the next full batch starts
    last_ms          BIGINT  NOT NULL    -- the last attempt counted; a quiet day forgets the row
);
DROP TABLE jma_attempts;

-- An enrolment issued on the JMA path may bind a first phone only: finishing it is refused if a
-- phone got bound meanwhile (unless the CA's jma_replace allows replacing).
ALTER TABLE enrolments ADD COLUMN first_phone_only BIGINT NOT NULL DEFAULT 0
    CHECK (first_phone_only IN (0, 1));
