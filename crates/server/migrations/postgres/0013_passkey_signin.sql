-- Issue 12, the スマートフォン way of the daily sign-in.
--
-- On the device itself: a discoverable WebAuthn assertion. Its challenge waits here for the
-- browser (page session) that asked for it, one at a time, and is deleted by the finish that
-- answers it, right or wrong.
CREATE TABLE signin_assertions (
    session_hash BYTEA  PRIMARY KEY,
    state        TEXT   NOT NULL,                   -- serialised DiscoverableAuthentication (JSON)
    expires_ms   BIGINT NOT NULL
);

-- From a PC: the PC shows a sign-in code (2D code) whose token only the phone that opens it
-- holds. state: 'valid' → 'in_use' (a phone opened it) → 'proved' (its passkey passed; hpki_id,
-- phone_id and backed_up set; the phone shows a confirmation code), or 'expired' / 'cancelled'.
-- completed_ms: the PC entered the right confirmation code and its browser was signed in (once).
CREATE TABLE signin_codes (
    id                 BIGSERIAL PRIMARY KEY,
    token_hash         BYTEA  NOT NULL UNIQUE,
    pc_session_hash    BYTEA  NOT NULL,
    state              TEXT   NOT NULL
        CHECK (state IN ('valid', 'in_use', 'proved', 'expired', 'cancelled')),
    phone_session_hash BYTEA,
    hpki_id            TEXT   REFERENCES identities (hpki_id),
    phone_id           BIGINT REFERENCES phone_credentials (id),
    backed_up          BIGINT CHECK (backed_up IN (0, 1)),
    created_ms         BIGINT NOT NULL,
    expires_ms         BIGINT NOT NULL,
    opened_ms          BIGINT,
    ended_ms           BIGINT,
    completed_ms       BIGINT
);
CREATE UNIQUE INDEX signin_codes_one_live_per_session ON signin_codes (pc_session_hash)
    WHERE state IN ('valid', 'in_use');

-- The phone's waiting assertion of a sign-in code, deleted in the transaction that uses it.
CREATE TABLE signin_code_assertions (
    code_id    BIGINT PRIMARY KEY REFERENCES signin_codes (id),
    state      TEXT   NOT NULL,                     -- serialised DiscoverableAuthentication (JSON)
    expires_ms BIGINT NOT NULL
);

-- The confirmation machinery gains the purpose 'signin' (subject: signin_codes.id).
ALTER TABLE phone_confirmations DROP CONSTRAINT phone_confirmations_purpose_check;
ALTER TABLE phone_confirmations ADD CONSTRAINT phone_confirmations_purpose_check
    CHECK (purpose IN ('enrolment', 'change', 'signin'));
