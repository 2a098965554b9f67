-- Reservations of masters' time, written by the same INSERT that stores the booking's
-- event, so two bookings of one master can never overlap, even when placed at the
-- same instant by different processes: the exclusion constraint refuses the second
-- event (SQLSTATE 23P01), and the command service reports it as "slot taken".
-- Cancelling a booking or marking a no-show frees its time.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE booking_slots
(
    order_id  text      NOT NULL PRIMARY KEY,
    master_id uuid      NOT NULL,
    slot      tstzrange NOT NULL,
    CONSTRAINT booking_slots_no_overlap EXCLUDE USING gist (master_id WITH =, slot WITH &&)
);

CREATE FUNCTION events_reserve_booking_slots() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    body json;
BEGIN
    IF NEW.event_type = 'OrderPlaced' THEN
        body := NEW.payload -> 'OrderPlaced' -> 'details';
        IF body ->> 'kind' = 'booking' THEN
            INSERT INTO booking_slots (order_id, master_id, slot)
            VALUES (NEW.aggregate_id,
                    (body ->> 'master_id')::uuid,
                    tstzrange((body -> 'slot' ->> 'start')::timestamptz,
                              (body -> 'slot' ->> 'end')::timestamptz, '[)'));
        END IF;
    ELSIF NEW.event_type = 'BookingRescheduled' THEN
        body := NEW.payload -> 'BookingRescheduled' -> 'to';
        UPDATE booking_slots
        SET slot = tstzrange((body ->> 'start')::timestamptz, (body ->> 'end')::timestamptz, '[)')
        WHERE order_id = NEW.aggregate_id;
    ELSIF NEW.event_type IN ('OrderCancelled', 'NoShowMarked') THEN
        DELETE FROM booking_slots WHERE order_id = NEW.aggregate_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_booking_slots
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Order')
EXECUTE FUNCTION events_reserve_booking_slots();
