-- Issue 11 (smaller holes). A スマートフォン変更 first code may look up one 本人ID only: the first
-- begin writes it here, and a begin naming another is refused, so a code cannot be used to probe
-- many 本人IDs.
ALTER TABLE phone_proofs ADD COLUMN begun_hpki_id TEXT;
