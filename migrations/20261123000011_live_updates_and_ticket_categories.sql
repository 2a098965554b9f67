-- projection "live_updates": the feed behind the WebSocket /api/v1/ws. One row per
-- event someone should hear about, with who may see it: the users named in
-- user_ids, and the staff of a queue ('orders' or 'tickets') when staff_queue is
-- set. A client resumes with the last position it saw.
--
-- Positions come from live_updates_head, updated in the writing transaction: the
-- row lock makes concurrent writers take turns, so positions become visible in
-- order and a reader that saw position N never later finds a smaller one.
CREATE TABLE live_updates_head
(
    singleton       boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (singleton),
    position        bigint  NOT NULL,
    -- rows up to here were pruned; a client resuming from before it must re-read
    pruned_through  bigint  NOT NULL
);

INSERT INTO live_updates_head (position, pruned_through) VALUES (0, 0);

CREATE TABLE rm_live_updates
(
    position       bigint      NOT NULL PRIMARY KEY,
    -- the causing event, kept once per event
    cause          text        NOT NULL UNIQUE,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    user_ids       uuid[]      NOT NULL,
    staff_queue    text,                 -- orders | tickets
    topic          text        NOT NULL, -- order | ticket | balance | payment | profile
    event          text        NOT NULL,
    data           jsonb       NOT NULL,
    at             timestamptz NOT NULL
);

CREATE INDEX rm_live_updates_at_idx ON rm_live_updates (at);

-- Wakes the API processes' feed watchers; they read the rows themselves.
CREATE FUNCTION live_updates_notify() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('live_updates', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER live_updates_notify
    AFTER INSERT ON rm_live_updates
    FOR EACH STATEMENT EXECUTE FUNCTION live_updates_notify();

-- projection "live_updates": its own memory of who is on each order, ticket and
-- payment, and which ticket messages and order notes are internal.
CREATE TABLE live_update_parties
(
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    customer_id    uuid NOT NULL,
    assignee_id    uuid,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

CREATE TABLE live_update_internal_messages
(
    ticket_id  text NOT NULL,
    message_id uuid NOT NULL,
    PRIMARY KEY (ticket_id, message_id)
);

-- projection "tickets": a message the support desk deleted keeps its row (so the
-- thread's order and counts stay) without its text.
ALTER TABLE rm_ticket_messages
    ADD COLUMN deleted_at timestamptz,
    ADD COLUMN deleted_by uuid;

-- projection "ticket_categories": the categories admins manage, as offered when a
-- ticket is opened (active ones, by position).
CREATE TABLE rm_ticket_categories
(
    code       text        NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    icon       text,
    colour     text        NOT NULL,
    position   integer     NOT NULL,
    active     boolean     NOT NULL,
    updated_at timestamptz NOT NULL
);
