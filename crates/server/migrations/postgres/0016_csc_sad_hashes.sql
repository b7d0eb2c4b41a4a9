-- Each hash a SAD covers, signable once: signatures/signHash (and signDoc, for the document's
-- hash) deletes the hash's row in the transaction held open while the HSM signs, and signs
-- only if the delete found it. So a hash is never signed twice with one SAD, whether the
-- calls repeat it, replay it, or race (the row lock decides; a rollback puts it back).
-- SADs written before this table (at most five minutes' worth) have no rows and sign nothing.
CREATE TABLE csc_sad_hashes (
    sad_id BIGINT NOT NULL REFERENCES csc_sads (id) ON DELETE CASCADE,
    -- The SHA-256 hash (32 bytes).
    hash   BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (sad_id, hash)
);
