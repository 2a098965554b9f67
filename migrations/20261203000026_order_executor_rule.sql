-- A rule that spans aggregates, decided by the store in the transaction of the event
-- (like the rules of 20261202000014_write_side_guards.sql): an order's executor
-- (`ExecutorAssigned`, given by staff or taken from the pool) is someone whose role
-- works on orders (an executor, an admin or an owner: who may start work) and who is
-- not blocked. FOR SHARE waits for a role change or a block in flight and reads its
-- outcome, so a taker demoted or blocked meanwhile is refused too.
CREATE FUNCTION events_check_order_executor() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM 1 FROM user_directory
    WHERE user_id = (NEW.payload -> 'ExecutorAssigned' ->> 'executor_id')::uuid
      AND role IN ('executor', 'admin', 'owner')
      AND NOT blocked
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the executor % may not work on orders', NEW.payload -> 'ExecutorAssigned' ->> 'executor_id'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_executor_works_on_orders';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_order_executor
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'Order' AND NEW.event_type = 'ExecutorAssigned')
EXECUTE FUNCTION events_check_order_executor();
