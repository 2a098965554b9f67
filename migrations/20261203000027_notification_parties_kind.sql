-- projection "notifications": the kind of an order it remembers (coursework, shop,
-- booking), so a staff notice can say whether the order is one to hand out; null
-- for tickets and payments. Orders remembered before this column get theirs from
-- their OrderPlaced (what the projection would have written).
ALTER TABLE notification_parties ADD COLUMN kind text;

UPDATE notification_parties p
SET kind = e.payload -> 'OrderPlaced' -> 'details' ->> 'kind'
FROM events e
WHERE p.aggregate_type = 'Order'
  AND e.aggregate_type = 'Order'
  AND e.aggregate_id = p.aggregate_id
  AND e.sequence = 1
  AND e.event_type = 'OrderPlaced';
