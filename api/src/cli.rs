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
    },
    /// Create the database when missing and apply pending migrations, then exit.
    Migrate,
    /// Run only the outbox relay (Postgres outbox → NATS JetStream), with the health and
    /// metrics endpoints. Start several: one is active, the others stand by.
    Relay,
    /// Run only the projection workers that keep the read models, with the health and
    /// metrics endpoints. Start several: they share the work.
    Workers,
    /// Print the effective settings (secrets redacted) and exit.
    Config,
    /// The business's owners: how a new deployment gets its first one.
    Owner {
        #[command(subcommand)]
        command: OwnerCommand,
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
