-- Payments through YooKassa. Not read models: the API writes these while it talks to
-- YooKassa, before and after the domain's commands.
--
-- payment_requests: a client's idempotence key → our payment, written before the
-- Payment aggregate is created, so repeating POST /api/v1/payments with the same key
-- finds the same payment (and YooKassa is asked with the same Idempotence-Key, our
-- payment id, so it keeps one payment too).
CREATE TABLE payment_requests
(
    payer_user_id   uuid        NOT NULL,
    idempotence_key text        NOT NULL,
    payment_id      uuid        NOT NULL UNIQUE,
    -- what the request asked for, to refuse the same key with other content
    request         jsonb       NOT NULL,
    -- where the customer pays, once YooKassa said (a repeat of the request gets it)
    confirmation_url text,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (payer_user_id, idempotence_key)
);

-- YooKassa's refund ids → ours, for refund.succeeded notifications.
CREATE TABLE yookassa_refunds
(
    provider_refund_id text        NOT NULL PRIMARY KEY,
    payment_id         uuid        NOT NULL,
    refund_id          text        NOT NULL,
    created_at         timestamptz NOT NULL
);

CREATE INDEX rm_payments_provider_idx ON rm_payments (provider_payment_id)
    WHERE provider_payment_id IS NOT NULL;

-- The built-in sandbox's own state (development without YooKassa keys): what a
-- YooKassa shop would hold. Never used when keys are configured.
CREATE TABLE yookassa_sandbox_payments
(
    id              text        NOT NULL PRIMARY KEY,
    idempotence_key text        NOT NULL UNIQUE,
    object          jsonb       NOT NULL,
    created_at      timestamptz NOT NULL
);

CREATE TABLE yookassa_sandbox_refunds
(
    id              text        NOT NULL PRIMARY KEY,
    idempotence_key text        NOT NULL UNIQUE,
    payment_id      text        NOT NULL,
    object          jsonb       NOT NULL,
    created_at      timestamptz NOT NULL
);

-- Mends to earlier tables of this release.
-- Live updates are pruned by when they were written (an old event fed late, by a
-- rebuild, must not take newer rows with it).
ALTER TABLE rm_live_updates ADD COLUMN written_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX rm_live_updates_written_idx ON rm_live_updates (written_at);
DROP INDEX rm_live_updates_at_idx;

-- Which token a refresh token replaced: a retry within the grace revokes the
-- successors the lost answers carried, so one token never starts two live chains.
ALTER TABLE auth_refresh_tokens ADD COLUMN parent_hash bytea;
CREATE INDEX auth_refresh_tokens_parent_idx ON auth_refresh_tokens (parent_hash);
