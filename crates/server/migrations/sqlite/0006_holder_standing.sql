-- A holder's standing, checked on every path that does not read the HPKI card (JMA path,
-- スマートフォン変更, CA links): their current HPKI authentication certificate (issuer is
-- identities.cert_issuer; serial and expiry here, set by `identity import` and by each HPKI card
-- login) and the CA operator's suspension. NULL serial: imported before this was tracked, so
-- revocation cannot be checked until the next import or card login (refused meanwhile).
ALTER TABLE identities ADD COLUMN cert_serial TEXT;            -- hex of the DER serial
ALTER TABLE identities ADD COLUMN cert_not_after_ms INTEGER;
ALTER TABLE identities ADD COLUMN suspended_ms INTEGER;        -- set by `identity suspend`
ALTER TABLE identities ADD COLUMN suspended_reason TEXT;
