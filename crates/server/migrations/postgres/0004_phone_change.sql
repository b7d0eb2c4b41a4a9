-- スマートフォン変更: the bound (old) phone proves the holder to a PC without the HPKI card.
-- The PC shows a first code; the phone that opens it owns it and answers a WebAuthn assertion
-- with its credential. state: 'valid' → 'in_use' → 'proved' (hpki_id set, the PC's session may
-- then enrol a replacement), or 'expired' / 'cancelled'. Only the token's SHA-256 is stored.
CREATE TABLE phone_proofs (
    id                 BIGSERIAL PRIMARY KEY,
    token_hash         BYTEA NOT NULL UNIQUE,
    pc_session_hash    BYTEA NOT NULL,
    code               TEXT NOT NULL,
    state              TEXT NOT NULL
        CHECK (state IN ('valid', 'in_use', 'proved', 'expired', 'cancelled')),
    phone_session_hash BYTEA,
    hpki_id            TEXT REFERENCES identities (hpki_id),
    created_ms         BIGINT NOT NULL,
    expires_ms         BIGINT NOT NULL,
    opened_ms          BIGINT,
    ended_ms           BIGINT
);
CREATE UNIQUE INDEX phone_proofs_one_live_per_session ON phone_proofs (pc_session_hash)
    WHERE state IN ('valid', 'in_use');

-- Server-side state of the old phone's assertion, deleted in the transaction that uses it.
CREATE TABLE webauthn_assertions (
    proof_id   BIGINT PRIMARY KEY REFERENCES phone_proofs (id),
    hpki_id    TEXT NOT NULL REFERENCES identities (hpki_id),
    state      TEXT NOT NULL,                       -- serialised PasskeyAuthentication (JSON)
    expires_ms BIGINT NOT NULL
);
