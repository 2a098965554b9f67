-- Read model: users as the bot, the API and staff tools look them up.
CREATE TABLE rm_users
(
    user_id       text        NOT NULL PRIMARY KEY,
    telegram_id   bigint      NOT NULL,
    first_name    text        NOT NULL,
    last_name     text,
    username      text,
    language      text,
    role          text        NOT NULL,
    blocked       boolean     NOT NULL DEFAULT false,
    referral_code text        NOT NULL,
    invited_with  text,
    referrer_id   text,
    consent       text,
    registered_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE UNIQUE INDEX rm_users_telegram_id_key ON rm_users (telegram_id);
CREATE UNIQUE INDEX rm_users_referral_code_key ON rm_users (referral_code);
CREATE INDEX rm_users_referrer_idx ON rm_users (referrer_id);
CREATE INDEX rm_users_role_idx ON rm_users (role);
