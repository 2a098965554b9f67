-- projection "notifications": the kind of an order it remembers (coursework, shop,
-- booking), so a staff notice can say whether the order is one to hand out; null
-- for tickets and payments, and for orders remembered before this column.
ALTER TABLE notification_parties ADD COLUMN kind text;
