-- When a user was last seen (signed in to the API or the Mini App, or wrote to the
-- bot), for broadcasts to people active in the last N days. Writer: the identity
-- use cases (domain/src/use_cases/identity.rs).
ALTER TABLE telegram_identities ADD COLUMN last_seen_at timestamptz;
UPDATE telegram_identities SET last_seen_at = created_at;
ALTER TABLE telegram_identities ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE telegram_identities ALTER COLUMN last_seen_at SET DEFAULT now();
CREATE INDEX telegram_identities_last_seen_idx ON telegram_identities (last_seen_at);

-- A broadcast: its text (and photo), who it goes to, and how far it got. A draft is
-- confirmed by staff, its recipients are then fixed once (broadcast_recipients), and
-- it is sent until none is pending. Writers: domain/src/use_cases/broadcasts.rs
-- (draft, confirmed, cancelled) and the bot's broadcaster (sending, done).
CREATE TABLE broadcasts
(
    broadcast_id  uuid        NOT NULL PRIMARY KEY,
    created_by    uuid        NOT NULL,
    -- where the report goes when it is done
    report_chat   bigint,
    text          text        NOT NULL,
    -- a Telegram file id
    photo         text,
    audience      jsonb       NOT NULL,
    state         text        NOT NULL CHECK (state IN ('draft', 'confirmed', 'sending', 'done', 'cancelled')),
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz,
    finished_at   timestamptz
);
CREATE INDEX broadcasts_open_idx ON broadcasts (created_at) WHERE state IN ('confirmed', 'sending');

-- Each recipient of a broadcast, fixed when sending starts. A recipient is 'sending'
-- from just before the call until its answer is recorded; one the process died
-- during is never sent again (a message Telegram may have shown is not repeated).
CREATE TABLE broadcast_recipients
(
    broadcast_id uuid        NOT NULL REFERENCES broadcasts (broadcast_id),
    chat_id      bigint      NOT NULL,
    user_id      uuid        NOT NULL,
    language     text,
    state        text        NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'delivered', 'blocked', 'failed')),
    error        text,
    updated_at   timestamptz,
    PRIMARY KEY (broadcast_id, chat_id)
);
CREATE INDEX broadcast_recipients_pending_idx ON broadcast_recipients (broadcast_id, chat_id) WHERE state = 'pending';

-- Staff find a user by exact @username (`/role @user ROLE`).
CREATE INDEX rm_users_username_idx ON rm_users (lower(username));
