-- The FAQ: questions and answers by category, written by admins (from the bot or the
-- API) and read by everyone. Content, not history: a write-side table of the FAQ use
-- cases (domain/src/use_cases/faq.rs), read by projections/src/read_models/faq.rs.
CREATE TABLE faq_entries
(
    entry_id   uuid        NOT NULL PRIMARY KEY,
    category   text        NOT NULL,
    question   text        NOT NULL,
    answer     text        NOT NULL,
    updated_by uuid        NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (category, question)
);
