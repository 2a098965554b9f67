-- Rules that span aggregates, decided by the store in the transaction of the event
-- that would break them (like booking_slots), never by reading a read model first:
-- read models lag and race.
--
-- * the business keeps at least one active owner (`last_owner`);
-- * a booking's master is an executor who is not blocked (`booking_master_is_executor`);
-- * a ticket's assignee is support, an admin or an owner, not blocked
--   (`ticket_assignee_is_staff`);
-- * once categories exist, a new ticket names an active one (`ticket_category_offered`).
--
-- Each trigger fires only for the event types it reads, so other events pay nothing.
-- The triggers raise check_violation (23514) with the rule's name as the constraint;
-- the command service turns it into the aggregate's refusal
-- (`Refusal::from_store_constraint`). These tables are the write side's own memory,
-- kept by the same INSERT that stores each event: not read models, never behind the
-- store, written by these triggers alone.

-- Writers wait while the tables below are filled from the store and their triggers
-- created, so no event falls between the backfill and its trigger.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;

-- One row per registered user: role, block and referral code (derived from the id,
-- so two users sharing one is all but impossible; not unique, so it never refuses a
-- registration).
CREATE TABLE user_directory
(
    user_id       uuid    NOT NULL PRIMARY KEY,
    role          text    NOT NULL DEFAULT 'client',
    blocked       boolean NOT NULL DEFAULT false,
    referral_code text    NOT NULL
);

CREATE INDEX user_directory_referral_code_idx ON user_directory (referral_code);

INSERT INTO user_directory (user_id, referral_code, role, blocked)
SELECT registered.aggregate_id::uuid,
       registered.payload -> 'UserRegistered' ->> 'referral_code',
       COALESCE((SELECT changed.payload -> 'RoleChanged' ->> 'to'
                 FROM events changed
                 WHERE changed.aggregate_type = 'User'
                   AND changed.aggregate_id = registered.aggregate_id
                   AND changed.event_type = 'RoleChanged'
                 ORDER BY changed.sequence DESC
                 LIMIT 1), 'client'),
       COALESCE((SELECT blocking.event_type = 'UserBlocked'
                 FROM events blocking
                 WHERE blocking.aggregate_type = 'User'
                   AND blocking.aggregate_id = registered.aggregate_id
                   AND blocking.event_type IN ('UserBlocked', 'UserUnblocked')
                 ORDER BY blocking.sequence DESC
                 LIMIT 1), false)
FROM events registered
WHERE registered.aggregate_type = 'User'
  AND registered.event_type = 'UserRegistered'
ON CONFLICT DO NOTHING;

CREATE FUNCTION events_keep_user_directory() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    body          json;
    target        uuid;
    was_role      text;
    was_blocked   boolean;
    removes_owner boolean;
    active_owners bigint;
BEGIN
    IF NEW.event_type = 'UserRegistered' THEN
        body := NEW.payload -> 'UserRegistered';
        INSERT INTO user_directory (user_id, referral_code)
        VALUES (NEW.aggregate_id::uuid, body ->> 'referral_code')
        ON CONFLICT (user_id) DO NOTHING;
        RETURN NULL;
    END IF;
    IF NEW.event_type NOT IN ('RoleChanged', 'UserBlocked', 'UserUnblocked') THEN
        RETURN NULL;
    END IF;
    target := NEW.aggregate_id::uuid;
    SELECT role, blocked INTO was_role, was_blocked FROM user_directory WHERE user_id = target FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NEW.event_type = 'RoleChanged' THEN
        UPDATE user_directory SET role = NEW.payload -> 'RoleChanged' ->> 'to' WHERE user_id = target;
        removes_owner := was_role = 'owner' AND NOT was_blocked
            AND NEW.payload -> 'RoleChanged' ->> 'to' <> 'owner';
    ELSE
        UPDATE user_directory SET blocked = (NEW.event_type = 'UserBlocked') WHERE user_id = target;
        removes_owner := was_role = 'owner' AND NOT was_blocked AND NEW.event_type = 'UserBlocked';
    END IF;
    IF removes_owner THEN
        -- Every removal of an owner takes this lock, so two at once are decided one
        -- after the other: the second counts with the first committed.
        PERFORM pg_advisory_xact_lock(7583021942001);
        SELECT count(*) INTO active_owners FROM user_directory WHERE role = 'owner' AND NOT blocked;
        IF active_owners = 0 THEN
            RAISE EXCEPTION 'the business''s last owner cannot be removed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'last_owner';
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_user_directory
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'User'
        AND NEW.event_type IN ('UserRegistered', 'RoleChanged', 'UserBlocked', 'UserUnblocked'))
