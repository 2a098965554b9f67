-- Events the relay could not publish for a reason that retrying cannot fix (for
-- example a body larger than the NATS server accepts). They are set aside here, with
-- the error, so they do not block every later event; the event itself stays in
-- `events`, consumers fill the gap from the store, and an operator can re-queue a
-- row by moving it back into `outbox` once the cause is fixed.
CREATE TABLE outbox_parked
(
    global_position bigint      NOT NULL PRIMARY KEY,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL,
    recorded_at     timestamptz NOT NULL,
    parked_at       timestamptz NOT NULL DEFAULT now(),
    error           text        NOT NULL
);
