//! The `ledgerbot` command line.

use clap::{Parser, Subcommand};

/// Ledgerbot: the event-sourced back office of businesses that live in Telegram.
///
/// Settings come from the environment and an optional .env file (see .env.example);
/// every one has a default for a local setup.
#[derive(Debug, Parser)]
#[command(name = "ledgerbot", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the product: migrate, then serve HTTP (health, metrics), run the outbox relay
    /// and the projection workers. Parts can be switched off to run them on separate
    /// machines.
    Serve {
        /// Do not run the outbox relay in this process (run `ledgerbot relay` elsewhere).
        #[arg(long)]
        no_relay: bool,
        /// Do not run the projection workers in this process (run `ledgerbot workers`
        /// elsewhere).
        #[arg(long)]
        no_workers: bool,
        /// Do not run the Telegram bot in this process (run `ledgerbot bot` elsewhere).
        #[arg(long)]
        no_bot: bool,
    },
    /// Create the database when missing and apply pending migrations, then exit.
    Migrate,
    /// Run only the outbox relay (Postgres outbox → NATS JetStream), with the health and
    /// metrics endpoints. Start several: one is active, the others stand by.
    Relay,
    /// Run only the projection workers that keep the read models, with the health and
    /// metrics endpoints. Start several: they share the work.
    Workers,
    /// Run only the Telegram bot (long polling, handling updates, delivering
    /// notifications), with the health and metrics endpoints. Start several: one is
    /// active, the others stand by.
    Bot,
    /// Print the effective settings (secrets redacted) and exit.
    Config,
    /// The business's owners: how a new deployment gets its first one.
    Owner {
        #[command(subcommand)]
        command: OwnerCommand,
    },
    /// Events a projection set aside because they can never apply as they are (an
    /// undecodable event, a permanent refusal, a bug): list them, and try them again
    /// after a fix. Events that failed for a reason that may pass are never parked;
    /// `/admin/status` shows them as retrying.
    Parked {
        #[command(subcommand)]
        command: ParkedCommand,
    },
    /// The auditor's tool: what the event store holds, read straight from it.
    Replay {
        #[command(subcommand)]
        command: ReplayCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReplayCommand {
    /// Every event of one aggregate, oldest first: sequence, store-wide position,
    /// time, type and version, actor, causation, request, payload. Exits 2 for an
    /// unknown aggregate type, 1 when the store holds none of that id.
    History {
        /// Order, Payment, CreditAccount, Ticket, User, OwnerGrant or TicketCategory.
        aggregate_type: String,
        /// The aggregate's id (an order's UUID, a credit account's user id …).
        aggregate_id: String,
        /// One JSON object per event, per line (with the metadata), instead of text.
        #[arg(long)]
        json: bool,
    },
    /// One aggregate as of a point, folded from its stored events through the
    /// aggregate's own code: what it looked like then.
    State {
        aggregate_type: String,
        aggregate_id: String,
        /// A store position (an integer, as `history` shows) or an RFC 3339 time
        /// (`2026-03-01T00:00:00+03:00`).
        #[arg(long)]
        at: String,
        /// One JSON line instead of indented JSON.
        #[arg(long)]
        json: bool,
    },
    /// What changed in one aggregate between two points (positions or RFC 3339
    /// times): the events in between and each field before and after.
    Diff {
        aggregate_type: String,
        aggregate_id: String,
        from: String,
        to: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Build a read model again from the event store into tables beside the live
    /// ones, while the service keeps serving; catch up with what arrived meanwhile
    /// and switch readers to it atomically, dropping the old tables. Reactions and
    /// the live feed are never rebuilt. With --verify, compare with the live tables
    /// row for row instead of switching (exit 1 when they differ).
    Rebuild {
        /// A read model (`orders`, `payments` … as `/admin/status` names them) or
        /// `all`.
        projection: String,
        /// Compare the rebuild with the live tables and report each difference
        /// (table, key, column, live value, rebuilt value); switch nothing.
        #[arg(long)]
        verify: bool,
        /// One JSON object per projection, per line, instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export events for an auditor, or the tax ledger and the receipts register for
    /// the accountant (cells that look like formulas are neutralised).
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Create or update a read-only database role for analysts: it can read every
    /// read-model table and view (the README's data dictionary) and nothing else.
    /// Run it again after an upgrade to cover new tables.
    AnalystRole {
        /// The role's name (lower-case letters, digits, _).
        name: String,
        /// Let the role log in, with the password in this environment variable
        /// (never on the command line); without it the role is a group to grant
        /// to people.
        #[arg(long)]
        password_env: Option<String>,
        /// One JSON object (the role and what it may read) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Recompute every aggregate's hash chain from the stored columns and report each
    /// broken link and each missing event (aggregate and sequence); with a checkpoint,
    /// also each stream, tail or head missing or rewritten since it was made; and
    /// every outbox, parked or projection checkpoint row that names an event the store
    /// lacks. Exits 1 on any finding.
    Verify {
        /// A checkpoint file written by `replay checkpoint`; its signature is checked
        /// first, against --public-key.
        #[arg(long, requires = "public_key")]
        against: Option<std::path::PathBuf>,
        /// The public key (hex, as `replay keygen` printed it) the checkpoint must be
        /// signed with: the one the auditor kept, never the one the file names (who
        /// can rewrite the database can also sign a checkpoint of their own).
        #[arg(long, requires = "against")]
        public_key: Option<String>,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify every chain, then write every aggregate's head (count, last sequence,
    /// last hash) signed with the key, for the auditor to keep outside the database.
    /// Writes nothing (exit 1) when a chain is broken.
    Checkpoint {
        /// The signing key made by `replay keygen`.
        #[arg(long)]
        key: std::path::PathBuf,
        /// Where to write the checkpoint (JSON Lines).
        #[arg(long)]
        out: std::path::PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make an Ed25519 signing key for checkpoints at a new file (readable by its
    /// owner only) and print its public key.
    Keygen {
        /// The key file to create (never overwritten).
        out: std::path::PathBuf,
        /// One JSON object (the key file and the public key) instead of the key alone.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The events of a range, oldest first, streamed: position, time, aggregate,
    /// sequence, type, version, metadata, payload (as stored) and hash.
    Events {
        /// From this store position or RFC 3339 time (included).
        #[arg(long)]
        from: Option<String>,
        /// Up to this store position or RFC 3339 time (excluded).
        #[arg(long)]
        to: Option<String>,
        /// Only this aggregate type (Order, Payment, CreditAccount …).
        #[arg(long = "type")]
        aggregate_type: Option<String>,
        /// Only this aggregate (its id).
        #[arg(long = "id")]
        aggregate_id: Option<String>,
        /// jsonl (one JSON object per line) or csv.
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// A file to write; standard output without it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// With --out: one JSON object (the file and how many events) instead of a
        /// line on stderr.
        #[arg(long, requires = "out")]
        json: bool,
    },
    /// The NPD tax ledger of a year (2026) or a month (2026-11): xlsx with the
    /// monthly totals and every line, or csv (the lines at --out, the totals beside
    /// it as <name>.months.csv).
    TaxLedger {
        period: String,
        /// xlsx or csv.
        #[arg(long, default_value = "xlsx")]
        format: String,
        #[arg(long)]
        out: std::path::PathBuf,
        /// One JSON object (the files and rows written) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The receipts register of a month (2026-11) for «Мой налог»: keep, annul, or
    /// annul and reissue each receipt.
    Receipts {
        month: String,
        /// xlsx or csv.
        #[arg(long, default_value = "xlsx")]
        format: String,
        #[arg(long)]
        out: std::path::PathBuf,
        /// One JSON object (the files and rows written) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ParkedCommand {
    /// List parked events, oldest first: projection, aggregate, sequence, when, error.
    List {
        /// Only this projection's (as `/admin/status` names them, e.g. `orders`).
        projection: Option<String>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Apply a projection's parked events again, from the event store; each one that
    /// applies is no longer parked, each one that fails again stays with its new error.
    /// Exits 1 when any failed again.
    Retry {
        /// The projection (e.g. `orders`).
        projection: String,
        /// Only this aggregate's parked events (its id, e.g. an order's UUID).
        aggregate_id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// Grant the owner role to a Telegram account, recorded as an event with the
    /// reason. Works before the person ever signed in: it takes effect at their first
    /// sign-in or /start. Granting again changes nothing.
    Grant {
        /// The person's Telegram user id (a number; @userinfobot tells it).
        telegram_id: i64,
        /// Why (kept with the grant in the event store), e.g. "founder".
        #[arg(long)]
        reason: String,
    },
}
