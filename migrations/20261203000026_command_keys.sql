-- Commands done once under a key (domain::command::once): an entry point that may
-- handle the same input twice (the bot, an update after an outage) records the key
-- in the events' metadata as `command_key`; a repeat looks it up on its aggregate.
-- Partial, so events without a key (most of them) cost nothing here.
CREATE INDEX events_command_key_idx
    ON events (aggregate_type, aggregate_id, (metadata ->> 'command_key'))
    WHERE (metadata ->> 'command_key') IS NOT NULL;
