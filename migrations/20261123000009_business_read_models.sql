-- Read models of the businesses: orders (with their timeline and bookings),
-- payments and refunds, what each user paid, tickets and their messages, daily
-- analytics, and the notifications the bot sends.
--
-- Every table belongs to exactly one projection (named in its comment); nothing
-- else writes it, so rebuilding a projection is: drop its rows and checkpoints,
-- then replay.

-- The tax ledger's own record of payments keeps its role under a name that says so;
-- rm_payments becomes the payments read model below.
ALTER TABLE rm_payments RENAME TO rm_tax_payments;
ALTER TABLE rm_tax_payments RENAME CONSTRAINT rm_payments_pkey TO rm_tax_payments_pkey;

-- projection "orders": one row per order, whatever its kind.
CREATE TABLE rm_orders
(
    order_id        text           NOT NULL PRIMARY KEY,
    kind            text           NOT NULL, -- coursework | shop | booking
    status          text           NOT NULL,
    customer_id     uuid           NOT NULL,
    executor_id     uuid,
    title           text           NOT NULL, -- subject, service name, or first item
    price           numeric(14, 2),          -- quoted price, shop total or service price
    paid_amount     numeric(14, 2) NOT NULL DEFAULT 0,
    refunded_amount numeric(14, 2) NOT NULL DEFAULT 0,
    payment_id      uuid,
    deadline        timestamptz,
    revisions       integer        NOT NULL DEFAULT 0,
    review_stars    smallint,
    details         jsonb          NOT NULL,
    placed_at       timestamptz    NOT NULL,
    paid_at         timestamptz,
    completed_at    timestamptz,
    cancelled_at    timestamptz,
    updated_at      timestamptz    NOT NULL
);

CREATE INDEX rm_orders_customer_idx ON rm_orders (customer_id, placed_at DESC);
CREATE INDEX rm_orders_executor_idx ON rm_orders (executor_id, status) WHERE executor_id IS NOT NULL;
CREATE INDEX rm_orders_status_idx ON rm_orders (status, placed_at DESC);
CREATE INDEX rm_orders_kind_idx ON rm_orders (kind, placed_at DESC);
CREATE INDEX rm_orders_placed_at_idx ON rm_orders (placed_at);

-- projection "orders": every event of an order, as staff and the customer see it.
-- Internal notes are marked so customer views leave them out.
CREATE TABLE rm_order_timeline
(
    order_id    text        NOT NULL,
    sequence    bigint      NOT NULL,
    at          timestamptz NOT NULL,
    event_type  text        NOT NULL,
    actor_id    uuid,
    internal    boolean     NOT NULL DEFAULT false,
    summary     text        NOT NULL,
    PRIMARY KEY (order_id, sequence)
);

-- Paid coursework nobody has taken yet: what executors pick from.
CREATE VIEW rm_order_pool AS
SELECT *
FROM rm_orders
WHERE kind = 'coursework'
  AND status = 'paid'
  AND executor_id IS NULL;

-- Each executor's open and finished work.
CREATE VIEW rm_executor_workload AS
SELECT executor_id,
       count(*) FILTER (WHERE status IN ('assigned', 'in_progress', 'submitted', 'revision_requested')) AS active,
       count(*) FILTER (WHERE status IN ('accepted', 'completed'))                                  AS finished,
       min(deadline) FILTER (WHERE status IN ('assigned', 'in_progress', 'revision_requested'))    AS next_deadline
FROM rm_orders
WHERE executor_id IS NOT NULL
GROUP BY executor_id;

