//! The deliveries an event gives: written in the transaction of the change, for every active
//! webhook (of an active account) subscribed to its webhook event and allowed to receive it. A
//! committed change therefore always has its deliveries, a rolled-back one never does, and
//! nothing is sent before the commit (the dispatcher sends them afterwards).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::topics::{self, Announcement};
use crate::auth::{Permission, rbac};
use crate::events::NewEvent;
use crate::params;
use crate::storage::{Binder, StorageError, Transaction};
use crate::wire::time::utc;

/// The request body, `{event, timestamp, data}` in that order (wire format), as compact JSON.
pub fn body(event: &str, timestamp: DateTime<Utc>, data: &Value) -> String {
    #[derive(Serialize)]
    struct Envelope<'a> {
        event: &'a str,
        timestamp: String,
        data: &'a Value,
    }
    let envelope = Envelope {
        event,
        timestamp: utc(timestamp),
        data,
    };
    serde_json::to_string(&envelope).unwrap_or_default()
}

/// An active webhook subscribed to some of the events at hand, with its owner's roles.
#[derive(Default)]
struct Subscriber {
    owner: i64,
    topics: BTreeSet<String>,
    roles: BTreeSet<String>,
}

impl Subscriber {
    fn holds(&self, permission: Permission) -> bool {
        rbac::holders(permission).iter().any(|role| self.roles.contains(*role))
    }
}

/// Active webhooks subscribed to any of `topics`, by id.
async fn subscribers(
    tx: &mut Box<dyn Transaction>,
    topics: &BTreeSet<&'static str>,
) -> Result<BTreeMap<i64, Subscriber>, StorageError> {
    let mut binder = Binder::new();
    let names: Vec<String> = topics.iter().map(|topic| binder.bind(*topic)).collect();
    let active = binder.bind(true);
    let sql = format!(
        "SELECT w.id, w.user_id, s.event, LOWER(r.name) AS role
         FROM webhook_events s
         JOIN webhooks w ON w.id = s.webhook_id
         JOIN users u ON u.id = w.user_id
         LEFT JOIN user_roles ur ON ur.user_id = w.user_id
         LEFT JOIN roles r ON r.id = ur.role_id
         WHERE s.event IN ({}) AND w.is_active = {active} AND u.is_active = {active}",
        names.join(", ")
    );
    let mut found: BTreeMap<i64, Subscriber> = BTreeMap::new();
    for row in tx.query(&sql, binder.into_values()).await? {
        let subscriber = found.entry(row.get("id")?).or_default();
        subscriber.owner = row.get("user_id")?;
        subscriber.topics.insert(row.get("event")?);
        if let Some(role) = row.get::<Option<String>>("role")? {
            subscriber.roles.insert(role);
        }
    }
    Ok(found)
}

/// What the event tells a webhook: its own fields (as the user it is about sees them: a webhook
/// reaches only that user or holders of the matching "any" permission), plus that user.
fn data(event: &NewEvent, announcement: &Announcement) -> Value {
    let mut data = event.owner_view();
    if let (Some(user), Some(fields)) = (announcement.subject, data.as_object_mut()) {
        fields.entry("user_id").or_insert(json!(user));
    }
    data
}

/// The webhook event `event` is announced as, with the body its deliveries carry, if any.
pub fn delivery_body(event: &NewEvent, now: DateTime<Utc>) -> Option<(&'static str, String)> {
    let announcement = topics::announcement(event)?;
    Some((
        announcement.topic,
        body(announcement.topic, now, &data(event, &announcement)),
    ))
}

/// Writes the deliveries of `events` in `tx` (called for every event recorded).
pub async fn project(
    tx: &mut Box<dyn Transaction>,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let announced: Vec<(&NewEvent, Announcement)> = events
        .iter()
        .filter_map(|event| topics::announcement(event).map(|a| (event, a)))
        .collect();
    if announced.is_empty() {
        return Ok(());
    }
    let topics = announced.iter().map(|(_, a)| a.topic).collect();
    let subscribers = subscribers(tx, &topics).await?;
    for (event, announcement) in &announced {
        let mut payload: Option<String> = None;
        for (id, webhook) in &subscribers {
            if !webhook.topics.contains(announcement.topic)
                || !announcement.reaches(webhook.owner, |permission| webhook.holds(permission))
            {
                continue;
            }
            let payload = payload.get_or_insert_with(|| body(announcement.topic, now, &data(event, announcement)));
            tx.execute(
                "INSERT INTO webhook_deliveries (webhook_id, event_type, payload, status, created_at, due_at)
                 VALUES ($1, $2, $3, 'pending', $4, $4)",
                params![*id, announcement.topic, payload.as_str(), now],
            )
            .await?;
        }
    }
    Ok(())
}
