-- Issue 12: the platform as an OpenID Provider for the services that sign. Every secret (client
-- secret, pending request id, code, access and refresh token) is stored as its SHA-256 only.

-- Relying services, registered by the operator (`oidc-client add`). A client authenticates with
-- a secret (client_secret_basic) or with a JWT signed by a key of its registered JWKS
-- (private_key_jwt): exactly one of the two is set.
CREATE TABLE oidc_clients (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   BYTEA,
    jwks          TEXT,
    -- JSON array of the exact redirect URIs.
    redirect_uris TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    removed_ms    BIGINT,
    CHECK ((secret_hash IS NULL) <> (jwks IS NULL))
);

-- An authorization request waiting for the holder's sign-in or consent.
CREATE TABLE oidc_requests (
    id_hash        BYTEA PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients (client_id),
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    state          TEXT,
    nonce          TEXT,
    code_challenge TEXT NOT NULL,
    max_age_secs   BIGINT,
    -- Set when the request demanded a new sign-in (prompt=login, max_age exceeded): only a
    -- signing session that began after this time may answer it.
    fresh_after_ms BIGINT,
    created_ms     BIGINT NOT NULL,
    expires_ms     BIGINT NOT NULL
);

-- A holder's consent to a client, given once on the consent page.
CREATE TABLE oidc_consents (
    hpki_id    TEXT NOT NULL REFERENCES identities (hpki_id),
    client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id),
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (hpki_id, client_id)
);

-- Authorization codes: single use (used_ms), 60 seconds, bound to the client, the redirect URI,
-- the PKCE challenge and the signing session.
CREATE TABLE oidc_codes (
    code_hash      BYTEA PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients (client_id),
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    scope          TEXT NOT NULL,
    sid            TEXT NOT NULL,
    hpki_id        TEXT NOT NULL REFERENCES identities (hpki_id),
    created_ms     BIGINT NOT NULL,
    expires_ms     BIGINT NOT NULL,
    used_ms        BIGINT,
    -- A second redemption was tried: the tokens of the first are revoked, and none are issued.
    replayed_ms    BIGINT
);

-- Access and refresh tokens. `grant_hash` is the code they came from: a replayed code or a
-- reused refresh token revokes every token of its grant.
CREATE TABLE oidc_tokens (
    token_hash  BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_hash  BYTEA NOT NULL,
    client_id   TEXT NOT NULL REFERENCES oidc_clients (client_id),
    hpki_id     TEXT NOT NULL REFERENCES identities (hpki_id),
    sid         TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    -- A refresh token used once (and replaced by a new one).
    rotated_ms  BIGINT,
    revoked_ms  BIGINT
);
CREATE INDEX oidc_tokens_grant ON oidc_tokens (grant_hash);

-- `jti`s of private_key_jwt client assertions seen, until they expire: each is used once.
CREATE TABLE oidc_assertions (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
