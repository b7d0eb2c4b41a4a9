-- Issue 12: the platform as an OpenID Provider for the services that sign. Every secret (client
-- secret, pending request id, code, access and refresh token) is stored as its SHA-256 only.

-- Relying services, registered by the operator (`oidc-client add`). A client authenticates with
-- a secret (client_secret_basic) or with a JWT signed by a key of its registered JWKS
-- (private_key_jwt): exactly one of the two is set.
CREATE TABLE oidc_clients (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   BLOB,
    jwks          TEXT,
    -- JSON array of the exact redirect URIs.
    redirect_uris TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    removed_ms    INTEGER,
    CHECK ((secret_hash IS NULL) <> (jwks IS NULL))
);

-- An authorization request waiting for the holder's sign-in or consent.
CREATE TABLE oidc_requests (
    id_hash        BLOB PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients (client_id),
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    state          TEXT,
    nonce          TEXT,
    code_challenge TEXT NOT NULL,
    max_age_secs   INTEGER,
    -- Set when the request demanded a new sign-in (prompt=login, max_age exceeded): only a
    -- signing session that began after this time may answer it.
    fresh_after_ms INTEGER,
    created_ms     INTEGER NOT NULL,
    expires_ms     INTEGER NOT NULL
);

-- A holder's consent to a client, given once on the consent page.
CREATE TABLE oidc_consents (
    hpki_id    TEXT NOT NULL REFERENCES identities (hpki_id),
    client_id  TEXT NOT NULL REFERENCES oidc_clients (client_id),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (hpki_id, client_id)
);

-- Authorization codes: single use (used_ms), 60 seconds, bound to the client, the redirect URI,
-- the PKCE challenge and the signing session.
CREATE TABLE oidc_codes (
    code_hash      BLOB PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients (client_id),
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce          TEXT,
    scope          TEXT NOT NULL,
    sid            TEXT NOT NULL,
    hpki_id        TEXT NOT NULL REFERENCES identities (hpki_id),
    created_ms     INTEGER NOT NULL,
    expires_ms     INTEGER NOT NULL,
    used_ms        INTEGER,
    -- A second redemption was tried: the tokens of the first are revoked, and none are issued.
    replayed_ms    INTEGER
);

-- Access and refresh tokens. `grant_hash` is the code they came from: a replayed code or a
-- reused refresh token revokes every token of its grant.
CREATE TABLE oidc_tokens (
    token_hash  BLOB PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_hash  BLOB NOT NULL,
    client_id   TEXT NOT NULL REFERENCES oidc_clients (client_id),
    hpki_id     TEXT NOT NULL REFERENCES identities (hpki_id),
    sid         TEXT NOT NULL,
    scope       TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    -- A refresh token used once (and replaced by a new one).
    rotated_ms  INTEGER,
    revoked_ms  INTEGER
);
CREATE INDEX oidc_tokens_grant ON oidc_tokens (grant_hash);

-- `jti`s of private_key_jwt client assertions seen, until they expire: each is used once.
CREATE TABLE oidc_assertions (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
