-- HPKI second certificates (HPKIセカンド電子証明書): one RSA key pair per credential in the HSM,
-- found there by its CKA_ID, and the certificate the HPKI CA issued for it. A credential is
-- 'requested' (key made, CSR handed out), then 'active' (certificate imported and checked), and
-- finally 'revoked'. Rows are never deleted once they hold a key (the audit trail and the CSC
-- signatures refer to them), except a request whose key the HSM never made.
CREATE TABLE second_certificates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The public id a signing client (CSC API) names the credential by; random.
    credential_id  TEXT NOT NULL UNIQUE,
    hpki_id        TEXT NOT NULL REFERENCES identities (hpki_id),
    -- CKA_ID of the key pair and certificate in the HSM, hex; random.
    key_id         TEXT NOT NULL UNIQUE,
    state          TEXT NOT NULL CHECK (state IN ('requested', 'active', 'revoked')),
    -- SubjectPublicKeyInfo (DER) of the HSM key, once the HSM made it.
    public_key     BLOB,
    certificate    BLOB,
    cert_issuer    TEXT,
    cert_serial    TEXT,
    not_before_ms  INTEGER,
    not_after_ms   INTEGER,
    created_ms     INTEGER NOT NULL,
    -- When the request's HSM work last started: a request without a key yet is another
    -- process's for a minute, then anyone's to resume (it crashed).
    started_ms     INTEGER NOT NULL,
    activated_ms   INTEGER,
    revoked_ms     INTEGER,
    revoked_reason TEXT,
    CHECK ((state = 'active') = (certificate IS NOT NULL AND revoked_ms IS NULL))
);
-- One open credential (requested or active) per holder, whatever races: a second request, or a
-- second import, loses at the database.
CREATE UNIQUE INDEX second_cert_one_open_per_holder ON second_certificates (hpki_id)
    WHERE state <> 'revoked';
