//! Attaching files to what they belong to (a ticket's message, a note, an order's
//! brief or result): the files
//! must be the caller's, uploaded for that purpose, not erased and not attached
//! elsewhere. Whoever may see what a file is attached to may then read it
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

/// Files attached by [`Core::attach_files`].
#[derive(Debug, Default)]
pub(crate) struct Attached {
    /// Every file asked for, in order.
    pub files: Vec<Uuid>,
    /// Those this call attached (the rest already were, to the same).
    pub fresh: Vec<Uuid>,
}

impl Core {
    /// Attaches `files` (at most `limit`) to `kind`/`id`: the files in order, and
    /// those this call attached (attaching again to the same is a no-op, a repeated
    /// request, and only what this call attached is released when it is refused).
    pub(crate) async fn attach_files(
        &self,
        caller: Caller,
        files: &[Uuid],
        purpose: FilePurpose,
        (kind, id): (AttachedTo, &str),
        limit: usize,
    ) -> Result<Attached, CommandError> {
        if files.len() > limit {
            return Err(CommandError::invalid(
                "attachments",
                format!("at most {limit} files"),
            ));
        }
        let mut attached = Attached::default();
        for (index, file_id) in files.iter().enumerate() {
            if files[..index].contains(file_id) {
                return Err(CommandError::invalid(
                    format!("attachments[{index}]"),
                    "each file once",
                ));
            }
            let fresh: Option<bool> = sqlx::query_scalar(
                "WITH target AS ( \
                     SELECT file_id, attached_kind IS NULL AS fresh FROM stored_files \
                     WHERE file_id = $1 AND owner_id = $2 AND purpose = $3 AND erased_at IS NULL \
                       AND (attached_kind IS NULL OR (attached_kind = $4 AND attached_id = $5)) \
                     FOR UPDATE) \
                 UPDATE stored_files AS file SET attached_kind = $4, attached_id = $5 \
                 FROM target WHERE file.file_id = target.file_id RETURNING target.fresh",
            )
            .bind(file_id)
            .bind(caller.user_id)
            .bind(purpose.as_str())
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
            match fresh {
                Some(fresh) => {
                    attached.files.push(*file_id);
                    if fresh {
                        attached.fresh.push(*file_id);
                    }
                }
                None => {
                    // Nothing of this call's may stay tied to what is refused.
                    self.release_files(&attached.fresh, (kind, id)).await;
                    return Err(CommandError::invalid(
                        format!("attachments[{index}]"),
                        format!(
                            "a file you uploaded with purpose {purpose}, not erased and not attached elsewhere"
                        ),
                    ));
                }
            }
        }
        Ok(attached)
    }

    /// Takes `files` off `kind`/`id` again when what they were attached for was not
    /// written (a refused command), so they can be attached once that is fixed. Best
    /// effort: a file left attached to nothing stays its owner's alone.
    pub(crate) async fn release_files(&self, files: &[Uuid], (kind, id): (AttachedTo, &str)) {
        if files.is_empty() {
            return;
        }
        let released = sqlx::query(
            "UPDATE stored_files SET attached_kind = NULL, attached_id = NULL \
             WHERE file_id = ANY($1) AND attached_kind = $2 AND attached_id = $3",
        )
        .bind(files)
        .bind(kind.as_str())
        .bind(id)
        .execute(self.pool())
        .await;
        if let Err(error) = released {
            tracing::warn!(%error, kind = kind.as_str(), id, "files could not be released");
        }
    }
}
