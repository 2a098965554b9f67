-- Desktop sign-in for staff: the desktop asks for a code, shows it as a t.me link
-- and a QR code, the staff member confirms it in the bot, and the desktop collects
-- the tokens once with the secret only it was given. Not a read model: no event
-- feeds it. Codes and secrets are stored as SHA-256 digests.
CREATE TABLE auth_login_codes
(
    code_hash      bytea       NOT NULL PRIMARY KEY,
    secret_hash    bytea       NOT NULL,
    -- what the bot shows when asking to confirm: the desktop's address and browser
    requested_from text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    confirmed_by   uuid,
    confirmed_at   timestamptz,
    consumed_at    timestamptz
);

CREATE INDEX auth_login_codes_expiry_idx ON auth_login_codes (expires_at);
