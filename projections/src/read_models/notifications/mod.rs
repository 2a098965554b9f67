//! Notifications (`rm_notifications`): for every event, who is told what. A row
//! names the recipient (a user, or the staff group), a template and its parameters;
//! the bot renders the template in the recipient's language, sends it, and marks the
//! row sent. Deciding is here; sending exactly once is the bot's job.
//!
//! A row's id is the causing event's message id plus the recipient, so a redelivered
//! event decides the same rows again and they are kept once. This projection is the
//! only writer of `rm_notifications`: the scheduler's reminders have their own table
//! ([`reminders`]) and delivery state its own ([`deliveries`], the bot's sender's), so
//! a rebuild neither loses reminders nor resends what was delivered. The projection keeps
//! its own memory of each order's, ticket's and payment's people
//! (`notification_parties`), so it never waits on another projection.

use domain::credit::{CreditEvent, GrantReason};
use domain::order::{OrderDetails, OrderEvent};
use domain::payment::{PaymentEvent, RefundCause};
use domain::ticket::TicketEvent;
use domain::user::UserEvent;
use domain::wire::wire_name;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub mod deliveries;
pub mod reminders;

pub struct Notifications;

/// Who a notification goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    User(Uuid),
    StaffGroup,
}

impl Recipient {
    fn key(self) -> String {
        match self {
            Recipient::User(id) => id.to_string(),
            Recipient::StaffGroup => "staff".to_owned(),
        }
    }
}

/// One decided notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub recipient: Recipient,
    pub template: &'static str,
    pub params: Value,
}

fn notice(recipient: Recipient, template: &'static str, params: Value) -> Notice {
    Notice {
        recipient,
        template,
        params,
    }
}

/// The people of one order, ticket or payment, as this projection remembers them.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Parties {
    customer_id: Uuid,
    assignee_id: Option<Uuid>,
    title: String,
    /// An order's kind.
    kind: Option<String>,
}

