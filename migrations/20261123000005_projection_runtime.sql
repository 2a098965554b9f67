-- Projection workers: how far each projection has applied each aggregate, and the
-- events a projection could not apply.
--
-- A worker applies an event and moves the aggregate's checkpoint in one
-- transaction, so a redelivered event (sequence <= checkpoint) is skipped and a
-- crash never leaves half of a batch applied.
CREATE TABLE projection_checkpoints
(
    projection     text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    -- recorded_at of the last applied event: lag = now() - max(recorded_at).
    recorded_at    timestamptz,
    PRIMARY KEY (projection, aggregate_type, aggregate_id)
);

CREATE INDEX projection_checkpoints_recorded_at_idx ON projection_checkpoints (projection, recorded_at);

-- Events a projection could not decode or apply after a few tries. The checkpoint
-- moves past them so the aggregate's later events still flow; the row says which
-- read-model rows may be incomplete until an operator replays the projection.
CREATE TABLE projection_parked
(
    projection     text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    error          text        NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, aggregate_type, aggregate_id, sequence)
);

-- Read model: credit balances and the statement of every change.
CREATE TABLE rm_credit_balances
(
    account_id text        NOT NULL PRIMARY KEY,
    balance    bigint      NOT NULL,
    granted    bigint      NOT NULL,
    spent      bigint      NOT NULL,
    refunded   bigint      NOT NULL,
    expired    bigint      NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE rm_credit_statement
(
    account_id  text        NOT NULL,
    sequence    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL,
    change      bigint      NOT NULL,
    kind        text        NOT NULL,
    reason      text        NOT NULL,
    reference   text        NOT NULL,
    expires_at  timestamptz,
    PRIMARY KEY (account_id, sequence)
);

CREATE INDEX rm_credit_statement_expiring_idx ON rm_credit_statement (expires_at) WHERE expires_at IS NOT NULL;
