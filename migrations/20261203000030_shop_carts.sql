-- The shop's carts: what each customer is about to buy, kept on the server so the
-- cart is the same on every device and survives closing the Mini App. Write-side
-- state of the cart use cases (domain::use_cases::cart), not a read model: a cart
-- is not history, only the order placed from it is (its events). `revision` grows
-- with every change; a checkout names the revision the customer saw, and orders
-- placed from one revision get one order id, so a repeated checkout finds its
-- order instead of placing a second, and a checkout cut short is finished by the
-- next call before it changes anything.
CREATE TABLE shop_carts (
    user_id    uuid PRIMARY KEY,
    revision   bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL,
    -- The last checkout: the revision it bought and the order it placed.
    checked_out_revision bigint,
    checked_out_order    uuid,
    -- A checkout under way (set before its order is placed, cleared when the cart
    -- is closed): the revision and the delivery, so whoever finds it unfinished
    -- (a change, another checkout) finishes it under the same key.
    pending_revision bigint,
    pending_delivery jsonb
);

CREATE TABLE shop_cart_lines (
    user_id    uuid NOT NULL REFERENCES shop_carts (user_id) ON DELETE CASCADE,
    product_id text NOT NULL,
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, product_id)
);
