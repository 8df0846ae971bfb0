//! Snapshots of every event kind as it leaves the server: the outbox row (kind, audience,
//! payload as stored), the WebSocket frames (as others and as the user it concerns see it) and
//! the webhook body. Each event is built the way its producer builds it. The bytes must not
//! change: clients, webhook receivers and rows written by earlier releases depend on them.

use chrono::{DateTime, TimeZone, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::{Maintenance, ResourceInfo};
use resource_reserver::events::event::ReservationRef;
use resource_reserver::events::outbox::StoredEvent;
use resource_reserver::events::{Event, NewEvent};
use resource_reserver::webhooks::project::delivery_body;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 2, hour, 4, 5).unwrap()
}

fn booking() -> ReservationRef {
    ReservationRef {
        id: 11,
        resource: 3,
        owner: 7,
        interval: Interval::new(at(9), at(10)).unwrap(),
    }
}

fn resource(maintenance: Option<Maintenance>, description: Option<&str>) -> ResourceInfo {
    ResourceInfo {
        id: 3,
        name: "Room \"A\"".into(),
        description: description.map(Into::into),
        tags: vec!["b".into(), "a".into()],
        enabled: true,
        maintenance,
        timezone: chrono_tz::Europe::Berlin,
        created_at: at(1),
        approver: None,
        requires_approval: false,
        checkin_window: None,
    }
}

/// Everything the event puts on the wire, one field per line.
fn wire(event: NewEvent) -> String {
    let audience = event.audience;
    let (kind, payload) = event.event.encode();
    let stored = StoredEvent {
        id: 42,
        kind,
        audience,
        payload,
        created_at: at(12),
        origin: None,
        request_id: None,
        event: Some(event.event.clone()),
        booking_copy: None,
    };
    let webhook = delivery_body(&event, at(12))
        .map(|(topic, body)| format!("{topic} {body}"))
        .unwrap_or_else(|| "-".into());
    format!(
        "kind: {}\naudience: user={:?} resource={:?} everyone={} availability={}\npayload: {}\nframe: {}\nowner frame: {}\nwebhook: {}\n",
        stored.kind,
        audience.user,
        audience.resource,
        audience.everyone,
        audience.availability,
        stored.payload,
        stored.frame(false),
        stored.frame(true),
        webhook,
    )
}

