-- The tax ledger of a self-employed owner (NPD).
--
-- rm_payments keeps what the ledger needs to know about each payment (who paid, how
-- much, when); rm_tax_lines has one line per payment received and per refund made,
-- with the rate and tax at the full rate and the provider's fee. A refund line
-- belongs to the month of the receipt it reduces (tax_month), and says when the
-- money went back (at). Monthly totals with the deduction are computed from these
-- lines in order (projections::read_models::tax_ledger::months).
CREATE TABLE rm_payments
(
    payment_id text        NOT NULL PRIMARY KEY,
    payer_kind text        NOT NULL,
    amount     numeric(14, 2) NOT NULL,
    status     text        NOT NULL,
    paid_at    timestamptz,
    updated_at timestamptz NOT NULL
);

CREATE TABLE rm_tax_lines
(
    payment_id   text           NOT NULL,
    line_id      text           NOT NULL,
    kind         text           NOT NULL, -- income | refund
    at           timestamptz    NOT NULL,
    tax_month    date           NOT NULL,
    payer_kind   text           NOT NULL,
    amount       numeric(14, 2) NOT NULL, -- negative for refunds
    rate         numeric(6, 4)  NOT NULL,
    tax          numeric(14, 2) NOT NULL, -- at the full rate, before the deduction
    provider_fee numeric(14, 2) NOT NULL,
    net          numeric(14, 2) NOT NULL, -- amount - provider_fee
    PRIMARY KEY (payment_id, line_id)
);

CREATE INDEX rm_tax_lines_month_idx ON rm_tax_lines (tax_month);
