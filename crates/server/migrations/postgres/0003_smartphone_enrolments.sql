-- 別紙2: smartphone (WebAuthn) enrolments and the phones they bind.

-- One row per enrolment code the PC showed. Only the SHA-256 of the token is stored: a database
-- leak yields no usable link. state: 'valid' (issued) → 'in_use' (a phone opened it and owns it)
-- → 'consumed' (credential committed); or 'expired' / 'cancelled'.
CREATE TABLE enrolments (
    id                 BIGSERIAL PRIMARY KEY,
    token_hash         BYTEA  NOT NULL UNIQUE,
    hpki_id            TEXT   NOT NULL REFERENCES identities (hpki_id),
    code               TEXT   NOT NULL,             -- verification code shown on both screens
    kind               TEXT   NOT NULL CHECK (kind IN ('pc', 'link')), -- shown on a PC, or a CA's link
    replace_phone      BIGINT NOT NULL CHECK (replace_phone IN (0, 1)),
    state              TEXT   NOT NULL
        CHECK (state IN ('valid', 'in_use', 'consumed', 'expired', 'cancelled')),
    phone_session_hash BYTEA,                       -- SHA-256 of the phone's cookie, set at open
    created_ms         BIGINT NOT NULL,
    expires_ms         BIGINT NOT NULL,
    opened_ms          BIGINT,
    ended_ms           BIGINT
);
-- At most one live enrolment per holder: issuing a new one cancels the old one, and the database
-- holds that line under any race.
CREATE UNIQUE INDEX enrolments_one_live_per_identity ON enrolments (hpki_id)
    WHERE state IN ('valid', 'in_use');
CREATE INDEX enrolments_phone_session ON enrolments (phone_session_hash) WHERE state = 'in_use';

-- Server-side WebAuthn ceremony state (webauthn-rs keeps no replay memory of its own), so any
-- server process can finish what another began. Deleted in the transaction that uses it.
CREATE TABLE webauthn_ceremonies (
    enrolment_id BIGINT PRIMARY KEY REFERENCES enrolments (id),
    state        TEXT   NOT NULL,                   -- serialised PasskeyRegistration (JSON)
    expires_ms   BIGINT NOT NULL
);

-- Bound phones. A replaced or revoked phone is kept, with revoked_ms set, for the audit trail.
CREATE TABLE phone_credentials (
    id             BIGSERIAL PRIMARY KEY,
    hpki_id        TEXT   NOT NULL REFERENCES identities (hpki_id),
    credential_id  BYTEA  NOT NULL UNIQUE,          -- never registered twice, even after revocation
    passkey        TEXT   NOT NULL,                 -- serialised webauthn-rs Passkey (public key)
    label          TEXT   NOT NULL,
    enrolment_id   BIGINT REFERENCES enrolments (id),
    created_ms     BIGINT NOT NULL,
    revoked_ms     BIGINT,
    revoked_reason TEXT
);
-- One working phone per holder; a replacement revokes the old one in the same transaction.
CREATE UNIQUE INDEX phone_one_active_per_identity ON phone_credentials (hpki_id)
    WHERE revoked_ms IS NULL;

-- What a session without an HPKI login may do: enrol a phone for one holder, having proved who
-- they are another way: 'jma' (医籍登録番号 + カードID, where the CA allows it) or 'phone' (the
-- bound phone's WebAuthn assertion, to change phones).
CREATE TABLE enrol_grants (
    session_hash BYTEA PRIMARY KEY,
    hpki_id      TEXT NOT NULL REFERENCES identities (hpki_id),
    via          TEXT NOT NULL CHECK (via IN ('jma', 'phone')),
    expires_ms   BIGINT NOT NULL
);

-- Failed 医籍登録番号 + カードID attempts per holder; locked_ms set at the fifth, until the CA
-- unlocks it.
CREATE TABLE jma_attempts (
    hpki_id   TEXT PRIMARY KEY REFERENCES identities (hpki_id),
    failures  BIGINT NOT NULL,
    locked_ms BIGINT
);
