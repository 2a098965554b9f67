-- Applications to become an executor: a short form from the bot, decided by an
-- admin (approving gives the executor role through the User aggregate). Writer:
-- domain/src/use_cases/applications.rs; read by
-- projections/src/read_models/applications.rs.
CREATE TABLE executor_applications
(
    application_id uuid        NOT NULL PRIMARY KEY,
    user_id        uuid        NOT NULL,
    about          text        NOT NULL,
    state          text        NOT NULL CHECK (state IN ('pending', 'approved', 'declined')),
    decided_by     uuid,
    created_at     timestamptz NOT NULL,
    decided_at     timestamptz
);
-- One open application per person.
CREATE UNIQUE INDEX executor_applications_pending_idx ON executor_applications (user_id) WHERE state = 'pending';
