-- Issue 11 item 3: the phone that opened a PC's code proves it is the one in the holder's hand.
-- It shows a short code that the holder types on the PC; only then may it go on. The code
-- shown on both screens before proved nothing, so it goes.
ALTER TABLE enrolments DROP COLUMN code;
ALTER TABLE phone_proofs DROP COLUMN code;
-- The PC session that issued the enrolment: the only one that may enter its confirmation code.
-- NULL for a CA's link (no PC, no confirmation).
ALTER TABLE enrolments ADD COLUMN pc_session_hash BYTEA;

-- One confirmation per opened code. purpose 'enrolment' names enrolments.id, 'change' names
-- phone_proofs.id. Only the SHA-256 of the code is kept; state: 'pending' → 'confirmed', or
-- 'failed' once tries_left reached 0 (the phone can then never finish).
CREATE TABLE phone_confirmations (
    id                 BIGSERIAL PRIMARY KEY,
    purpose            TEXT    NOT NULL CHECK (purpose IN ('enrolment', 'change')),
    subject_id         BIGINT NOT NULL,
    pc_session_hash    BYTEA    NOT NULL,
    phone_session_hash BYTEA    NOT NULL,
    code_hash          BYTEA    NOT NULL,
    tries_left         BIGINT NOT NULL CHECK (tries_left >= 0),
    state              TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'failed')),
    created_ms         BIGINT NOT NULL,
    expires_ms         BIGINT NOT NULL,
    ended_ms           BIGINT
);
CREATE UNIQUE INDEX phone_confirmations_one_per_subject
    ON phone_confirmations (purpose, subject_id);
CREATE INDEX phone_confirmations_pc ON phone_confirmations (pc_session_hash);
CREATE INDEX phone_confirmations_phone ON phone_confirmations (phone_session_hash);
