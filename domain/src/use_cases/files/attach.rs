//! Attaching files to what they belong to (a ticket's message, a note): the files
//! must be the caller's, uploaded for that purpose, not erased and not attached
//! elsewhere. Whoever may see what a file is attached to may then read it
//! (`projections::read_models::files`).

use uuid::Uuid;

use crate::command::CommandError;
use crate::files::FilePurpose;
use crate::permissions::Caller;
use crate::use_cases::Core;

/// The most files one message takes.
pub const MAX_ATTACHED: usize = 10;

impl Core {
    /// Attaches `files` to `kind`/`id`; the files, in order. Attaching again to the
    /// same is a no-op (a repeated request).
    pub(crate) async fn attach_files(
        &self,
        caller: Caller,
        files: &[Uuid],
        purpose: FilePurpose,
        kind: &str,
        id: &str,
    ) -> Result<Vec<Uuid>, CommandError> {
        if files.len() > MAX_ATTACHED {
            return Err(CommandError::invalid("attachments", "at most 10 files"));
        }
        for (index, file_id) in files.iter().enumerate() {
            if files[..index].contains(file_id) {
                return Err(CommandError::invalid(
                    format!("attachments[{index}]"),
                    "each file once",
                ));
            }
            let attached = sqlx::query(
                "UPDATE stored_files SET attached_kind = $4, attached_id = $5 \
                 WHERE file_id = $1 AND owner_id = $2 AND purpose = $3 AND erased_at IS NULL \
                   AND (attached_kind IS NULL OR (attached_kind = $4 AND attached_id = $5))",
            )
            .bind(file_id)
            .bind(caller.user_id)
            .bind(purpose.as_str())
            .bind(kind)
            .bind(id)
            .execute(self.pool())
            .await?;
            if attached.rows_affected() != 1 {
                return Err(CommandError::invalid(
                    format!("attachments[{index}]"),
                    format!(
                        "a file you uploaded with purpose {purpose}, not erased and not attached elsewhere"
                    ),
                ));
            }
        }
        Ok(files.to_vec())
    }
}
