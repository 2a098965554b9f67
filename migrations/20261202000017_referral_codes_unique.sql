-- A referral code belongs to one user. Codes are derived from the user id (40 bits),
-- so two users can draw the same one; the store refuses the second registration
-- (`referral_code_taken`) and the sign-in registers again with a longer random code.
-- Registrations of one code are decided one after the other (the advisory lock), so
-- two at once cannot both pass.
CREATE FUNCTION events_check_referral_code() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    code text := NEW.payload -> 'UserRegistered' ->> 'referral_code';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('referral_code:' || code, 0));
    PERFORM 1 FROM user_directory
    WHERE referral_code = code AND user_id <> NEW.aggregate_id::uuid;
    IF FOUND THEN
        RAISE EXCEPTION 'the referral code % is taken', code
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'referral_code_taken';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_referral_code
    AFTER INSERT
    ON events
    FOR EACH ROW
    WHEN (NEW.aggregate_type = 'User' AND NEW.event_type = 'UserRegistered')
EXECUTE FUNCTION events_check_referral_code();

-- The read model follows the store: a code two users drew before this rule (kept in
-- their events forever) no longer parks the second one's registration.
DROP INDEX rm_users_referral_code_key;
CREATE INDEX rm_users_referral_code_idx ON rm_users (referral_code);
