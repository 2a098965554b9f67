-- Payments of a test shop or of the built-in sandbox (`"test": true` in their
-- PaymentSucceeded): no money moved, so they are marked and never income.
ALTER TABLE rm_payments ADD COLUMN test boolean NOT NULL DEFAULT false;
ALTER TABLE rm_tax_payments ADD COLUMN test boolean NOT NULL DEFAULT false;