fn every_event() -> Vec<NewEvent> {
    let r = booking();
    let moved_from = Interval::new(at(7), at(8)).unwrap();
    vec![
        NewEvent::reservation_created(&r),
        NewEvent::reservation_requested(&r),
        NewEvent::reservation_cancelled(&r, at(8)),
        NewEvent::reservation_updated(&r, moved_from, "active"),
        NewEvent::reservation_updated(&r, moved_from, "pending_approval"),
        NewEvent::reservation_reactivated(&r),
        NewEvent::reservation_expired(&r, at(10)),
        NewEvent::hold_created(&r, at(9)),
        NewEvent::hold_expired(&r),
        NewEvent::hold_released(&r),
        NewEvent::reservation_released(&r, at(9), Some("Not checked in")),
        NewEvent::reservation_released(&r, at(9), None),
        NewEvent::reservation_checked_in(&r, at(9)),
        NewEvent::approval_answer(true, &r, Some(5), "Room \"A\"", None),
        NewEvent::approval_answer(true, &r, None, "Room \"A\"", None),
        NewEvent::approval_answer(false, &r, Some(5), "Room \"A\"", Some("Full <b>")),
        NewEvent::approval_answer(false, &r, Some(5), "Room \"A\"", None),
        NewEvent::approval_request(5, 9, 11, "Room \"A\"", "bob"),
        NewEvent::waitlist_offer(4, 7, &r, "Room \"A\"", at(11)),
        NewEvent::waitlist_offer_expired(4, 7, 3),
        NewEvent::waitlist_accepted(4, 7, 3, Some(11)),
        NewEvent::waitlist_accepted(4, 7, 3, None),
        NewEvent::resource_status_changed(
            &resource(Some(Maintenance::starting(at(8), Some(2))), None),
            "unavailable",
            true,
        ),
        NewEvent::resource_status_changed(
            &resource(Some(Maintenance::starting(at(8), None)), None),
            "unavailable",
            true,
        ),
        NewEvent::resource_status_changed(&resource(None, None), "available", false),
        NewEvent::resource_status_changed(&resource(None, None), "in_use", false),
        NewEvent::resource_updated(&resource(None, Some("Quiet"))),
        NewEvent::resource_updated(&resource(None, None)),
        NewEvent::resource_created(3, "Room \"A\"", Some("Quiet"), &["b".into(), "a".into()], true, "UTC"),
        NewEvent::resource_created(3, "Room", None, &[], false, "Europe/Berlin"),
        NewEvent::resource_deleted(3),
        NewEvent::business_hours_updated(Some(3)),
        NewEvent::business_hours_updated(None),
        NewEvent::blackout_dates_updated(Some(3), 8, "2030-01-05", "added"),
        NewEvent::blackout_dates_updated(None, 8, "2030-01-05", "deleted"),
        NewEvent::tag_renamed("old", "new", 2),
        NewEvent::tag_deleted("gone", 0),
        NewEvent::user_created(7, "bob"),
        NewEvent::sign_in_revoked(7, Some("abc")),
        NewEvent::sign_in_revoked(7, None),
        NewEvent::resource_group_changed(5, "created", "Floor \"3\"", Some(4)),
        NewEvent::resource_group_changed(4, "updated", "HQ", None),
        NewEvent::resource_group_changed(5, "deleted", "Floor 3", Some(4)),
        NewEvent::resource_hierarchy_changed(3, Some(5), None),
        NewEvent::resource_hierarchy_changed(3, None, Some(2)),
        NewEvent::waitlist_changed(3),
    ]
}

#[test]
fn every_event_kind_keeps_its_bytes() {
    let actual: Vec<String> = every_event().into_iter().map(wire).collect();
    let actual = actual.join("\n");
    if actual != EXPECTED {
        println!("{actual}");
    }
    assert!(
        actual == EXPECTED,
        "the wire bytes of an event changed (actual output above)"
    );
}

/// Every stored row in [`EXPECTED`] (written by the release before events were typed) decodes,
/// and encodes again to the same bytes.
#[test]
fn rows_written_before_events_were_typed_decode() {
    let mut kind = None;
    let mut rows = 0;
    for line in EXPECTED.lines() {
        if let Some(k) = line.strip_prefix("kind: ") {
            kind = Some(k);
        }
        if let Some(payload) = line.strip_prefix("payload: ") {
            let kind = kind.take().expect("a kind before each payload");
            let stored: serde_json::Value = serde_json::from_str(payload).unwrap();
            let event = Event::decode(kind, &stored).unwrap_or_else(|e| panic!("{e}"));
            let (again_kind, again) = event.encode();
            assert_eq!((again_kind.as_str(), again.to_string().as_str()), (kind, payload));
            rows += 1;
        }
    }
    assert_eq!(rows, every_event().len());
}

const EXPECTED: &str = r#"kind: reservation_created
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z"}
frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","timestamp":"2030-01-02T12:04:05Z","type":"reservation_created"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","timestamp":"2030-01-02T12:04:05Z","type":"reservation_created"}
webhook: reservation.created {"event":"reservation.created","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","user_id":7}}

kind: reservation_created
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval"}
frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval","timestamp":"2030-01-02T12:04:05Z","type":"reservation_created"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval","timestamp":"2030-01-02T12:04:05Z","type":"reservation_created"}
webhook: reservation.created {"event":"reservation.created","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval","user_id":7}}

