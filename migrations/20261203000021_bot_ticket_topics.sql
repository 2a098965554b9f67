-- The forum topic of each ticket in the staff group (when the group is a forum):
-- the customer's messages are posted there, and what staff write there goes back to
-- the customer. Writer: bot/src/topics.rs. Like the other bot_* tables this is the
-- bot's memory, not a read model: a rebuild never creates a topic twice.
CREATE TABLE bot_ticket_topics
(
    ticket_id  uuid        NOT NULL,
    chat_id    bigint      NOT NULL,
    thread_id  integer     NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, chat_id),
    UNIQUE (chat_id, thread_id)
);
