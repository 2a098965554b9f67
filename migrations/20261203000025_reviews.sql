-- Reviews of completed orders, for everyone to read: the review's text in the
-- orders read model (reviews made before this column are shown without text until
-- the orders projection is rebuilt), and which reviews admins hid. Writers: the
-- orders projection (review_text) and domain/src/use_cases/reviews.rs
-- (review_moderation).
ALTER TABLE rm_orders ADD COLUMN review_text text;
CREATE INDEX rm_orders_reviewed_idx ON rm_orders (updated_at DESC) WHERE review_stars IS NOT NULL;

CREATE TABLE review_moderation
(
    order_id   uuid        NOT NULL PRIMARY KEY,
    hidden     boolean     NOT NULL,
    decided_by uuid        NOT NULL,
    decided_at timestamptz NOT NULL
);