async fn parties(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Option<Parties>, ApplyError> {
    Ok(sqlx::query_as(
        "SELECT customer_id, assignee_id, title, kind FROM notification_parties \
         WHERE aggregate_type = $1 AND aggregate_id = $2",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .fetch_optional(connection)
    .await?)
}

async fn remember(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    customer_id: Uuid,
    title: &str,
    kind: Option<&str>,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO notification_parties (aggregate_type, aggregate_id, customer_id, title, kind) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(customer_id)
    .bind(title)
    .bind(kind)
    .execute(connection)
    .await?;
    Ok(())
}

async fn assign(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    assignee_id: Uuid,
) -> Result<(), ApplyError> {
    sqlx::query(
        "UPDATE notification_parties SET assignee_id = $3 WHERE aggregate_type = $1 AND aggregate_id = $2",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(assignee_id)
    .execute(connection)
    .await?;
    Ok(())
}

async fn order_notices(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Vec<Notice>, ApplyError> {
    use OrderEvent as E;
    use Recipient::{StaffGroup, User};
    let decoded: OrderEvent = event.decode()?;
    if let E::OrderPlaced {
        customer_id,
        details,
        ..
    } = &decoded
    {
        let (title, extra) = match details {
            OrderDetails::Coursework(brief) => {
                (brief.subject.clone(), json!({"deadline": brief.deadline}))
            }
            OrderDetails::Shop { lines, total, .. } => (
                lines
                    .first()
                    .map(|line| line.name.clone())
                    .unwrap_or_default(),
                json!({"items": lines.len(), "total": total}),
            ),
            OrderDetails::Booking {
                service_name,
                master_id,
                slot,
                ..
            } => (
                service_name.clone(),
                json!({"master_id": master_id, "starts_at": slot.start}),
            ),
        };
        let kind = wire_name(&details.kind());
        remember(connection, event, *customer_id, &title, Some(&kind)).await?;
        if let OrderDetails::Booking { master_id, .. } = details {
            assign(connection, event, *master_id).await?;
        }
        let params =
            json!({"order_id": event.aggregate_id, "title": title, "kind": kind, "details": extra});
        let mut notices = vec![
            notice(User(*customer_id), "order_placed", params.clone()),
            notice(StaffGroup, "staff_new_order", params.clone()),
        ];
        if let OrderDetails::Booking { master_id, .. } = details {
            notices.push(notice(User(*master_id), "master_new_booking", params));
        }
        return Ok(notices);
    }
    let Some(parties) = parties(connection, event).await? else {
        return Err(ApplyError::Decode(format!(
            "order {} has no OrderPlaced before {}",
            event.aggregate_id, event.event_type
        )));
    };
    let customer = User(parties.customer_id);
    let executor = parties.assignee_id.map(User);
    let base = |extra: Value| {
        let mut params = json!({"order_id": event.aggregate_id, "title": parties.title});
        if let (Some(target), Value::Object(more)) = (params.as_object_mut(), extra) {
            target.extend(more);
        }
        params
    };
    let to_executor = |template, params: Value| executor.map(|who| notice(who, template, params));
    Ok(match decoded {
        E::OrderPlaced { .. }
        | E::InternalNoteAdded { .. }
        | E::WorkStarted { .. }
        | E::RefundRecorded { .. }
        | E::PaymentOpened { .. }
        | E::PaymentReleased { .. } => vec![],
        E::PriceQuoted { price, .. } => vec![notice(
            customer,
            "order_quoted",
            base(json!({"price": price})),
        )],
        E::QuoteAccepted { .. } => {
            vec![notice(StaffGroup, "staff_quote_accepted", base(json!({})))]
        }
        E::OrderPaid { amount, .. } => vec![
            notice(customer, "order_paid", base(json!({"amount": amount}))),
            notice(
                StaffGroup,
                "staff_order_paid",
                base(
                    json!({"amount": amount, "kind": parties.kind, "assigned": parties.assignee_id.is_some()}),
                ),
            ),
        ],
        E::ExecutorAssigned { executor_id, .. } => {
            assign(connection, event, executor_id).await?;
            vec![
                notice(
                    User(executor_id),
                    "executor_order_assigned",
                    base(json!({})),
                ),
                notice(customer, "order_executor_assigned", base(json!({}))),
            ]
        }
        E::ResultSubmitted { files, .. } => {
            vec![notice(
                customer,
                "order_result_ready",
                base(json!({"files": files.len()})),
            )]
        }
        E::RevisionRequested { reason, revision } => to_executor(
            "executor_revision_requested",
            base(json!({"reason": reason, "revision": revision})),
        )
        .into_iter()
        .collect(),
        E::ResultAccepted { .. } => to_executor("executor_result_accepted", base(json!({})))
            .into_iter()
            .collect(),
        E::OrderShipped { tracking } => {
            vec![notice(
                customer,
                "order_shipped",
                base(json!({"tracking": tracking})),
            )]
        }
        E::DeliveryConfirmed { .. } => vec![],
        E::OrderCompleted { .. } => vec![notice(
            customer,
            "order_completed_ask_review",
            base(json!({})),
        )],
        // The refund, if any, is announced by the payment with the amount actually
        // requested (`refund_requested`).
        E::OrderCancelled { reason, .. } => {
            let params = base(json!({"reason": reason}));
            let mut notices = vec![notice(customer, "order_cancelled", params.clone())];
            notices.extend(to_executor("executor_order_cancelled", params));
            notices
        }
        E::BookingRescheduled { to, .. } => {
            let params = base(json!({"starts_at": to.start}));
            let mut notices = vec![notice(customer, "booking_rescheduled", params.clone())];
            notices.extend(to_executor("master_booking_rescheduled", params));
            notices
        }
        E::NoShowMarked { .. } => vec![notice(StaffGroup, "staff_no_show", base(json!({})))],
        E::OrderReviewed { stars, text } => {
            let params = base(json!({"stars": stars, "text": text}));
            let mut notices = vec![notice(StaffGroup, "staff_order_reviewed", params.clone())];
            notices.extend(to_executor("executor_order_reviewed", params));
            notices
        }
    })
}

async fn ticket_notices(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Vec<Notice>, ApplyError> {
    use Recipient::{StaffGroup, User};
    let decoded: TicketEvent = event.decode()?;
    if let TicketEvent::TicketOpened {
        customer_id,
        title,
        category,
        priority,
        ..
    } = &decoded
    {
        remember(connection, event, *customer_id, title, None).await?;
        let params = json!({"ticket_id": event.aggregate_id, "title": title, "category": category, "priority": priority});
        return Ok(vec![
            notice(User(*customer_id), "ticket_received", params.clone()),
            notice(StaffGroup, "staff_ticket_opened", params),
        ]);
    }
    let Some(parties) = parties(connection, event).await? else {
        return Err(ApplyError::Decode(format!(
            "ticket {} has no TicketOpened before {}",
            event.aggregate_id, event.event_type
        )));
    };
    let params = |extra: Value| {
        let mut params = json!({"ticket_id": event.aggregate_id, "title": parties.title});
        if let (Some(target), Value::Object(more)) = (params.as_object_mut(), extra) {
            target.extend(more);
        }
        params
    };
    Ok(match decoded {
        TicketEvent::MessageDeleted { message_id, .. } => {
            // Its text must not be sent later either.
            sqlx::query(
                "UPDATE rm_notifications SET params = (params - 'text') || '{\"deleted\": true}' \
                 WHERE params ->> 'ticket_id' = $1 AND params ->> 'message_id' = $2",
            )
            .bind(&event.aggregate_id)
            .bind(message_id.to_string())
            .execute(&mut *connection)
            .await?;
            vec![]
        }
        TicketEvent::TicketOpened { .. } | TicketEvent::MessageEdited { .. } => vec![],
        TicketEvent::MessagePosted {
            by_staff: true,
            internal: false,
            text,
            message_id,
            ..
        } => vec![notice(
            User(parties.customer_id),
            "ticket_reply",
            params(json!({"text": text, "message_id": message_id})),
        )],
        TicketEvent::MessagePosted { by_staff: true, .. } => vec![],
        TicketEvent::MessagePosted {
            text, message_id, ..
        } => {
            // The staff group always (a forum keeps the ticket's topic complete),
            // and the assignee in person.
            let assigned = parties.assignee_id.is_some();
            let params =
                params(json!({"text": text, "message_id": message_id, "assigned": assigned}));
            let mut notices = vec![notice(
                StaffGroup,
                "staff_ticket_customer_message",
                params.clone(),
            )];
            if let Some(assignee) = parties.assignee_id {
                notices.push(notice(
                    User(assignee),
                    "staff_ticket_customer_message",
                    params,
                ));
            }
            notices
        }
        TicketEvent::TicketAssigned { assignee_id } => {
            assign(connection, event, assignee_id).await?;
            vec![notice(
                User(assignee_id),
                "staff_ticket_assigned",
                params(json!({})),
            )]
        }
        TicketEvent::StatusChanged { to, .. } => vec![notice(
            User(parties.customer_id),
            "ticket_status_changed",
            params(json!({"status": to})),
        )],
        TicketEvent::PriorityChanged { .. } => vec![],
        TicketEvent::SupportRated { stars, .. } => {
            vec![notice(
                StaffGroup,
                "staff_ticket_rated",
                params(json!({"stars": stars})),
            )]
        }
    })
}

async fn payment_notices(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Vec<Notice>, ApplyError> {
    let decoded: PaymentEvent = event.decode()?;
    if let PaymentEvent::PaymentCreated { payer_user_id, .. } = &decoded {
        remember(connection, event, *payer_user_id, "", None).await?;
        return Ok(vec![]);
    }
    let Some(parties) = parties(connection, event).await? else {
        return Err(ApplyError::Decode(format!(
            "payment {} has no PaymentCreated before {}",
            event.aggregate_id, event.event_type
        )));
    };
    let payer = Recipient::User(parties.customer_id);
    let payment = &event.aggregate_id;
    Ok(match decoded {
        PaymentEvent::PaymentSucceeded { amount, .. } => vec![notice(
            payer,
            "payment_received",
            json!({"payment_id": payment, "amount": amount}),
        )],
        PaymentEvent::PaymentCanceled { reason } => vec![notice(
            payer,
            "payment_canceled",
            json!({"payment_id": payment, "reason": reason}),
        )],
        PaymentEvent::RefundRequested { refund_id, amount } => vec![notice(
            payer,
            "refund_requested",
            json!({"payment_id": payment, "amount": amount, "cause": RefundCause::of(&refund_id)}),
        )],
        PaymentEvent::RefundSucceeded { amount, .. } => vec![notice(
            payer,
            "refund_made",
            json!({"payment_id": payment, "amount": amount}),
        )],
        PaymentEvent::RefundFailed { amount, reason, .. } => vec![notice(
            Recipient::StaffGroup,
            "staff_refund_failed",
            json!({"payment_id": payment, "amount": amount, "reason": reason}),
        )],
        _ => vec![],
    })
}

fn credit_notices(event: &EventEnvelope) -> Result<Vec<Notice>, ApplyError> {
    let decoded: CreditEvent = event.decode()?;
    // Accounts are keyed by user id; an account of another kind has nobody to tell.
    let Ok(owner) = Uuid::parse_str(&event.aggregate_id) else {
        return Ok(vec![]);
    };
    let owner = Recipient::User(owner);
    Ok(match decoded {
        // A purchase is announced by its payment.
        CreditEvent::CreditsGranted {
            reason: GrantReason::Purchase,
            ..
        } => vec![],
        CreditEvent::CreditsGranted {
            amount,
            reason,
            expires_at,
            ..
        } => vec![notice(
            owner,
            "credits_granted",
            json!({"amount": amount, "reason": reason, "expires_at": expires_at}),
        )],
        CreditEvent::SubscriptionActivated {
            plan, period_end, ..
        } => vec![notice(
            owner,
            "subscription_active",
            json!({"plan": plan, "until": period_end}),
        )],
        CreditEvent::PointsExpired { amount, .. } => {
            vec![notice(owner, "points_expired", json!({"amount": amount}))]
        }
        CreditEvent::CreditsSpent { .. }
        | CreditEvent::SpendRefunded { .. }
        | CreditEvent::CreditsRevoked { .. } => vec![],
    })
}

fn user_notices(event: &EventEnvelope) -> Result<Vec<Notice>, ApplyError> {
    let decoded: UserEvent = event.decode()?;
    let Ok(user) = Uuid::parse_str(&event.aggregate_id) else {
        return Ok(vec![]);
    };
    Ok(match decoded {
        UserEvent::RoleChanged { to, .. } => {
            vec![notice(
                Recipient::User(user),
                "role_changed",
                json!({"role": to}),
            )]
        }
        UserEvent::ReferrerLinked { referrer_id } => vec![notice(
            Recipient::User(referrer_id),
            "referral_joined",
            json!({"user_id": user}),
        )],
        // A blocked user is not written to; the unblocking is news to them.
        UserEvent::UserUnblocked {} => vec![notice(Recipient::User(user), "unblocked", json!({}))],
        _ => vec![],
    })
}

/// Decides the notices of one event (and updates the projection's memory of who is
/// on what).
async fn decide(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Vec<Notice>, ApplyError> {
    match event.aggregate_type.as_str() {
        "Order" => order_notices(connection, event).await,
        "Ticket" => ticket_notices(connection, event).await,
        "Payment" => payment_notices(connection, event).await,
        "CreditAccount" => credit_notices(event),
        "User" => user_notices(event),
        "GenerationJob" => generation_notices(connection, event).await,
        _ => Ok(vec![]),
    }
}

/// A generation's owner hears when it is done, failed (and its credits came back) or
/// could not be paid for.
async fn generation_notices(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Vec<Notice>, ApplyError> {
    use domain::generation::GenerationEvent as E;
    let decoded: E = event.decode()?;
    if let E::GenerationRequested { user_id, kind, .. } = &decoded {
        remember(connection, event, *user_id, "", Some(kind.as_str())).await?;
        return Ok(vec![]);
    }
    let Some(parties) = parties(connection, event).await? else {
        return Err(ApplyError::Decode(format!(
            "generation {} has no GenerationRequested before {}",
            event.aggregate_id, event.event_type
        )));
    };
    let owner = Recipient::User(parties.customer_id);
    let job = &event.aggregate_id;
    Ok(match decoded {
        E::GenerationSucceeded { result_file, .. } => vec![notice(
            owner,
            "generation_succeeded",
            json!({"job_id": job, "result_file": result_file}),
        )],
        E::GenerationCreditsReturned { credits, .. } => vec![notice(
            owner,
            "generation_failed",
            json!({"job_id": job, "credits": credits}),
        )],
        _ => vec![],
    })
}

/// Stores a notice once under its key (`<cause>:<template>:<recipient>`), in
/// `rm_notifications` or (`sql` of the reminders) another table of that shape.
pub(crate) async fn store_in(
    connection: &mut PgConnection,
    sql: &'static str,
    cause: &str,
    notice: &Notice,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let (recipient, user_id) = match notice.recipient {
        Recipient::User(id) => ("user", Some(id)),
        Recipient::StaffGroup => ("staff_group", None),
    };
    sqlx::query(sql)
        .bind(format!(
            "{cause}:{}:{}",
            notice.template,
            notice.recipient.key()
        ))
        .bind(recipient)
        .bind(user_id)
        .bind(notice.template)
        .bind(&notice.params)
        .bind(cause)
        .bind(at)
        .execute(connection)
        .await?;
    Ok(())
}

/// Run before a rebuild's tables replace the live ones: a notice the rebuild made
/// for an event the live projection had already applied, but which the live table
/// never had (a fix that notices more of the past), is recorded as not sent, so the
/// bot does not tell people about old events. Notices it made again keep their ids,
/// and with them their deliveries; notices of events the live workers had not
/// reached yet are sent as usual.
/// (`cause` is the event's message id, `<Type>:<id>:<sequence>`; the ids of the
/// aggregates noticed are UUIDs, which the id never percent-encodes.)
const SILENCE_REBUILT_NOTICES: &str = "INSERT INTO {live}.notification_deliveries \
         (notification_id, state, attempts, last_error, updated_at) \
     SELECT n.notification_id, 'failed', 0, 'made by a rebuild for a past event: not sent', now() \
     FROM {rebuilt}.rm_notifications n \
     JOIN {live}.projection_checkpoints c ON c.projection = 'notifications' \
      AND c.aggregate_type = substring(n.cause FROM '^([^:]*):') \
      AND c.aggregate_id = substring(n.cause FROM '^[^:]*:(.*):[0-9]+$') \
      AND c.sequence >= substring(n.cause FROM ':([0-9]+)$')::bigint \
     WHERE NOT EXISTS (SELECT 1 FROM {live}.rm_notifications l WHERE l.notification_id = n.notification_id) \
     ON CONFLICT (notification_id) DO NOTHING";

/// Writes a notice into `rm_notifications`.
const STORE: &str = "INSERT INTO rm_notifications (notification_id, recipient, user_id, template, params, cause, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (notification_id) DO NOTHING";

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    let cause = event.message_id();
    for notice in decide(connection, event).await? {
        store_in(connection, STORE, &cause, &notice, event.recorded_at).await?;
    }
    Ok(())
}

impl Projection for Notifications {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable {
            tables: &["rm_notifications", "notification_parties"],
            run_time_columns: &[],
            before_switch: Some(SILENCE_REBUILT_NOTICES),
        })
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::Notifications.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[
            "Order",
            "Ticket",
            "Payment",
            "CreditAccount",
            "User",
            "GenerationJob",
        ]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}
