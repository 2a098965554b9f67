//! Every projection by name: the one list the workers part starts, the admin status
//! reports and read-your-writes waits on. Checkpoints are stored under these names,
//! so a name never changes.

/// A projection (read model or reaction) of the workers part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProjectionName {
    CreditBalances,
    CreditLots,
    Users,
    TaxLedger,
    Orders,
    Payments,
    Tickets,
    TicketCategories,
    Analytics,
    Notifications,
    LiveUpdates,
    PaymentReactions,
    RefundReactions,
    RefundExecutor,
    LoyaltyCashback,
    MonthlyAllowance,
    GenerationJobs,
    Generations,
}

impl ProjectionName {
    pub const ALL: [ProjectionName; 18] = [
        ProjectionName::CreditBalances,
        ProjectionName::CreditLots,
        ProjectionName::Users,
        ProjectionName::TaxLedger,
        ProjectionName::Orders,
        ProjectionName::Payments,
        ProjectionName::Tickets,
        ProjectionName::TicketCategories,
        ProjectionName::Analytics,
        ProjectionName::Notifications,
        ProjectionName::LiveUpdates,
        ProjectionName::PaymentReactions,
        ProjectionName::RefundReactions,
        ProjectionName::RefundExecutor,
        ProjectionName::LoyaltyCashback,
        ProjectionName::MonthlyAllowance,
        ProjectionName::GenerationJobs,
        ProjectionName::Generations,
    ];

    /// The stored name (of its checkpoints, durable consumer and metrics).
    pub const fn as_str(self) -> &'static str {
        match self {
            ProjectionName::CreditBalances => "credit_balances",
            ProjectionName::CreditLots => "credit_lots",
            ProjectionName::Users => "users",
            ProjectionName::TaxLedger => "tax_ledger",
            ProjectionName::Orders => "orders",
            ProjectionName::Payments => "payments",
            ProjectionName::Tickets => "tickets",
            ProjectionName::TicketCategories => "ticket_categories",
            ProjectionName::Analytics => "analytics",
            ProjectionName::Notifications => "notifications",
            ProjectionName::LiveUpdates => "live_updates",
            ProjectionName::PaymentReactions => "payment_reactions",
            ProjectionName::RefundReactions => "refund_reactions",
            ProjectionName::RefundExecutor => "refund_executor",
            ProjectionName::LoyaltyCashback => "loyalty_cashback",
            ProjectionName::MonthlyAllowance => "monthly_allowance",
            ProjectionName::GenerationJobs => "generation_jobs",
            ProjectionName::Generations => "generation_reactions",
        }
    }

    /// The projection stored under `name`.
    pub fn named(name: &str) -> Option<ProjectionName> {
        Self::ALL
            .into_iter()
            .find(|projection| projection.as_str() == name)
    }
}

impl std::fmt::Display for ProjectionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProjectionName;

    #[test]
    fn names_are_unique_and_found_again() {
        let mut names: Vec<&str> = ProjectionName::ALL.iter().map(|p| p.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ProjectionName::ALL.len());
        for projection in ProjectionName::ALL {
            assert_eq!(ProjectionName::named(projection.as_str()), Some(projection));
        }
    }
}