kind: reservation_cancelled
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"cancelled_at":"2030-01-02T08:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"cancelled"}
frame: {"cancelled_at":"2030-01-02T08:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"cancelled","timestamp":"2030-01-02T12:04:05Z","type":"reservation_cancelled"}
owner frame: {"cancelled_at":"2030-01-02T08:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"cancelled","timestamp":"2030-01-02T12:04:05Z","type":"reservation_cancelled"}
webhook: reservation.cancelled {"event":"reservation.cancelled","timestamp":"2030-01-02T12:04:05Z","data":{"cancelled_at":"2030-01-02T08:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"cancelled","user_id":7}}

kind: reservation_updated
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"active"}
frame: {"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_updated"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_updated"}
webhook: reservation.updated {"event":"reservation.updated","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"active","user_id":7}}

kind: reservation_updated
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval"}
frame: {"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval","timestamp":"2030-01-02T12:04:05Z","type":"reservation_updated"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval","timestamp":"2030-01-02T12:04:05Z","type":"reservation_updated"}
webhook: reservation.updated {"event":"reservation.updated","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","previous_end_time":"2030-01-02T08:04:05Z","previous_start_time":"2030-01-02T07:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"pending_approval","user_id":7}}

kind: reservation_updated
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"active"}
frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_updated"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_updated"}
webhook: reservation.updated {"event":"reservation.updated","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"active","user_id":7}}

kind: reservation_expired
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","expired_at":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"expired"}
frame: {"end_time":"2030-01-02T10:04:05Z","expired_at":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"expired","timestamp":"2030-01-02T12:04:05Z","type":"reservation_expired"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","expired_at":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"expired","timestamp":"2030-01-02T12:04:05Z","type":"reservation_expired"}
webhook: reservation.expired {"event":"reservation.expired","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","expired_at":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"expired","user_id":7}}

kind: hold_created
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"held"}
frame: {"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"held","timestamp":"2030-01-02T12:04:05Z","type":"hold_created"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"held","timestamp":"2030-01-02T12:04:05Z","type":"hold_created"}
webhook: -

kind: hold_expired
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"expired"}
frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"expired","timestamp":"2030-01-02T12:04:05Z","type":"hold_expired"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"expired","timestamp":"2030-01-02T12:04:05Z","type":"hold_expired"}
webhook: -

kind: hold_released
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"cancelled"}
frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"cancelled","timestamp":"2030-01-02T12:04:05Z","type":"hold_released"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"cancelled","timestamp":"2030-01-02T12:04:05Z","type":"hold_released"}
webhook: -

kind: reservation_released
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reason":"Not checked in","released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"released"}
frame: {"end_time":"2030-01-02T10:04:05Z","reason":"Not checked in","released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"released","timestamp":"2030-01-02T12:04:05Z","type":"reservation_released"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reason":"Not checked in","released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"released","timestamp":"2030-01-02T12:04:05Z","type":"reservation_released"}
webhook: reservation.cancelled {"event":"reservation.cancelled","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","reason":"Not checked in","released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"released","user_id":7}}

kind: reservation_released
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","reason":null,"released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"released"}
frame: {"end_time":"2030-01-02T10:04:05Z","reason":null,"released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"released","timestamp":"2030-01-02T12:04:05Z","type":"reservation_released"}
owner frame: {"end_time":"2030-01-02T10:04:05Z","reason":null,"released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"released","timestamp":"2030-01-02T12:04:05Z","type":"reservation_released"}
webhook: reservation.cancelled {"event":"reservation.cancelled","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","reason":null,"released_at":"2030-01-02T09:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"released","user_id":7}}

kind: reservation_checked_in
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"checked_in_at":"2030-01-02T09:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"active"}
frame: {"checked_in_at":"2030-01-02T09:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_checked_in"}
owner frame: {"checked_in_at":"2030-01-02T09:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_checked_in"}
webhook: reservation.updated {"event":"reservation.updated","timestamp":"2030-01-02T12:04:05Z","data":{"checked_in_at":"2030-01-02T09:04:05Z","end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"start_time":"2030-01-02T09:04:05Z","status":"active","user_id":7}}

kind: reservation_approved
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"active"}
frame: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_approved"}
owner frame: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_approved"}
webhook: reservation.updated {"event":"reservation.updated","timestamp":"2030-01-02T12:04:05Z","data":{"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"active","user_id":7}}

kind: reservation_approved
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"approval_id":null,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"active"}
frame: {"approval_id":null,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_approved"}
owner frame: {"approval_id":null,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"active","timestamp":"2030-01-02T12:04:05Z","type":"reservation_approved"}
webhook: reservation.updated {"event":"reservation.updated","timestamp":"2030-01-02T12:04:05Z","data":{"approval_id":null,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"active","user_id":7}}

kind: reservation_rejected
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","owner_only":{"reason":"Full <b>"},"reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"rejected"}
frame: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"rejected","timestamp":"2030-01-02T12:04:05Z","type":"reservation_rejected"}
owner frame: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reason":"Full <b>","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"rejected","timestamp":"2030-01-02T12:04:05Z","type":"reservation_rejected"}
webhook: reservation.cancelled {"event":"reservation.cancelled","timestamp":"2030-01-02T12:04:05Z","data":{"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reason":"Full <b>","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"rejected","user_id":7}}

kind: reservation_rejected
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","owner_only":{"reason":null},"reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"rejected"}
frame: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"rejected","timestamp":"2030-01-02T12:04:05Z","type":"reservation_rejected"}
owner frame: {"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reason":null,"reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","status":"rejected","timestamp":"2030-01-02T12:04:05Z","type":"reservation_rejected"}
webhook: reservation.cancelled {"event":"reservation.cancelled","timestamp":"2030-01-02T12:04:05Z","data":{"approval_id":5,"end_time":"2030-01-02T10:04:05Z","reason":null,"reservation_id":11,"resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","status":"rejected","user_id":7}}

kind: approval_request
audience: user=Some(9) resource=None everyone=false availability=false
payload: {"approval_id":5,"requester":"bob","reservation_id":11,"resource_name":"Room \"A\""}
frame: {"approval_id":5,"requester":"bob","reservation_id":11,"resource_name":"Room \"A\"","seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"approval_request"}
owner frame: {"approval_id":5,"requester":"bob","reservation_id":11,"resource_name":"Room \"A\"","seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"approval_request"}
webhook: -

kind: waitlist_offer
audience: user=Some(7) resource=Some(3) everyone=false availability=true
payload: {"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T11:04:05Z","resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","waitlist_id":4}
frame: {"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T11:04:05Z","resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","timestamp":"2030-01-02T12:04:05Z","type":"waitlist_offer","waitlist_id":4}
owner frame: {"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T11:04:05Z","resource_id":3,"resource_name":"Room \"A\"","seq":42,"start_time":"2030-01-02T09:04:05Z","timestamp":"2030-01-02T12:04:05Z","type":"waitlist_offer","waitlist_id":4}
webhook: waitlist.offer {"event":"waitlist.offer","timestamp":"2030-01-02T12:04:05Z","data":{"end_time":"2030-01-02T10:04:05Z","expires_at":"2030-01-02T11:04:05Z","resource_id":3,"resource_name":"Room \"A\"","start_time":"2030-01-02T09:04:05Z","user_id":7,"waitlist_id":4}}

kind: waitlist_offer_expired
audience: user=Some(7) resource=None everyone=false availability=false
payload: {"resource_id":3,"waitlist_id":4}
frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_offer_expired","waitlist_id":4}
owner frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_offer_expired","waitlist_id":4}
webhook: waitlist.expired {"event":"waitlist.expired","timestamp":"2030-01-02T12:04:05Z","data":{"resource_id":3,"user_id":7,"waitlist_id":4}}

kind: waitlist_accepted
audience: user=Some(7) resource=None everyone=false availability=false
payload: {"reservation_id":11,"resource_id":3,"waitlist_id":4}
frame: {"reservation_id":11,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_accepted","waitlist_id":4}
owner frame: {"reservation_id":11,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_accepted","waitlist_id":4}
webhook: waitlist.accepted {"event":"waitlist.accepted","timestamp":"2030-01-02T12:04:05Z","data":{"reservation_id":11,"resource_id":3,"user_id":7,"waitlist_id":4}}

kind: waitlist_accepted
audience: user=Some(7) resource=None everyone=false availability=false
payload: {"reservation_id":null,"resource_id":3,"waitlist_id":4}
frame: {"reservation_id":null,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_accepted","waitlist_id":4}
owner frame: {"reservation_id":null,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_accepted","waitlist_id":4}
webhook: waitlist.accepted {"event":"waitlist.accepted","timestamp":"2030-01-02T12:04:05Z","data":{"reservation_id":null,"resource_id":3,"user_id":7,"waitlist_id":4}}

kind: resource_status_changed
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"auto_reset_hours":2,"available":true,"resource_id":3,"status":"unavailable"}
frame: {"auto_reset_hours":2,"available":true,"resource_id":3,"seq":42,"status":"unavailable","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
owner frame: {"auto_reset_hours":2,"available":true,"resource_id":3,"seq":42,"status":"unavailable","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
webhook: resource.unavailable {"event":"resource.unavailable","timestamp":"2030-01-02T12:04:05Z","data":{"auto_reset_hours":2,"available":true,"resource_id":3,"status":"unavailable"}}

kind: resource_status_changed
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"auto_reset_hours":null,"available":true,"resource_id":3,"status":"unavailable"}
frame: {"auto_reset_hours":null,"available":true,"resource_id":3,"seq":42,"status":"unavailable","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
owner frame: {"auto_reset_hours":null,"available":true,"resource_id":3,"seq":42,"status":"unavailable","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
webhook: resource.unavailable {"event":"resource.unavailable","timestamp":"2030-01-02T12:04:05Z","data":{"auto_reset_hours":null,"available":true,"resource_id":3,"status":"unavailable"}}

kind: resource_status_changed
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"available":true,"resource_id":3,"status":"available"}
frame: {"available":true,"resource_id":3,"seq":42,"status":"available","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
owner frame: {"available":true,"resource_id":3,"seq":42,"status":"available","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
webhook: resource.available {"event":"resource.available","timestamp":"2030-01-02T12:04:05Z","data":{"available":true,"resource_id":3,"status":"available"}}

kind: resource_status_changed
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"available":true,"resource_id":3,"status":"in_use"}
frame: {"available":true,"resource_id":3,"seq":42,"status":"in_use","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
owner frame: {"available":true,"resource_id":3,"seq":42,"status":"in_use","timestamp":"2030-01-02T12:04:05Z","type":"resource_status_changed"}
webhook: resource.available {"event":"resource.available","timestamp":"2030-01-02T12:04:05Z","data":{"available":true,"resource_id":3,"status":"in_use"}}

kind: resource_updated
audience: user=None resource=Some(3) everyone=true availability=false
payload: {"description":"Quiet","name":"Room \"A\"","resource_id":3,"tags":["b","a"],"timezone":"Europe/Berlin"}
frame: {"description":"Quiet","name":"Room \"A\"","resource_id":3,"seq":42,"tags":["b","a"],"timestamp":"2030-01-02T12:04:05Z","timezone":"Europe/Berlin","type":"resource_updated"}
owner frame: {"description":"Quiet","name":"Room \"A\"","resource_id":3,"seq":42,"tags":["b","a"],"timestamp":"2030-01-02T12:04:05Z","timezone":"Europe/Berlin","type":"resource_updated"}
webhook: resource.updated {"event":"resource.updated","timestamp":"2030-01-02T12:04:05Z","data":{"description":"Quiet","name":"Room \"A\"","resource_id":3,"tags":["b","a"],"timezone":"Europe/Berlin"}}

kind: resource_updated
audience: user=None resource=Some(3) everyone=true availability=false
payload: {"description":null,"name":"Room \"A\"","resource_id":3,"tags":["b","a"],"timezone":"Europe/Berlin"}
frame: {"description":null,"name":"Room \"A\"","resource_id":3,"seq":42,"tags":["b","a"],"timestamp":"2030-01-02T12:04:05Z","timezone":"Europe/Berlin","type":"resource_updated"}
owner frame: {"description":null,"name":"Room \"A\"","resource_id":3,"seq":42,"tags":["b","a"],"timestamp":"2030-01-02T12:04:05Z","timezone":"Europe/Berlin","type":"resource_updated"}
webhook: resource.updated {"event":"resource.updated","timestamp":"2030-01-02T12:04:05Z","data":{"description":null,"name":"Room \"A\"","resource_id":3,"tags":["b","a"],"timezone":"Europe/Berlin"}}

kind: resource_created
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"available":true,"description":"Quiet","name":"Room \"A\"","resource_id":3,"status":"available","tags":["b","a"],"timezone":"UTC"}
frame: {"available":true,"description":"Quiet","name":"Room \"A\"","resource_id":3,"seq":42,"status":"available","tags":["b","a"],"timestamp":"2030-01-02T12:04:05Z","timezone":"UTC","type":"resource_created"}
owner frame: {"available":true,"description":"Quiet","name":"Room \"A\"","resource_id":3,"seq":42,"status":"available","tags":["b","a"],"timestamp":"2030-01-02T12:04:05Z","timezone":"UTC","type":"resource_created"}
webhook: resource.created {"event":"resource.created","timestamp":"2030-01-02T12:04:05Z","data":{"available":true,"description":"Quiet","name":"Room \"A\"","resource_id":3,"status":"available","tags":["b","a"],"timezone":"UTC"}}

kind: resource_created
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"available":false,"description":null,"name":"Room","resource_id":3,"status":"available","tags":[],"timezone":"Europe/Berlin"}
frame: {"available":false,"description":null,"name":"Room","resource_id":3,"seq":42,"status":"available","tags":[],"timestamp":"2030-01-02T12:04:05Z","timezone":"Europe/Berlin","type":"resource_created"}
owner frame: {"available":false,"description":null,"name":"Room","resource_id":3,"seq":42,"status":"available","tags":[],"timestamp":"2030-01-02T12:04:05Z","timezone":"Europe/Berlin","type":"resource_created"}
webhook: resource.created {"event":"resource.created","timestamp":"2030-01-02T12:04:05Z","data":{"available":false,"description":null,"name":"Room","resource_id":3,"status":"available","tags":[],"timezone":"Europe/Berlin"}}

kind: resource_deleted
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"resource_id":3}
frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_deleted"}
owner frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_deleted"}
webhook: resource.deleted {"event":"resource.deleted","timestamp":"2030-01-02T12:04:05Z","data":{"resource_id":3}}

kind: business_hours_updated
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"resource_id":3}
frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"business_hours_updated"}
owner frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"business_hours_updated"}
webhook: -

kind: business_hours_updated
audience: user=None resource=None everyone=true availability=true
payload: {"resource_id":null}
frame: {"resource_id":null,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"business_hours_updated"}
owner frame: {"resource_id":null,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"business_hours_updated"}
webhook: -

kind: blackout_dates_updated
audience: user=None resource=Some(3) everyone=true availability=true
payload: {"action":"added","blackout_id":8,"date":"2030-01-05","resource_id":3}
frame: {"action":"added","blackout_id":8,"date":"2030-01-05","resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"blackout_dates_updated"}
owner frame: {"action":"added","blackout_id":8,"date":"2030-01-05","resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"blackout_dates_updated"}
webhook: -

kind: blackout_dates_updated
audience: user=None resource=None everyone=true availability=true
payload: {"action":"deleted","blackout_id":8,"date":"2030-01-05","resource_id":null}
frame: {"action":"deleted","blackout_id":8,"date":"2030-01-05","resource_id":null,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"blackout_dates_updated"}
owner frame: {"action":"deleted","blackout_id":8,"date":"2030-01-05","resource_id":null,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"blackout_dates_updated"}
webhook: -

kind: tag_renamed
audience: user=None resource=None everyone=true availability=false
payload: {"new_name":"new","old_name":"old","updated_count":2}
frame: {"new_name":"new","old_name":"old","seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"tag_renamed","updated_count":2}
owner frame: {"new_name":"new","old_name":"old","seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"tag_renamed","updated_count":2}
webhook: -

kind: tag_deleted
audience: user=None resource=None everyone=true availability=false
payload: {"name":"gone","updated_count":0}
frame: {"name":"gone","seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"tag_deleted","updated_count":0}
owner frame: {"name":"gone","seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"tag_deleted","updated_count":0}
webhook: -

kind: user_created
audience: user=None resource=None everyone=false availability=false
payload: {"user_id":7,"username":"bob"}
frame: {"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"user_created","user_id":7,"username":"bob"}
owner frame: {"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"user_created","user_id":7,"username":"bob"}
webhook: user.created {"event":"user.created","timestamp":"2030-01-02T12:04:05Z","data":{"user_id":7,"username":"bob"}}

kind: sign_in_revoked
audience: user=None resource=None everyone=false availability=false
payload: {"session_id":"abc","user_id":7}
frame: {"seq":42,"session_id":"abc","timestamp":"2030-01-02T12:04:05Z","type":"sign_in_revoked","user_id":7}
owner frame: {"seq":42,"session_id":"abc","timestamp":"2030-01-02T12:04:05Z","type":"sign_in_revoked","user_id":7}
webhook: -

kind: sign_in_revoked
audience: user=None resource=None everyone=false availability=false
payload: {"session_id":null,"user_id":7}
frame: {"seq":42,"session_id":null,"timestamp":"2030-01-02T12:04:05Z","type":"sign_in_revoked","user_id":7}
owner frame: {"seq":42,"session_id":null,"timestamp":"2030-01-02T12:04:05Z","type":"sign_in_revoked","user_id":7}
webhook: -

kind: resource_group_changed
audience: user=None resource=None everyone=true availability=false
payload: {"action":"created","group_id":5,"name":"Floor \"3\"","parent_id":4}
frame: {"action":"created","group_id":5,"name":"Floor \"3\"","parent_id":4,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_group_changed"}
owner frame: {"action":"created","group_id":5,"name":"Floor \"3\"","parent_id":4,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_group_changed"}
webhook: -

kind: resource_group_changed
audience: user=None resource=None everyone=true availability=false
payload: {"action":"updated","group_id":4,"name":"HQ","parent_id":null}
frame: {"action":"updated","group_id":4,"name":"HQ","parent_id":null,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_group_changed"}
owner frame: {"action":"updated","group_id":4,"name":"HQ","parent_id":null,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_group_changed"}
webhook: -

kind: resource_group_changed
audience: user=None resource=None everyone=true availability=false
payload: {"action":"deleted","group_id":5,"name":"Floor 3","parent_id":4}
frame: {"action":"deleted","group_id":5,"name":"Floor 3","parent_id":4,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_group_changed"}
owner frame: {"action":"deleted","group_id":5,"name":"Floor 3","parent_id":4,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_group_changed"}
webhook: -

kind: resource_hierarchy_changed
audience: user=None resource=Some(3) everyone=true availability=false
payload: {"group_id":5,"parent_id":null,"resource_id":3}
frame: {"group_id":5,"parent_id":null,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_hierarchy_changed"}
owner frame: {"group_id":5,"parent_id":null,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_hierarchy_changed"}
webhook: -

kind: resource_hierarchy_changed
audience: user=None resource=Some(3) everyone=true availability=false
payload: {"group_id":null,"parent_id":2,"resource_id":3}
frame: {"group_id":null,"parent_id":2,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_hierarchy_changed"}
owner frame: {"group_id":null,"parent_id":2,"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"resource_hierarchy_changed"}
webhook: -

kind: waitlist_changed
audience: user=None resource=None everyone=false availability=false
payload: {"resource_id":3}
frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_changed"}
owner frame: {"resource_id":3,"seq":42,"timestamp":"2030-01-02T12:04:05Z","type":"waitlist_changed"}
webhook: -
"#;
