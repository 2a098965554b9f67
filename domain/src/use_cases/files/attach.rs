//! Files attached to what they belong to (a ticket's message, a note, an order's
//! brief or result). The store attaches them in the transaction of the event that
//! names them (`migrations/…_attached_files_rule.sql`, constraint
//! `attached_files_are_the_authors`): each must be its author's, uploaded for that
//! purpose, not erased and not attached elsewhere. Here the same is checked first,
//! without writing, so a refusal names the file at fault (`attachments[i]`);
//! whoever may see what a file is attached to may then read it
//! (`projections::read_models::files`).

use uuid::Uuid;

use crate::command::CommandError;
use crate::files::FilePurpose;
use crate::permissions::Caller;
use crate::use_cases::Core;

/// The most files one ticket message takes.
pub const MAX_ATTACHED: usize = 10;

/// What files are attached to: the kind's name in `stored_files.attached_kind`, and
/// what may read them there (`projections::read_models::files`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachedTo {
    /// A ticket's message: the ticket's parties.
    TicketMessage,
    /// An internal note on a ticket: its staff.
    TicketNote,
    /// An order's brief or result: whoever may see the order.
    Order,
}

impl AttachedTo {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TicketMessage => "ticket",
            Self::TicketNote => "ticket_note",
            Self::Order => "order",
        }
    }
}

impl Core {
    /// Checks that `files` (at most `limit`, each once) may be attached to
    /// `kind`/`id` by `caller`: their own, uploaded for `purpose`, not erased, and not
    /// attached to anything else (attached to the same already is a repeat). Nothing
    /// is written: the event that names them attaches them.
    pub(crate) async fn check_attachable(
        &self,
        caller: Caller,
        files: &[Uuid],
        purpose: FilePurpose,
        (kind, id): (AttachedTo, &str),
        limit: usize,
    ) -> Result<(), CommandError> {
        if files.len() > limit {
            return Err(CommandError::invalid(
                "attachments",
                format!("at most {limit} files"),
            ));
        }
        for (index, file_id) in files.iter().enumerate() {
            if files[..index].contains(file_id) {
                return Err(CommandError::invalid(
                    format!("attachments[{index}]"),
                    "each file once",
                ));
            }
            let attachable: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM stored_files \
                 WHERE file_id = $1 AND owner_id = $2 AND purpose = $3 AND erased_at IS NULL \
                   AND (attached_kind IS NULL OR (attached_kind = $4 AND attached_id = $5)))",
            )
            .bind(file_id)
            .bind(caller.user_id)
            .bind(purpose.as_str())
            .bind(kind.as_str())
            .bind(id)
            .fetch_one(self.pool())
            .await?;
            if !attachable {
                return Err(CommandError::invalid(
                    format!("attachments[{index}]"),
                    format!(
                        "a file you uploaded with purpose {purpose}, not erased and not attached elsewhere"
                    ),
                ));
            }
        }
        Ok(())
    }
}
