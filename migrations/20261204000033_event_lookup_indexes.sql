-- Two write-side questions are asked of the event store by what a payment names,
-- and without an index each walked the whole `events` table (a cost that grew with
-- the store's history): a new order payment looks for an older payment of the same
-- order still pending at YooKassa, and the loyalty reaction sums what a customer
-- has paid. Partial expression indexes over `PaymentCreated` events answer both.
-- They only add; nothing reads events differently.

CREATE INDEX events_payment_created_order_idx
    ON events ((payload -> 'PaymentCreated' -> 'purpose' ->> 'order_id'))
    WHERE event_type = 'PaymentCreated';

CREATE INDEX events_payment_created_payer_idx
    ON events ((payload -> 'PaymentCreated' ->> 'payer_user_id'))
    WHERE event_type = 'PaymentCreated';
