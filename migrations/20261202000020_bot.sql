-- The Telegram bot's own state. None of these is a read model: they are the bot's
-- memory of what Telegram sent it and what it sent, so a rebuild of any read model
-- neither loses an update nor sends a message again.

-- Every update, stored before it is acknowledged to Telegram (the getUpdates offset
-- moves past it, or the webhook answers 200), then handled from here. Writer: the
-- bot's inbox (bot/src/inbox.rs).
CREATE TABLE bot_updates
(
    update_id    bigint      NOT NULL PRIMARY KEY,
    -- the chat the update belongs to (its updates are handled in order); null for
    -- updates that belong to no chat
    chat_id      bigint,
    body         jsonb       NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    handled_at   timestamptz,
    -- how long the handling took, in milliseconds (for finding slow handlers)
    handling_ms  integer,
    -- how often handling was cut short by an outage (after a few it fails for good)
    attempts     integer     NOT NULL DEFAULT 0,
    -- what went wrong when handling failed for good (the user was told)
    error        text
);
-- Handled updates are deleted after a week (they hold people's messages).
CREATE INDEX bot_updates_handled ON bot_updates (handled_at) WHERE handled_at IS NOT NULL;
CREATE INDEX bot_updates_unhandled ON bot_updates (update_id) WHERE handled_at IS NULL;

-- Where each chat is in a dialogue (a step and what it collected so far), so a
-- restart continues it. Writer: bot/src/dialogue.rs.
CREATE TABLE bot_dialogues
(
    chat_id    bigint      NOT NULL PRIMARY KEY,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Chats that blocked the bot (Telegram answered 403): nothing is sent to them until
-- they write again. Writer: bot/src/outgoing.rs.
CREATE TABLE bot_blocked_chats
(
    chat_id    bigint      NOT NULL PRIMARY KEY,
    blocked_at timestamptz NOT NULL
);

-- A delivery is 'sending' from just before the sendMessage call until its answer is
-- recorded. One the process died during stays 'sending' and is not sent again: a
-- message Telegram may already have shown is never repeated.
ALTER TABLE notification_deliveries DROP CONSTRAINT notification_deliveries_state_check;
ALTER TABLE notification_deliveries
    ADD CONSTRAINT notification_deliveries_state_check
        CHECK (state IN ('sent', 'retrying', 'failed', 'blocked', 'sending'));
