-- What a holder consented to, per client: the scope values agreed on the consent page. A request
-- asking more (above all `service`, signing with the holder's HPKI second certificate) shows the
-- consent page again. Consents given before this column were for the only scopes there were.
ALTER TABLE oidc_consents ADD COLUMN scope TEXT NOT NULL DEFAULT 'openid profile';