EXECUTE FUNCTION events_keep_user_directory();

-- A booking's master: an executor, not blocked. FOR SHARE waits for a role change or
-- a block of the master in flight and then reads its outcome.
CREATE FUNCTION events_check_booking_master() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    details json;
BEGIN
    IF NEW.event_type = 'OrderPlaced' THEN
        details := NEW.payload -> 'OrderPlaced' -> 'details';
        IF details ->> 'kind' = 'booking' THEN
            PERFORM 1 FROM user_directory
            WHERE user_id = (details ->> 'master_id')::uuid AND role = 'executor' AND NOT blocked
                FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the master % is not one of the salon''s masters', details ->> 'master_id'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_master_is_executor';
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_booking_master
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Order' AND NEW.event_type = 'OrderPlaced')
EXECUTE FUNCTION events_check_booking_master();

-- Ticket categories as the write side knows them: the code and whether it is offered.
CREATE TABLE ticket_category_directory
(
    code   text    NOT NULL PRIMARY KEY,
    active boolean NOT NULL
);

INSERT INTO ticket_category_directory (code, active)
SELECT latest.aggregate_id, (latest.payload -> latest.event_type ->> 'active')::boolean
FROM (SELECT DISTINCT ON (aggregate_id) aggregate_id, event_type, payload
      FROM events
      WHERE aggregate_type = 'TicketCategory'
      ORDER BY aggregate_id, sequence DESC) latest
WHERE latest.event_type IN ('CategoryCreated', 'CategoryUpdated');

CREATE FUNCTION events_keep_ticket_category_directory() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF NEW.event_type IN ('CategoryCreated', 'CategoryUpdated') THEN
        INSERT INTO ticket_category_directory (code, active)
        VALUES (NEW.aggregate_id, (NEW.payload -> NEW.event_type ->> 'active')::boolean)
        ON CONFLICT (code) DO UPDATE SET active = EXCLUDED.active;
    ELSIF NEW.event_type = 'CategoryDeleted' THEN
        DELETE FROM ticket_category_directory WHERE code = NEW.aggregate_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_ticket_category_directory
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'TicketCategory')
EXECUTE FUNCTION events_keep_ticket_category_directory();

CREATE FUNCTION events_check_ticket_rules() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    category text;
BEGIN
    IF NEW.event_type = 'TicketOpened' THEN
        category := NEW.payload -> 'TicketOpened' ->> 'category';
        IF EXISTS (SELECT 1 FROM ticket_category_directory) THEN
            PERFORM 1 FROM ticket_category_directory WHERE code = category AND active FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'the category % is not offered', category
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_category_offered';
            END IF;
        END IF;
    ELSIF NEW.event_type = 'TicketAssigned' THEN
        PERFORM 1 FROM user_directory
        WHERE user_id = (NEW.payload -> 'TicketAssigned' ->> 'assignee_id')::uuid
          AND role IN ('support', 'admin', 'owner')
          AND NOT blocked
            FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the assignee is not staff'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_assignee_is_staff';
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_ticket_rules
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Ticket' AND NEW.event_type IN ('TicketOpened', 'TicketAssigned'))
EXECUTE FUNCTION events_check_ticket_rules();

