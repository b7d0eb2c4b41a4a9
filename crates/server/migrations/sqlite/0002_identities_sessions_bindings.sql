-- Holders as the CAs registered them. The HPKI authentication certificate maps to a holder by its
-- issuer and subject names (DER), so a reissued card with a new key and serial keeps its holder.
CREATE TABLE identities (
    hpki_id             TEXT PRIMARY KEY,
    ca                  TEXT NOT NULL,        -- 'JMA' | 'JPA' | 'MEDIS'
    qualification       TEXT NOT NULL,        -- 'doctor' | 'dentist' | 'pharmacist'
    name_kanji          TEXT NOT NULL,
    name_kana           TEXT NOT NULL,
    name_roman          TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    hpki_card_id        TEXT NOT NULL,
    cert_issuer         BLOB NOT NULL,
    cert_subject        BLOB NOT NULL,
    created_ms          INTEGER NOT NULL,
    UNIQUE (cert_issuer, cert_subject)
);

-- Browser sessions. Only the SHA-256 of the cookie value is stored: a database leak yields no
-- usable session.
CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    hpki_id      TEXT REFERENCES identities (hpki_id),
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
);

-- Single-use challenges for card signatures, bound to the session that asked for them.
CREATE TABLE challenges (
    challenge    BLOB PRIMARY KEY,
    session_hash BLOB NOT NULL,
    purpose      TEXT NOT NULL,               -- 'hpki' | 'jpki'
    expires_ms   INTEGER NOT NULL
);
CREATE INDEX challenges_expiry ON challenges (expires_ms);

-- My Number card (JPKI user-authentication certificate) bindings. A replaced or revoked binding
-- is kept, with revoked_ms set, for the audit trail.
CREATE TABLE mynumber_bindings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    hpki_id        TEXT NOT NULL REFERENCES identities (hpki_id),
    cert_issuer    TEXT NOT NULL,
    cert_serial    TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,             -- SHA-256 of the certificate, hex
    not_after_ms   INTEGER NOT NULL,
    certificate    BLOB NOT NULL,
    created_ms     INTEGER NOT NULL,
    revoked_ms     INTEGER,
    revoked_reason TEXT
);
-- The two rules the whole platform rests on, enforced by the database itself so no race can
-- break them: one active My Number card per holder, one holder per My Number card.
CREATE UNIQUE INDEX mynumber_one_active_per_identity ON mynumber_bindings (hpki_id) WHERE revoked_ms IS NULL;
CREATE UNIQUE INDEX mynumber_one_identity_per_card ON mynumber_bindings (fingerprint) WHERE revoked_ms IS NULL;