-- projection "orders": the salon's bookings, per master and day.
CREATE TABLE rm_bookings
(
    order_id     text        NOT NULL PRIMARY KEY,
    master_id    uuid        NOT NULL,
    service_id   text        NOT NULL,
    service_name text        NOT NULL,
    customer_id  uuid        NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    status       text        NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE INDEX rm_bookings_master_idx ON rm_bookings (master_id, starts_at);
CREATE INDEX rm_bookings_starts_at_idx ON rm_bookings (starts_at) WHERE status = 'booked';

-- projection "payments": one row per payment.
CREATE TABLE rm_payments
(
    payment_id          text           NOT NULL PRIMARY KEY,
    payer_id            uuid           NOT NULL,
    payer_kind          text           NOT NULL,
    purpose             text           NOT NULL, -- order | credit_pack | subscription
    order_id            uuid,
    product             text,                    -- pack or plan name
    amount              numeric(14, 2) NOT NULL,
    refunded_amount     numeric(14, 2) NOT NULL DEFAULT 0,
    provider_fee        numeric(14, 2),
    status              text           NOT NULL, -- pending | succeeded | canceled
    provider_payment_id text,
    created_at          timestamptz    NOT NULL,
    paid_at             timestamptz,
    month               date           NOT NULL, -- month of paid_at, or of created_at while unpaid
    updated_at          timestamptz    NOT NULL
);

CREATE INDEX rm_payments_payer_idx ON rm_payments (payer_id, created_at DESC);
CREATE INDEX rm_payments_order_idx ON rm_payments (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX rm_payments_status_idx ON rm_payments (status, month);
CREATE INDEX rm_payments_month_idx ON rm_payments (month);

-- projection "payments": refunds, requested and made.
CREATE TABLE rm_refunds
(
    payment_id         text           NOT NULL,
    refund_id          text           NOT NULL,
    payer_id           uuid           NOT NULL,
    amount             numeric(14, 2) NOT NULL,
    status             text           NOT NULL, -- requested | succeeded | failed
    provider_refund_id text,
    failure            text,
    requested_at       timestamptz    NOT NULL,
    refunded_at        timestamptz,
    month              date           NOT NULL,
    PRIMARY KEY (payment_id, refund_id)
);

CREATE INDEX rm_refunds_payer_idx ON rm_refunds (payer_id);
CREATE INDEX rm_refunds_month_idx ON rm_refunds (month);

-- projection "payments": what each user paid, net of refunds, and the loyalty
-- tier that earns (tiers are configuration; the tier is the one in force when the
-- total last changed).
CREATE TABLE rm_user_spending
(
    user_id         uuid           NOT NULL PRIMARY KEY,
    total_paid      numeric(14, 2) NOT NULL,
    total_refunded  numeric(14, 2) NOT NULL,
    payments        integer        NOT NULL,
    first_paid_at   timestamptz,
    loyalty_tier    text           NOT NULL,
    updated_at      timestamptz    NOT NULL
);

-- Users as staff tools list them: profile, referrals and spending together.
CREATE VIEW rm_user_overview AS
SELECT u.*,
       (SELECT count(*) FROM rm_users r WHERE r.referrer_id = u.user_id) AS referrals,
       COALESCE(s.total_paid, 0.00)                                     AS total_paid,
       COALESCE(s.total_refunded, 0.00)                                 AS total_refunded,
       COALESCE(s.payments, 0)                                          AS payments,
       s.loyalty_tier
FROM rm_users u
         LEFT JOIN rm_user_spending s ON s.user_id::text = u.user_id;

-- projection "tickets": the support desk.
CREATE TABLE rm_tickets
(
    ticket_id         text        NOT NULL PRIMARY KEY,
    customer_id       uuid        NOT NULL,
    category          text        NOT NULL,
    title             text        NOT NULL,
    priority          text        NOT NULL,
    status            text        NOT NULL,
    assignee_id       uuid,
    messages          integer     NOT NULL DEFAULT 0,
    rating            smallint,
    opened_at         timestamptz NOT NULL,
    first_response_at timestamptz, -- the first staff answer the customer could see
    resolved_at       timestamptz, -- the last time it became resolved
    last_customer_message_at timestamptz,
    last_staff_message_at    timestamptz,
    updated_at        timestamptz NOT NULL
);

CREATE INDEX rm_tickets_status_idx ON rm_tickets (status, priority, opened_at);
CREATE INDEX rm_tickets_customer_idx ON rm_tickets (customer_id, opened_at DESC);
CREATE INDEX rm_tickets_assignee_idx ON rm_tickets (assignee_id, status) WHERE assignee_id IS NOT NULL;
CREATE INDEX rm_tickets_category_idx ON rm_tickets (category, status);
CREATE INDEX rm_tickets_title_idx ON rm_tickets (lower(title) text_pattern_ops);

-- projection "tickets": messages, the opening description first.
CREATE TABLE rm_ticket_messages
(
    ticket_id   text        NOT NULL,
    message_id  text        NOT NULL,
    author_id   uuid        NOT NULL,
    by_staff    boolean     NOT NULL,
    internal    boolean     NOT NULL,
    text        text        NOT NULL,
    attachments jsonb       NOT NULL,
    posted_at   timestamptz NOT NULL,
    edited_at   timestamptz,
    PRIMARY KEY (ticket_id, message_id)
);

CREATE INDEX rm_ticket_messages_order_idx ON rm_ticket_messages (ticket_id, posted_at);

-- projection "analytics": figures per day (UTC), added up as events arrive.
CREATE TABLE rm_daily_stats
(
    day              date           NOT NULL PRIMARY KEY,
    orders_placed    integer        NOT NULL DEFAULT 0,
    orders_paid      integer        NOT NULL DEFAULT 0,
    orders_completed integer        NOT NULL DEFAULT 0,
    orders_cancelled integer        NOT NULL DEFAULT 0,
    revenue          numeric(14, 2) NOT NULL DEFAULT 0,
    refunds          numeric(14, 2) NOT NULL DEFAULT 0,
    credits_granted  bigint         NOT NULL DEFAULT 0,
    credits_spent    bigint         NOT NULL DEFAULT 0,
    tickets_opened   integer        NOT NULL DEFAULT 0,
    tickets_resolved integer        NOT NULL DEFAULT 0,
    new_users        integer        NOT NULL DEFAULT 0
);

-- projection "notifications": who is told what. The bot sends the unsent rows and
-- marks them; the key makes deciding twice (a redelivery, a rerun reminder scan)
-- yield one row.
CREATE TABLE rm_notifications
(
    notification_id text        NOT NULL PRIMARY KEY,
    recipient       text        NOT NULL, -- user | staff_group
    user_id         uuid,                 -- the recipient when recipient = 'user'
    template        text        NOT NULL,
    params          jsonb       NOT NULL,
    cause           text        NOT NULL, -- the message id of the event, or the scan that decided it
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    CHECK ((recipient = 'user') = (user_id IS NOT NULL))
);

CREATE INDEX rm_notifications_unsent_idx ON rm_notifications (created_at) WHERE sent_at IS NULL;
CREATE INDEX rm_notifications_user_idx ON rm_notifications (user_id, created_at DESC) WHERE user_id IS NOT NULL;

-- projection "notifications": its own memory of who is on each order, ticket and
-- payment, so deciding never waits on another projection.
CREATE TABLE notification_parties
(
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    customer_id    uuid NOT NULL,
    assignee_id    uuid,
    title          text NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- The loyalty process manager reads a customer's payments from the store as of the
-- event it reacts to (so its result never depends on how far a projection got).
CREATE INDEX events_payment_payer_idx ON events ((payload -> 'PaymentCreated' ->> 'payer_user_id'))
    WHERE event_type = 'PaymentCreated';

-- projection "credit_lots": what is left of each grant, so "points that expire
-- soon" and the expiry job read amounts left, not amounts granted.
CREATE TABLE rm_credit_lots
(
    account_id text        NOT NULL,
    lot        integer     NOT NULL, -- the grant's position on the account
    reason     text        NOT NULL,
    reference  text        NOT NULL,
    remaining  bigint      NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (account_id, lot)
);

CREATE INDEX rm_credit_lots_expiring_idx ON rm_credit_lots (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
