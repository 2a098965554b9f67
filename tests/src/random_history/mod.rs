//! A long randomized history through the real use cases, with the workers, the
//! reactions and a YooKassa-compatible server running: people signing in, credits
//! spent (repeats and refusals included), packs bought and partly refunded, shop
//! orders paid, shipped, completed or cancelled with a refund, coursework from brief
//! to review, tickets talked through, assigned, resolved and rated. The same seed
//! gives the same choices (the ids and times differ per run).

use chrono::{Duration, Utc};
use domain::money::Money;
use domain::order::{Coursework, Delivery};
use domain::permissions::Caller;
use domain::ticket::TicketStatus;
use domain::use_cases::Core;
use domain::use_cases::credits::Spend;
use domain::use_cases::order_actions::OrderAction;
use domain::use_cases::payments::{PaymentOrder, PurposeRequest};
use domain::use_cases::placing::{NewOrder, ShopItem};
use domain::use_cases::tickets::{NewTicket, TicketChange};
use uuid::Uuid;

use crate::yookassa_fake::FakeYooKassa;

mod cast;

pub use cast::{Cast, Dice, Tally, cast};

/// Runs `steps` random steps of the five businesses.
pub async fn random_history(
    core: &Core,
    yookassa: &FakeYooKassa,
    cast: &Cast,
    seed: u64,
    steps: usize,
) -> Tally {
    let mut dice = Dice::new(seed);
    let mut tally = Tally::default();
    let mut shop_orders: Vec<(Caller, Uuid)> = Vec::new();
    let mut courseworks: Vec<(Caller, Uuid)> = Vec::new();
    let mut packs: Vec<Uuid> = Vec::new();
    let mut tickets: Vec<(Caller, Uuid)> = Vec::new();
    for step in 0..steps {
        let Some(&customer) = dice.pick(&cast.customers) else {
            break;
        };
        let now = Utc::now();
        match dice.below(12) {
            0 | 1 => {
                let spend = Spend {
                    amount: 1 + dice.below(15) as u64,
                    reason: "image generation".to_owned(),
                    // Few enough ids that some spends are repeats.
                    operation_id: format!("gen-{}", dice.below(steps / 4 + 1)),
                };
                tally.count(core.spend_credits(customer, spend, now).await);
            }
            2 => {
                let pack = ["S", "M"][dice.below(2)].to_owned();
                if let Some(payment) = pay(
                    core,
                    yookassa,
                    &mut tally,
                    customer,
                    PurposeRequest::CreditPack { pack },
                    step,
                )
                .await
                {
                    packs.push(payment);
                }
            }
            3 => {
                let items = vec![ShopItem {
                    product_id: ["mug", "tshirt"][dice.below(2)].to_owned(),
                    quantity: 1 + dice.below(3) as u32,
                }];
                let delivery = Delivery {
                    recipient: "Костя".to_owned(),
                    phone: "+79990000001".to_owned(),
                    address: "Тверь".to_owned(),
                };
                if let Some(written) = tally.count(
                    core.place_order(customer, NewOrder::Shop { items, delivery }, now)
                        .await,
                ) && let Ok(order_id) = written.aggregate_id.parse::<Uuid>()
                {
                    shop_orders.push((customer, order_id));
                    // Most are paid; some are left waiting.
                    if dice.below(5) > 0 {
                        pay(
                            core,
                            yookassa,
                            &mut tally,
                            customer,
                            PurposeRequest::Order { order_id },
                            step,
                        )
                        .await;
                    }
                }
            }
            4 => {
                if let Some(&(buyer, order_id)) = dice.pick(&shop_orders) {
                    let (who, action) = match dice.below(5) {
                        0 => (
                            cast.admin,
                            OrderAction::Ship {
                                tracking: format!("RA{step:09}RU"),
                            },
                        ),
                        1 => (buyer, OrderAction::ConfirmDelivery),
                        2 => (cast.admin, OrderAction::Complete),
                        3 => (
                            cast.admin,
                            OrderAction::Cancel {
                                reason: "нет в наличии".to_owned(),
                                refund: None,
                            },
                        ),
                        _ => (
                            buyer,
                            OrderAction::Review {
                                stars: 1 + dice.below(5) as u8,
                                text: Some("<b>ок</b>".to_owned()),
                            },
                        ),
                    };
                    tally.count(core.act_on_order(who, order_id, action, now).await);
                }
            }
            5 => {
                let brief = Coursework {
                    subject: format!("Тема {step}"),
                    work_type: "курсовая".to_owned(),
                    volume: 20 + dice.below(30) as u32,
                    deadline: now + Duration::days(10),
                    files: vec![],
                    attachments: vec![],
                    max_revisions: 2,
                };
                if let Some(written) = tally.count(
                    core.place_order(customer, NewOrder::Coursework(brief), now)
                        .await,
                ) && let Ok(order_id) = written.aggregate_id.parse::<Uuid>()
                {
                    courseworks.push((customer, order_id));
                }
            }
            6 | 7 => {
                if let Some(&(client, order_id)) = dice.pick(&courseworks) {
                    // The next step of its life, by whoever takes it; a wrong one is refused.
                    let price = Money::from_kopecks(100_000 + 1_000 * dice.below(50) as u64);
                    match dice.below(10) {
                        0 => {
                            tally.count(
                                core.act_on_order(
                                    cast.admin,
                                    order_id,
                                    OrderAction::Quote { price },
                                    now,
                                )
                                .await,
                            );
                        }
                        1 => {
                            tally.count(
                                core.act_on_order(client, order_id, OrderAction::AcceptQuote, now)
                                    .await,
                            );
                        }
                        2 => {
                            pay(
                                core,
                                yookassa,
                                &mut tally,
                                client,
                                PurposeRequest::Order { order_id },
                                step,
                            )
                            .await;
                        }
                        3 => {
                            tally.count(
                                core.act_on_order(cast.executor, order_id, OrderAction::Take, now)
                                    .await,
                            );
                        }
                        4 => {
                            tally.count(
                                core.act_on_order(cast.executor, order_id, OrderAction::Start, now)
                                    .await,
                            );
                        }
                        5 => {
                            tally.count(
                                core.act_on_order(
                                    cast.executor,
                                    order_id,
                                    OrderAction::Submit {
                                        files: vec![],
                                        attachments: vec![],
                                        note: Some("готово".to_owned()),
                                    },
                                    now,
                                )
                                .await,
                            );
                        }
                        6 => {
                            tally.count(
                                core.act_on_order(
                                    client,
                                    order_id,
                                    OrderAction::RequestRevision {
                                        reason: "поправьте".to_owned(),
                                    },
                                    now,
                                )
                                .await,
                            );
                        }
                        7 => {
                            tally.count(
                                core.act_on_order(client, order_id, OrderAction::Accept, now)
                                    .await,
                            );
                        }
                        8 => {
                            tally.count(
                                core.act_on_order(cast.admin, order_id, OrderAction::Complete, now)
                                    .await,
                            );
                        }
                        _ => {
                            tally.count(
                                core.act_on_order(
                                    client,
                                    order_id,
                                    OrderAction::Review {
                                        stars: 5,
                                        text: None,
                                    },
                                    now,
                                )
                                .await,
                            );
                        }
                    }
                }
            }
            8 => {
                let ticket = NewTicket {
                    category: ["payments", "technical", "other"][dice.below(3)].to_owned(),
                    title: format!("Вопрос {step}"),
                    description: "=1+1 <script>".to_owned(),
                    priority: None,
                };
                if let Some(written) = tally.count(core.open_ticket(customer, ticket, now).await)
                    && let Ok(ticket_id) = written.aggregate_id.parse::<Uuid>()
                {
                    tickets.push((customer, ticket_id));
                }
            }
            9 | 10 => {
                if let Some(&(client, ticket_id)) = dice.pick(&tickets) {
                    let outcome = match dice.below(7) {
                        0 => {
                            core.post_ticket_message(
                                client,
                                ticket_id,
                                "ещё вопрос".to_owned(),
                                false,
                                now,
                            )
                            .await
                        }
                        1 => {
                            core.post_ticket_message(
                                cast.agent,
                                ticket_id,
                                "смотрю".to_owned(),
                                true,
                                now,
                            )
                            .await
                        }
                        2 => {
                            core.post_ticket_message(
                                cast.agent,
                                ticket_id,
                                "ответ".to_owned(),
                                false,
                                now,
                            )
                            .await
                        }
                        3 => {
                            core.change_ticket(
                                cast.agent,
                                ticket_id,
                                TicketChange::Assign {
                                    assignee_id: cast.agent.user_id,
                                },
                                now,
                            )
                            .await
                        }
                        4 => {
                            core.change_ticket(
                                cast.agent,
                                ticket_id,
                                TicketChange::Status(TicketStatus::Resolved),
                                now,
                            )
                            .await
                        }
                        5 => {
                            core.change_ticket(
                                client,
                                ticket_id,
                                TicketChange::Rate {
                                    stars: 1 + dice.below(5) as u8,
                                    comment: None,
                                },
                                now,
                            )
                            .await
                        }
                        _ => {
                            core.change_ticket(
                                cast.agent,
                                ticket_id,
                                TicketChange::Status(TicketStatus::InProgress),
                                now,
                            )
                            .await
                        }
                    };
                    tally.count(outcome);
                }
            }
            _ => {
                if let Some(&payment) = dice.pick(&packs) {
                    let amount = Money::from_kopecks(1_000 * (1 + dice.below(20) as u64));
                    tally.count(
                        core.refund_payment(cast.owner, payment, Some(amount), None)
                            .await,
                    );
                }
            }
        }
    }
    tally
}

/// Starts a payment for `purpose` and has YooKassa take the money; the payment's id
/// when it was started.
async fn pay(
    core: &Core,
    yookassa: &FakeYooKassa,
    tally: &mut Tally,
    payer: Caller,
    purpose: PurposeRequest,
    step: usize,
) -> Option<Uuid> {
    let order = PaymentOrder {
        purpose,
        idempotence_key: format!("step-{step}-{}", Uuid::now_v7()),
        payer_kind: None,
        customer_email: None,
        customer_phone: None,
    };
    let started = tally.count(core.start_payment(payer, order).await)?;
    let provider_id = yookassa
        .books()
        .payment_keys
        .get(&started.payment_id.to_string())
        .cloned()?;
    let income = yookassa
        .books()
        .payments
        .get(&provider_id)
        .and_then(|payment| payment["amount"]["value"].as_str().map(str::to_owned))?;
    yookassa.succeed(&provider_id, &income);
    tally.count(core.settle_provider_payment(&provider_id).await);
    Some(started.payment_id)
}
