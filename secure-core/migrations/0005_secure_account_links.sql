-- Accounts of users who sign in at an outside OpenID Connect provider (auth::oidc): one per
-- issuer and subject, made at their first request, so the app's rows can belong to them as to
-- any account. Such an account has no password: only the provider's tokens reach it.
CREATE TABLE IF NOT EXISTS secure_account_links (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES secure_accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX IF NOT EXISTS secure_account_links_account_id ON secure_account_links (account_id);
