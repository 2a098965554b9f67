-- Refund calls to make at the provider: written by the refund executor (a projection)
-- in its worker's transaction when a refund is requested, taken under a lease by the
-- refund calls loop, which calls the provider outside any transaction and deletes the
-- row once the refund has a verdict. Write-side state of the payments use case, not a
-- read model: a row is a promise to ask.
CREATE TABLE refund_calls
(
    payment_id   uuid        NOT NULL,
    refund_id    text        NOT NULL,
    -- When to ask (again): now for a new call; later after no verdict or a pending one.
    due_at       timestamptz NOT NULL DEFAULT now(),
    -- Tries without a verdict, and reads of a refund the provider kept pending.
    attempts     integer     NOT NULL DEFAULT 0,
    reads        integer     NOT NULL DEFAULT 0,
    -- Taken until then (the lease's end is its holder's token: only the holder
    -- records the answer); a crashed holder's call is taken again after it.
    leased_until timestamptz,
    last_error   text,
    -- Set for a call that can never be made (a bug), for an operator.
    parked_at    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (payment_id, refund_id)
);

CREATE INDEX refund_calls_due_idx ON refund_calls (due_at) WHERE parked_at IS NULL;

-- Refunds requested before this table existed and still without a result are asked
-- (again, under the same key) once.
INSERT INTO refund_calls (payment_id, refund_id)
SELECT requested.aggregate_id::uuid, requested.payload -> 'RefundRequested' ->> 'refund_id'
FROM events requested
WHERE requested.aggregate_type = 'Payment'
  AND requested.event_type = 'RefundRequested'
  AND NOT EXISTS (SELECT 1
                  FROM events result
                  WHERE result.aggregate_type = 'Payment'
                    AND result.aggregate_id = requested.aggregate_id
                    AND result.event_type IN ('RefundSucceeded', 'RefundFailed')
                    AND COALESCE(result.payload -> 'RefundSucceeded' ->> 'refund_id',
                                 result.payload -> 'RefundFailed' ->> 'refund_id')
                        = requested.payload -> 'RefundRequested' ->> 'refund_id')
ON CONFLICT DO NOTHING;
