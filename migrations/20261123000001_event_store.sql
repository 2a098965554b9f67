-- The event store: the one source of truth of Ledgerbot.
--
-- `events` and `snapshots` have exactly the columns postgres-es reads and writes
-- (it inserts with named columns). The store adds its own columns and triggers:
--   * global_position: a gap-tolerant, store-wide order. Identity values are handed
--     out at INSERT, not at COMMIT, and rolled-back inserts leave holes, so never tail
--     this table by `global_position > last_seen`; consumers read the outbox / NATS.
--   * recorded_at: when the row was written (UTC, set by the database).
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 0) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         json                         NOT NULL,
    metadata        json                         NOT NULL,
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    recorded_at     timestamptz                  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_global_position_key ON events (global_position);
CREATE INDEX events_recorded_at_idx ON events (recorded_at);

-- Only used by aggregates that opt into snapshots (none do: the postgres-es snapshot
-- stores apply new events twice; see ARCHITECTURE.md). Kept so postgres-es finds it.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- The log is append-only. Statement-level triggers fire even when no row matches,
-- so any UPDATE, DELETE or TRUNCATE of `events` is refused outright.
CREATE FUNCTION events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'the events table is append-only: % is not allowed; record a correcting event instead', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Ledgerbot''s event log is its source of truth and is never rewritten.';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE
    ON events
    FOR EACH STATEMENT
EXECUTE FUNCTION events_refuse_change();
