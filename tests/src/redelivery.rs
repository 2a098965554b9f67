//! NATS at its worst, on purpose: the stored events published by the test itself,
//! every one twice, in a scrambled order across and within aggregates, with one
//! withheld altogether (the workers must fill it from the store).

use serde_json::Value;

use crate::TestContext;
use crate::stream::jetstream_at;

/// Publishes every stored event of the test's database twice, scrambled, except
/// `withheld` (aggregate id, sequence). Empties the outbox first, so a relay started
/// afterwards does not publish the history in order as well.
pub async fn publish_twice_scrambled(context: &TestContext, withheld: (&str, i64)) {
    sqlx::query("DELETE FROM outbox")
        .execute(&context.pool)
        .await
        .expect("empty outbox");
    let bodies: Vec<(String, String, i64, Value)> = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, sequence, \
                json_build_object('aggregate_type', aggregate_type, 'aggregate_id', aggregate_id, \
                  'sequence', sequence, 'event_type', event_type, 'event_version', event_version, \
                  'payload', payload, 'metadata', metadata, 'global_position', global_position, \
                  'recorded_at', to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::jsonb \
         FROM events ORDER BY global_position",
    )
    .fetch_all(&context.pool)
    .await
    .expect("events");
    let mut deliveries: Vec<(String, Value)> = Vec::new();
    for (aggregate_type, aggregate_id, sequence, body) in bodies {
        if (aggregate_id.as_str(), sequence) == withheld {
            continue;
        }
        let subject = context.stream.subject_for(&aggregate_type, &aggregate_id);
        deliveries.push((subject.clone(), body.clone()));
        deliveries.push((subject, body));
    }
    // A fixed permutation: stride through the list with a step coprime to its length.
    let length = deliveries.len();
    let step = (1..length)
        .rev()
        .find(|step| gcd(*step, length) == 1 && *step > length / 3)
        .unwrap_or(1);
    let js = jetstream_at(&context.nats_url).await;
    context.stream.ensure(&js).await.expect("stream");
    for i in 0..length {
        let (subject, body) = &deliveries[(i * step) % length];
        js.publish(
            subject.clone(),
            serde_json::to_vec(body).expect("json").into(),
        )
        .await
        .expect("publish")
        .await
        .expect("ack");
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}
