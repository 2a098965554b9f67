-- Image generations and the AI assistants: write-side state of
-- `domain::use_cases::{generation, assistant}`. What must be erasable (prompts, chats)
-- lives here, never in events.

-- A job's prompt, erased with its photos.
CREATE TABLE generation_prompts (
    job_id      uuid PRIMARY KEY,
    user_id     uuid NOT NULL,
    prompt      text,
    erase_after timestamptz,
    erased_at   timestamptz,
    CONSTRAINT generation_prompts_erased_are_empty CHECK (erased_at IS NULL OR prompt IS NULL)
);
CREATE INDEX generation_prompts_due_for_erasure ON generation_prompts (erase_after)
    WHERE erased_at IS NULL AND erase_after IS NOT NULL;

-- Charged jobs waiting for (or held by) a runner; written by the generation queue
-- reaction, taken under a lease by the runner, deleted when the job ends.
CREATE TABLE generation_calls (
    job_id           uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    kind             text NOT NULL,
    input_files      uuid[] NOT NULL,
    price            bigint NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    due_at           timestamptz NOT NULL DEFAULT now(),
    leased_until     timestamptz,
    lease_id         uuid,
    provider_task_id text,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX generation_calls_due ON generation_calls (due_at);
CREATE INDEX generation_calls_running ON generation_calls (user_id, leased_until);

CREATE TABLE assistant_sessions (
    session_id      uuid PRIMARY KEY,
    user_id         uuid NOT NULL,
    kind            text NOT NULL,
    messages        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    last_message_at timestamptz NOT NULL,
    closed_at       timestamptz,
    erased_at       timestamptz
);
CREATE INDEX assistant_sessions_by_user ON assistant_sessions (user_id, created_at DESC);
CREATE INDEX assistant_sessions_due_for_erasure ON assistant_sessions (last_message_at)
    WHERE erased_at IS NULL;

CREATE TABLE assistant_messages (
    session_id uuid NOT NULL REFERENCES assistant_sessions (session_id),
    position   integer NOT NULL,
    user_id    uuid NOT NULL,
    role       text NOT NULL,
    content    text NOT NULL,
    variants   jsonb NOT NULL DEFAULT '[]',
    at         timestamptz NOT NULL,
    PRIMARY KEY (session_id, position)
);
CREATE INDEX assistant_messages_by_user ON assistant_messages (user_id, at);

-- Every request to an AI provider: tokens, the provider's cost and the credits charged.
CREATE TABLE ai_usage (
    usage_id          uuid PRIMARY KEY,
    user_id           uuid NOT NULL,
    provider          text NOT NULL,
    model             text,
    purpose           text NOT NULL,
    subject_id        text NOT NULL,
    prompt_tokens     bigint,
    completion_tokens bigint,
    cost              numeric(18, 6) NOT NULL,
    credits           bigint NOT NULL,
    duration_ms       bigint NOT NULL,
    recorded_at       timestamptz NOT NULL
);
CREATE INDEX ai_usage_by_time ON ai_usage (recorded_at);

-- Read model of the generation jobs projection (`projections::read_models::generations`).
CREATE TABLE rm_generation_jobs (
    job_id           uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    kind             text NOT NULL,
    status           text NOT NULL,
    input_files      uuid[] NOT NULL,
    result_file      uuid,
    failure          text,
    price            bigint NOT NULL,
    credits_returned boolean NOT NULL DEFAULT false,
    attempts         integer NOT NULL,
    requested_at     timestamptz NOT NULL,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX rm_generation_jobs_by_user ON rm_generation_jobs (user_id, requested_at DESC, job_id DESC);

-- Every assistant request, recorded before its credits are spent: the per-user rate
-- is counted here, and a request never settled (no answer: a crash, a dropped client)
-- gets its credits back from the housekeeping.
CREATE TABLE assistant_requests (
    operation_id text PRIMARY KEY,
    user_id      uuid NOT NULL,
    credits      bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    settled_at   timestamptz
);
CREATE INDEX assistant_requests_by_user ON assistant_requests (user_id, created_at);
CREATE INDEX assistant_requests_unsettled ON assistant_requests (created_at) WHERE settled_at IS NULL;
