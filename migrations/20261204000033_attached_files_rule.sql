-- Files named by an event become what the event is about, in the event's own
-- transaction (a rule that spans aggregates and the files use case's table, decided
-- by the store like 20261203000026_order_executor_rule.sql): a brief's materials
-- (`OrderPlaced` … details.attachments, the customer's) and a result's files
-- (`ResultSubmitted` attachments, the order's executor's) become the order's; a
-- ticket message's files (`MessagePosted` attachments, its author's) the ticket's,
-- or its note's. Each must be its owner's, uploaded for that purpose, not erased,
-- and not attached to anything else; otherwise the event is refused. So no file is
-- ever attached for an event that was not written, and none named by a written
-- event is left unattached. Ids that are not UUIDs (Telegram file ids of messages
-- written before files were kept) are not files of the store and are passed over.
CREATE FUNCTION events_attach_files() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    payload   jsonb := NEW.payload::jsonb;
    named     jsonb;
    owner     uuid;
    wanted_purpose text;
    wanted_kind    text;
    file_text text;
BEGIN
    IF NEW.event_type = 'OrderPlaced' THEN
        named := payload -> 'OrderPlaced' -> 'details' -> 'attachments';
        owner := (payload -> 'OrderPlaced' ->> 'customer_id')::uuid;
        wanted_purpose := 'coursework';
        wanted_kind := 'order';
    ELSIF NEW.event_type = 'ResultSubmitted' THEN
        named := payload -> 'ResultSubmitted' -> 'attachments';
        SELECT (assigned.payload -> 'ExecutorAssigned' ->> 'executor_id')::uuid INTO owner
        FROM events AS assigned
        WHERE assigned.aggregate_type = 'Order'
          AND assigned.aggregate_id = NEW.aggregate_id
          AND assigned.event_type = 'ExecutorAssigned'
        ORDER BY assigned.sequence DESC
        LIMIT 1;
        wanted_purpose := 'coursework';
        wanted_kind := 'order';
    ELSE
        SELECT coalesce(jsonb_agg(attachment -> 'file_id'), '[]'::jsonb) INTO named
        FROM jsonb_array_elements(coalesce(payload -> 'MessagePosted' -> 'attachments', '[]'::jsonb)) AS attachment;
        owner := (payload -> 'MessagePosted' ->> 'author_id')::uuid;
        wanted_purpose := 'ticket';
        wanted_kind := CASE WHEN (payload -> 'MessagePosted' ->> 'internal')::boolean THEN 'ticket_note' ELSE 'ticket' END;
    END IF;
    IF named IS NULL OR jsonb_typeof(named) <> 'array' THEN
        RETURN NULL;
    END IF;
    FOR file_text IN SELECT value FROM jsonb_array_elements_text(named)
    LOOP
        CONTINUE WHEN file_text !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
        UPDATE stored_files
        SET attached_kind = wanted_kind, attached_id = NEW.aggregate_id
        WHERE file_id = file_text::uuid
          AND owner_id = owner
          AND purpose = wanted_purpose
          AND erased_at IS NULL
          AND (attached_kind IS NULL OR (attached_kind = wanted_kind AND attached_id = NEW.aggregate_id));
        IF NOT FOUND THEN
            RAISE EXCEPTION 'file % cannot be attached to % %', file_text, wanted_kind, NEW.aggregate_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'attached_files_are_the_authors';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_attach_files
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN ((NEW.aggregate_type = 'Order' AND NEW.event_type IN ('OrderPlaced', 'ResultSubmitted'))
        OR (NEW.aggregate_type = 'Ticket' AND NEW.event_type = 'MessagePosted'))
EXECUTE FUNCTION events_attach_files();
