use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerGrantCommand {
    /// Promise the owner role to Telegram account `telegram_id`. Repeating it changes
    /// nothing.
    Grant { telegram_id: i64, reason: String },
    /// The grant took effect on `user_id`, the account's user. Repeating it changes
    /// nothing.
    MarkApplied { user_id: Uuid },
}

impl crate::command::Targeted for OwnerGrantCommand {
    fn target_id(&self) -> Option<String> {
        match self {
            OwnerGrantCommand::Grant { telegram_id, .. } => Some(telegram_id.to_string()),
            OwnerGrantCommand::MarkApplied { .. } => None,
        }
    }
}
