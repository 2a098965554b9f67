-- The salon's booking rules that span orders, decided by the store in the transaction
-- of the event that would break them (see 20261202000014_write_side_guards.sql):
--
-- * a customer holds at most `max_unpaid` unpaid, not cancelled bookings at once
--   (`too_many_unpaid_bookings`). The limit is the one the new booking was made
--   under: its `OrderPlaced` carries its terms (`terms.max_unpaid`, from the
--   configuration of the process that placed it), so there is no settings table to
--   keep in step with the configuration, and the rule each booking was checked
--   against stays in the log.
--
-- `unpaid_bookings` is the write side's own memory of the bookings that hold a slot
-- unpaid, kept by this trigger alone with each event: a booking enters with its
-- `OrderPlaced` and leaves when it is paid, cancelled, completed or marked a no-show.
-- The scheduler reads it for holds that have passed (`hold_until`) and asks the Order
-- aggregate to release them; the aggregate decides.

-- Writers wait while the table is filled from the store and its trigger created, so
-- no event falls between the backfill and the trigger.
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE unpaid_bookings
(
    order_id    text NOT NULL PRIMARY KEY,
    customer_id uuid NOT NULL,
    -- when the scheduler releases it; NULL for bookings made before the rules
    -- (never released by it)
    hold_until  timestamptz,
    -- the slot's end: a booking whose slot is over no longer counts against the limit
    -- (one never marked completed or a no-show would otherwise count for ever)
    slot_end    timestamptz
);

CREATE INDEX unpaid_bookings_customer_idx ON unpaid_bookings (customer_id);
CREATE INDEX unpaid_bookings_hold_idx ON unpaid_bookings (hold_until) WHERE hold_until IS NOT NULL;

-- Only bookings still to come: one whose slot is over holds nothing.
INSERT INTO unpaid_bookings (order_id, customer_id, hold_until, slot_end)
SELECT placed.aggregate_id,
       (placed.payload -> 'OrderPlaced' ->> 'customer_id')::uuid,
       (placed.payload -> 'OrderPlaced' -> 'terms' ->> 'hold_until')::timestamptz,
       (placed.payload -> 'OrderPlaced' -> 'details' -> 'slot' ->> 'end')::timestamptz
FROM events placed
WHERE placed.aggregate_type = 'Order'
  AND placed.event_type = 'OrderPlaced'
  AND placed.payload -> 'OrderPlaced' -> 'details' ->> 'kind' = 'booking'
  AND (placed.payload -> 'OrderPlaced' -> 'details' -> 'slot' ->> 'end')::timestamptz > now()
  AND NOT EXISTS (SELECT 1
                  FROM events later
                  WHERE later.aggregate_type = 'Order'
                    AND later.aggregate_id = placed.aggregate_id
                    AND later.event_type IN ('OrderPaid', 'OrderCancelled', 'OrderCompleted', 'NoShowMarked'))
ON CONFLICT DO NOTHING;

CREATE FUNCTION events_keep_unpaid_bookings() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    body     json;
    customer uuid;
    limit_of bigint;
    held     bigint;
BEGIN
    IF NEW.event_type = 'OrderPlaced' THEN
        body := NEW.payload -> 'OrderPlaced';
        IF body -> 'details' ->> 'kind' IS DISTINCT FROM 'booking' THEN
            RETURN NULL;
        END IF;
        customer := (body ->> 'customer_id')::uuid;
        limit_of := (body -> 'terms' ->> 'max_unpaid')::bigint;
        IF limit_of IS NOT NULL THEN
            -- One customer's placements are decided one after the other: the second
            -- counts with the first committed (READ COMMITTED: the count below takes
            -- its snapshot after the lock is granted).
            PERFORM pg_advisory_xact_lock(hashtextextended('unpaid_bookings:' || customer::text, 0));
            SELECT count(*) INTO held FROM unpaid_bookings
            WHERE customer_id = customer AND (slot_end IS NULL OR slot_end > now());
            IF held >= limit_of THEN
                RAISE EXCEPTION 'the customer % already holds % unpaid bookings', customer, held
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'too_many_unpaid_bookings';
            END IF;
        END IF;
        INSERT INTO unpaid_bookings (order_id, customer_id, hold_until, slot_end)
        VALUES (NEW.aggregate_id, customer, (body -> 'terms' ->> 'hold_until')::timestamptz,
                (body -> 'details' -> 'slot' ->> 'end')::timestamptz)
        ON CONFLICT (order_id) DO NOTHING;
    ELSIF NEW.event_type = 'BookingRescheduled' THEN
        UPDATE unpaid_bookings
        SET slot_end = (NEW.payload -> 'BookingRescheduled' -> 'to' ->> 'end')::timestamptz
        WHERE order_id = NEW.aggregate_id;
    ELSE
        DELETE FROM unpaid_bookings WHERE order_id = NEW.aggregate_id;
    END IF;
    RETURN NULL;
END;
$$;

-- Named to fire before events_booking_master and events_booking_slots (AFTER triggers
-- fire in name order), so one customer's placements are serialized by the advisory
-- lock before either reserves a slot: the lock is always taken first, and two of one
-- customer's bookings never wait on each other's slot.
CREATE TRIGGER events_booking_holds
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Order'
        AND NEW.event_type IN ('OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderCompleted', 'NoShowMarked',
                               'BookingRescheduled'))
EXECUTE FUNCTION events_keep_unpaid_bookings();
