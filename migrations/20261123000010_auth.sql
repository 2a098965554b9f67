-- The API's sign-in state. These are not read models: no event feeds them.
--
-- telegram_identities maps one Telegram account to one user, written before the
-- user's registration event, so two first logins at the same moment (two devices,
-- a retry) end up as one user: the second insert finds the first's row.
CREATE TABLE telegram_identities
(
    telegram_id bigint      NOT NULL PRIMARY KEY,
    user_id     uuid        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Refresh tokens, stored as SHA-256 digests (a leaked table holds no usable token).
-- Each use replaces the token with a new one of the same family; a token used twice
-- means it was copied, and the whole family is revoked.
CREATE TABLE auth_refresh_tokens
(
    token_hash bytea       NOT NULL PRIMARY KEY,
    family     uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz
);

CREATE INDEX auth_refresh_tokens_family_idx ON auth_refresh_tokens (family);
CREATE INDEX auth_refresh_tokens_user_idx ON auth_refresh_tokens (user_id);
