-- The dialogue step a private chat was at before its update first moved it on
-- (kept by bot::dialogue in the statement that moves it): an update handled again
-- (after a crash or an outage) starts from that step, so it takes the path it took
-- the first time and its commands, done once under the update's key, are found
-- instead of run anew.
ALTER TABLE bot_updates
    ADD COLUMN dialogue_kept   boolean NOT NULL DEFAULT false,
    ADD COLUMN dialogue_before jsonb;