-- The payments of an order, for the one-open-payment rule's look at payments made
-- before orders recorded the payment they wait for.
CREATE INDEX events_payment_order_idx ON events ((payload -> 'PaymentCreated' -> 'purpose' ->> 'order_id'))
    WHERE event_type = 'PaymentCreated';

-- The provider's payment ids → ours, kept from ProviderPaymentRecorded, so a
-- notification without our id in its metadata finds its payment on the write side.
CREATE TABLE provider_payments
(
    provider_payment_id text NOT NULL PRIMARY KEY,
    payment_id          uuid NOT NULL
);

INSERT INTO provider_payments (provider_payment_id, payment_id)
SELECT payload -> 'ProviderPaymentRecorded' ->> 'provider_payment_id', aggregate_id::uuid
FROM events
WHERE aggregate_type = 'Payment'
  AND event_type = 'ProviderPaymentRecorded'
ON CONFLICT DO NOTHING;

CREATE FUNCTION events_keep_provider_payments() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF NEW.event_type = 'ProviderPaymentRecorded' THEN
        INSERT INTO provider_payments (provider_payment_id, payment_id)
        VALUES (NEW.payload -> 'ProviderPaymentRecorded' ->> 'provider_payment_id', NEW.aggregate_id::uuid)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_provider_payments
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Payment' AND NEW.event_type = 'ProviderPaymentRecorded')
EXECUTE FUNCTION events_keep_provider_payments();

-- Delivery of notifications and reminders, written by the bot's sender alone (by
-- the id of the rm_notifications or scheduled_reminders row): a rebuild of the read
-- model resends nothing that was delivered. rm_notifications.sent_at is no longer
-- written; its values move here.
CREATE TABLE notification_deliveries
(
    notification_id text        NOT NULL PRIMARY KEY,
    state           text        NOT NULL CHECK (state IN ('sent', 'retrying', 'failed', 'blocked')),
    attempts        integer     NOT NULL DEFAULT 1,
    last_error      text,
    -- when a retrying delivery is tried again
    next_attempt_at timestamptz,
    updated_at      timestamptz NOT NULL
);

INSERT INTO notification_deliveries (notification_id, state, updated_at)
SELECT notification_id, 'sent', sent_at
FROM rm_notifications
WHERE sent_at IS NOT NULL
ON CONFLICT DO NOTHING;

-- One writer per table. The scheduler's reminders get a table of their own (it is
-- their only writer), so rm_notifications is written by its projection alone, and a
-- rebuild of that read model neither loses reminders nor decides them again.
CREATE TABLE scheduled_reminders
(
    reminder_id text        NOT NULL PRIMARY KEY, -- <cause>:<template>:<recipient>
    recipient   text        NOT NULL,             -- user | staff_group
    user_id     uuid,                             -- the recipient when recipient = 'user'
    template    text        NOT NULL,
    params      jsonb       NOT NULL,
    cause       text        NOT NULL,             -- what the reminder is about (booking slot, waiting ticket)
    created_at  timestamptz NOT NULL,
    CHECK ((recipient = 'user') = (user_id IS NOT NULL))
);

INSERT INTO scheduled_reminders (reminder_id, recipient, user_id, template, params, cause, created_at)
SELECT notification_id, recipient, user_id, template, params, cause, created_at
FROM rm_notifications
WHERE cause LIKE 'reminder:%'
ON CONFLICT DO NOTHING;

DELETE FROM rm_notifications WHERE cause LIKE 'reminder:%';

CREATE INDEX notification_deliveries_retry_idx ON notification_deliveries (next_attempt_at)
    WHERE state = 'retrying';
CREATE INDEX scheduled_reminders_created_idx ON scheduled_reminders (created_at);

-- Housekeeping jobs run once per deployment (under an advisory lock, by whichever
-- workers process holds it): when each last ran.
CREATE TABLE housekeeping_runs
(
    job         text        NOT NULL PRIMARY KEY,
    last_run_at timestamptz NOT NULL
);
