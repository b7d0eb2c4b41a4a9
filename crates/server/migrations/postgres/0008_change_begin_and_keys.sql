-- Issue 11 (smaller holes). A スマートフォン変更 first code may look up one 本人ID only: the first
-- begin writes it here, and a begin naming another is refused, so a code cannot be used to probe
-- many 本人IDs.
ALTER TABLE phone_proofs ADD COLUMN begun_hpki_id TEXT;

-- Random keys the server derives answers from, shared by every server process on the database
-- and created on first use. 'change-begin': the stand-in credential id for a 本人ID without a
-- phone, so the answer does not tell which 本人IDs have one.
CREATE TABLE server_keys (
    purpose TEXT PRIMARY KEY,
    secret  BYTEA NOT NULL
);
