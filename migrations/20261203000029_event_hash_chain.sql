-- Tamper evidence: every event carries a hash that chains it to the previous event
-- of its aggregate. The database computes it at insert (a client's value is ignored),
-- so no writer can forget it; `ledgerbot replay verify` recomputes every chain outside
-- the database and `ledgerbot replay checkpoint` signs every aggregate's head, which
-- catches what a chain alone cannot see (a whole stream or a last event removed).
--
-- hash(n) = sha256( hash(n-1)            -- 32 zero bytes for the first event (an insert
--                                           whose previous event is missing is refused;
--                                           the backfill chains one after a gap to zeros)
--                 || field(aggregate_type) || field(aggregate_id) || int8(sequence)
--                 || field(event_type) || field(event_version)
--                 || field(payload) || field(metadata)      -- the JSON text as stored
--                 || int8(global_position)
--                 || int8(recorded_at in microseconds since 1970-01-01 UTC) )
-- where int8(x) is x as 8 big-endian bytes and field(t) is int8(byte length of t in
-- UTF-8) followed by those bytes. The same definition lives in
-- replay/src/chain.rs; a test keeps the two equal.

CREATE FUNCTION events_hash_field(value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT int8send(octet_length(value)::bigint) || convert_to(value, 'UTF8') $$;

CREATE FUNCTION events_hash(previous bytea, event events) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$
SELECT sha256(
    coalesce(previous, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    || events_hash_field(event.aggregate_type)
    || events_hash_field(event.aggregate_id)
    || int8send(event.sequence)
    || events_hash_field(event.event_type)
    || events_hash_field(event.event_version)
    || events_hash_field(event.payload::text)
    || events_hash_field(event.metadata::text)
    || int8send(event.global_position)
    || int8send((extract(epoch FROM event.recorded_at) * 1000000)::bigint))
$$;

ALTER TABLE events ADD COLUMN hash bytea;

-- Existing events get their chain once, oldest sequence first within each aggregate.
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO
$$
DECLARE
    event         events;
    previous      bytea;
    last_type     text;
    last_id       text;
    last_sequence bigint;
BEGIN
    FOR event IN SELECT * FROM events ORDER BY aggregate_type, aggregate_id, sequence
        LOOP
            -- As at insert: a first event, or one whose previous event is missing,
            -- chains to zeros.
            IF event.aggregate_type IS DISTINCT FROM last_type OR event.aggregate_id IS DISTINCT FROM last_id
                OR event.sequence IS DISTINCT FROM last_sequence + 1 THEN
                previous := NULL;
            END IF;
            previous := events_hash(previous, event);
            UPDATE events
            SET hash = previous
            WHERE aggregate_type = event.aggregate_type
              AND aggregate_id = event.aggregate_id
              AND sequence = event.sequence;
            last_type := event.aggregate_type;
            last_id := event.aggregate_id;
            last_sequence := event.sequence;
        END LOOP;
END;
$$;
ALTER TABLE events ENABLE TRIGGER events_append_only;

ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

CREATE FUNCTION events_chain() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    previous bytea;
BEGIN
    -- Earlier rows of the same INSERT are visible here, so a command's events chain
    -- to each other.
    SELECT hash
    INTO previous
    FROM events
    WHERE aggregate_type = NEW.aggregate_type
      AND aggregate_id = NEW.aggregate_id
      AND sequence = NEW.sequence - 1;
    -- An aggregate's events are numbered 1, 2, 3 …; one that follows nothing would
    -- leave a gap every verify reports for ever.
    IF previous IS NULL AND NEW.sequence > 1 THEN
        RAISE EXCEPTION 'event #% of % % follows no event #%', NEW.sequence, NEW.aggregate_type,
            NEW.aggregate_id, NEW.sequence - 1
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'events_follow_each_other';
    END IF;
    NEW.hash := events_hash(previous, NEW);
    RETURN NEW;
END;
$$;

-- The names inside resolve where the migrations created them, whoever inserts.
ALTER FUNCTION events_chain() SET search_path FROM CURRENT;

CREATE TRIGGER events_hash_chain
    BEFORE INSERT
    ON events
    FOR EACH ROW
EXECUTE FUNCTION events_chain();
