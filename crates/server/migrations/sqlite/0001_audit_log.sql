-- Every authentication, binding, replacement, revocation and token issue leaves a row here.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,           -- Unix time in milliseconds, UTC
    hpki_id   TEXT,                       -- NULL when the actor is not yet known (failed login)
    action    TEXT    NOT NULL,
    client    TEXT,                       -- client address as the server saw it
    outcome   TEXT    NOT NULL,           -- 'ok' or an error code
    detail    TEXT
);
CREATE INDEX audit_log_hpki_id ON audit_log (hpki_id, id);
