-- Issue 12. A signing session (署名セッション): the once-a-day sign-in of one holder on one device
-- (one browser's cookie), with the factor used. Relying services' tokens name it by `sid`, so
-- ending it ends them. It is alive while ended_ms is NULL, expires_ms is ahead, and the binding it
-- was signed in with (mynumber_id or phone_id) is not revoked; the holder's standing is judged at
-- each use, as on every other path.
CREATE TABLE signing_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sid         TEXT    NOT NULL UNIQUE,            -- public random id (the OIDC `sid`)
    cookie_hash BLOB NOT NULL UNIQUE,               -- SHA-256 of the browser's cookie value
    hpki_id     TEXT    NOT NULL REFERENCES identities (hpki_id),
    factor      TEXT    NOT NULL CHECK (factor IN ('hpki_card', 'mynumber', 'passkey')),
    amr         TEXT    NOT NULL,                   -- RFC 8176 values, space-separated
    mynumber_id INTEGER REFERENCES mynumber_bindings (id),
    phone_id    INTEGER REFERENCES phone_credentials (id),
    user_agent  TEXT,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    ended_ms    INTEGER,
    end_reason  TEXT
);
CREATE INDEX signing_sessions_holder ON signing_sessions (hpki_id, expires_ms);
