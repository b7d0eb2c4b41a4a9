-- CSC API v2 signature activation data (SAD): what credentials/authorize grants, for a number
-- of signatures of given hashes with one credential, to one access token's holder, client and
-- signing session. Only the SAD's SHA-256 is kept; signatures/signHash decrements
-- `remaining` in the statement that checks it, so parallel calls never sign more than granted.
CREATE TABLE csc_sads (
    id            BIGSERIAL PRIMARY KEY,
    sad_hash      BYTEA NOT NULL UNIQUE,
    credential_id TEXT NOT NULL REFERENCES second_certificates (credential_id),
    hpki_id       TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    sid           TEXT NOT NULL,
    -- The SHA-256 hashes the SAD covers, base64 (standard), space separated.
    hashes        TEXT NOT NULL,
    remaining     BIGINT NOT NULL CHECK (remaining >= 0),
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL
);
CREATE INDEX csc_sads_expires ON csc_sads (expires_ms);
