-- The outbox: one row per committed event that has not yet been acknowledged by
-- NATS JetStream. The row is written by a trigger in the same transaction as the
-- event, so "committed event <=> outbox row (until relayed)" holds by construction.
-- The relay deletes a row only after JetStream has acknowledged its publish.
CREATE TABLE outbox
(
    global_position bigint      NOT NULL PRIMARY KEY,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL,
    recorded_at     timestamptz NOT NULL
);

-- Wakes the relay. Postgres folds identical notifications of one transaction into
-- one, so a multi-event commit sends a single NOTIFY. The relay also polls, so a
-- missed notification only delays, never loses, an event.
CREATE FUNCTION events_to_outbox() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO outbox (global_position, aggregate_type, aggregate_id, sequence, recorded_at)
    VALUES (NEW.global_position, NEW.aggregate_type, NEW.aggregate_id, NEW.sequence, NEW.recorded_at);
    PERFORM pg_notify('ledger_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_outbox
    AFTER INSERT
    ON events
    FOR EACH ROW
EXECUTE FUNCTION events_to_outbox();
