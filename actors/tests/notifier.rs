//! The notifier: routing by topic, one copy per session, the replay seam, slow consumers.

use std::sync::Arc;

use actix::prelude::*;
use reserver_actors::notifier::*;
use tokio::sync::{mpsc, oneshot};

fn event(seq: i64, audience: Audience) -> Event {
    Event {
        seq,
        audience,
        groups: Arc::from([]),
        frame: format!("{{\"seq\":{seq}}}").into(),
        owner_frame: None,
    }
}

fn for_user(user: i64, resource: i64) -> Audience {
    Audience {
        user: Some(user),
        resource: Some(resource),
        everyone: false,
        availability: true,
    }
}

fn broadcast() -> Audience {
    Audience {
        everyone: true,
        ..Audience::default()
    }
}

struct Client {
    id: SessionId,
    published: i64,
    queue: mpsc::Receiver<Event>,
    dismissed: oneshot::Receiver<Dismissal>,
}

impl Client {
    fn seqs(&mut self) -> Vec<i64> {
        let mut seqs = Vec::new();
        while let Ok(event) = self.queue.try_recv() {
            seqs.push(event.seq);
        }
        seqs
    }
}

async fn connect(notifier: &Addr<Notifier>, user: i64, capacity: usize) -> Client {
    connect_as(notifier, user, None, capacity).await.unwrap()
}

async fn connect_as(
    notifier: &Addr<Notifier>,
    user: i64,
    login: Option<&str>,
    capacity: usize,
) -> Result<Client, TooManySockets> {
    let (queue, rx) = mpsc::channel(capacity);
    let (dismiss, dismissed) = oneshot::channel();
    let interests = Interests {
        user,
        ..Interests::default()
    };
    let Connected { id, published } = notifier
        .send(Connect {
            interests,
            login: login.map(Arc::from),
            queue,
            dismiss,
        })
        .await
        .unwrap()?;
    Ok(Client {
        id,
        published,
        queue: rx,
        dismissed,
    })
}

#[actix_rt::test]
async fn events_go_to_their_user_their_resource_subscribers_and_everyone_once() {
    let notifier = Notifier::new(41, 100, 20).start();
    let mut bob = connect(&notifier, 1, 16).await;
    let mut alice = connect(&notifier, 2, 16).await;
    let mut wall = connect(&notifier, 3, 16).await;
    let mut dashboard = connect(&notifier, 4, 16).await;
    assert_eq!(bob.published, 41, "replays end where live delivery starts");
    let add = |resources: Vec<i64>, availability| SubscriptionChange::Add {
        resources,
        availability,
        groups: vec![],
    };
    let subscribed = notifier
        .send(Subscribe {
            id: wall.id,
            change: add(vec![7], false),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(subscribed.resources.into_iter().collect::<Vec<_>>(), [7]);
    notifier
        .send(Subscribe {
            id: dashboard.id,
            change: add(vec![], true),
        })
        .await
        .unwrap();
    // Bob is also subscribed to his own resource: still one copy.
    notifier
        .send(Subscribe {
            id: bob.id,
            change: add(vec![7], false),
        })
        .await
        .unwrap();

    notifier
        .send(Publish(vec![
            event(41, broadcast()), // already published before: ignored
            event(42, for_user(1, 7)),
            event(43, for_user(2, 8)),
            event(44, broadcast()),
        ]))
        .await
        .unwrap();
    assert_eq!(bob.seqs(), [42, 44]);
    assert_eq!(alice.seqs(), [43, 44]);
    assert_eq!(wall.seqs(), [42, 44]);
    assert_eq!(dashboard.seqs(), [42, 43, 44]);

    notifier
        .send(Subscribe {
            id: wall.id,
            change: SubscriptionChange::Remove {
                resources: vec![7],
                availability: false,
                groups: vec![],
            },
        })
        .await
        .unwrap();
    notifier.send(Publish(vec![event(45, for_user(1, 7))])).await.unwrap();
    assert!(wall.seqs().is_empty());
    let late = connect(&notifier, 2, 16).await;
    assert_eq!(late.published, 45);
}

#[actix_rt::test]
async fn a_full_queue_dismisses_that_session_only() {
    let notifier = Notifier::new(0, 100, 20).start();
    let mut slow = connect(&notifier, 1, 2).await;
    let mut fast = connect(&notifier, 2, 16).await;
    let events: Vec<Event> = (1..=5).map(|seq| event(seq, broadcast())).collect();
    notifier.send(Publish(events)).await.unwrap();
    assert_eq!(fast.seqs(), [1, 2, 3, 4, 5]);
    assert_eq!(slow.seqs(), [1, 2]);
    assert_eq!(slow.dismissed.try_recv(), Ok(Dismissal::SlowConsumer));
    // Gone from the index: later events go to the others only.
    notifier.send(Publish(vec![event(6, broadcast())])).await.unwrap();
    assert_eq!(fast.seqs(), [6]);
    assert!(slow.queue.try_recv().is_err());
}

#[actix_rt::test]
async fn shutdown_dismisses_everyone_and_disconnect_forgets_a_session() {
    let notifier = Notifier::new(0, 100, 20).start();
    let mut gone = connect(&notifier, 1, 4).await;
    let mut staying = connect(&notifier, 1, 4).await;
    notifier.send(Disconnect { id: gone.id }).await.unwrap();
    notifier.send(Publish(vec![event(1, for_user(1, 1))])).await.unwrap();
    assert!(gone.seqs().is_empty());
    assert_eq!(staying.seqs(), [1]);
    notifier.send(Shutdown).await.unwrap();
    assert_eq!(staying.dismissed.try_recv(), Ok(Dismissal::Shutdown));
    // One that connects while the server stops is dismissed at once, and gets nothing.
    let mut late = connect(&notifier, 1, 4).await;
    assert_eq!(late.dismissed.try_recv(), Ok(Dismissal::Shutdown));
    notifier.send(Publish(vec![event(2, for_user(1, 1))])).await.unwrap();
    assert!(late.seqs().is_empty());
}

#[actix_rt::test]
async fn a_user_over_the_socket_cap_is_refused_while_others_connect() {
    let notifier = Notifier::new(0, 100, 2).start();
    let _first = connect(&notifier, 1, 4).await;
    let second = connect(&notifier, 1, 4).await;
    assert_eq!(
        connect_as(&notifier, 1, None, 4).await.err(),
        Some(TooManySockets { limit: 2 })
    );
    connect(&notifier, 2, 4).await;
    // A session that ends frees its place.
    notifier.send(Disconnect { id: second.id }).await.unwrap();
    assert!(connect_as(&notifier, 1, None, 4).await.is_ok());
}

#[actix_rt::test]
async fn a_revocation_dismisses_the_users_sessions_or_one_sign_ins() {
    let notifier = Notifier::new(0, 100, 20).start();
    let mut phone = connect_as(&notifier, 1, Some("phone"), 4).await.unwrap();
    let mut laptop = connect_as(&notifier, 1, Some("laptop"), 4).await.unwrap();
    let mut app = connect_as(&notifier, 1, None, 4).await.unwrap();
    let mut other = connect_as(&notifier, 2, Some("other"), 4).await.unwrap();
    let revoke = |login: Option<&str>| Revoke {
        user: 1,
        login: login.map(Arc::from),
    };
    notifier.send(revoke(Some("phone"))).await.unwrap();
    assert_eq!(phone.dismissed.try_recv(), Ok(Dismissal::Revoked));
    assert!(laptop.dismissed.try_recv().is_err());
    // Re-authenticated with the phone's new sign-in: the laptop's revocation no longer ends it.
    notifier
        .send(Reauthenticated {
            id: laptop.id,
            login: Some(Arc::from("phone-2")),
        })
        .await
        .unwrap();
    notifier.send(revoke(Some("laptop"))).await.unwrap();
    assert!(laptop.dismissed.try_recv().is_err());
    notifier.send(revoke(None)).await.unwrap();
    assert_eq!(laptop.dismissed.try_recv(), Ok(Dismissal::Revoked));
    assert_eq!(app.dismissed.try_recv(), Ok(Dismissal::Revoked));
    assert!(other.dismissed.try_recv().is_err());
    notifier.send(Publish(vec![event(1, broadcast())])).await.unwrap();
    assert_eq!(other.seqs(), [1]);
    assert!(app.seqs().is_empty());
}

#[test]
fn interests_admit_what_the_audience_names() {
    let interests = Interests {
        user: 1,
        resources: [5].into(),
        availability: false,
        groups: [30].into(),
    };
    assert!(interests.admits(&for_user(1, 9), &[]));
    assert!(interests.admits(&for_user(2, 5), &[]));
    assert!(!interests.admits(&for_user(2, 6), &[]));
    assert!(interests.admits(&broadcast(), &[]));
    // A resource in a subgroup of group 30, or in 30 itself.
    assert!(interests.admits(&for_user(2, 6), &[31, 30]));
    assert!(!interests.admits(&for_user(2, 6), &[31, 32]));
}

#[actix_rt::test]
async fn group_followers_get_the_events_of_resources_whose_groups_name_their_group_once() {
    let notifier = Notifier::new(0, 100, 20).start();
    let mut floor = connect(&notifier, 1, 16).await;
    let mut room = connect(&notifier, 2, 16).await;
    let mut elsewhere = connect(&notifier, 3, 16).await;
    let follow = |id, groups: Vec<i64>| Subscribe {
        id,
        change: SubscriptionChange::Add {
            resources: vec![],
            availability: false,
            groups,
        },
    };
    let followed = notifier.send(follow(floor.id, vec![10])).await.unwrap().unwrap();
    assert_eq!(followed.groups.into_iter().collect::<Vec<_>>(), [10]);
    // Following a group and a group inside it: still one copy.
    notifier.send(follow(room.id, vec![10, 11])).await.unwrap();
    notifier.send(follow(elsewhere.id, vec![20])).await.unwrap();
    let in_groups = |seq, groups: &[i64]| Event {
        groups: Arc::from(groups),
        ..event(seq, for_user(9, 5))
    };
    notifier
        .send(Publish(vec![
            in_groups(1, &[11, 10]),
            in_groups(2, &[10]),
            in_groups(3, &[]),
        ]))
        .await
        .unwrap();
    assert_eq!(floor.seqs(), [1, 2]);
    assert_eq!(room.seqs(), [1, 2]);
    assert!(elsewhere.seqs().is_empty());
    notifier
        .send(Subscribe {
            id: floor.id,
            change: SubscriptionChange::Remove {
                resources: vec![],
                availability: false,
                groups: vec![10],
            },
        })
        .await
        .unwrap();
    notifier.send(Publish(vec![in_groups(4, &[11, 10])])).await.unwrap();
    assert!(floor.seqs().is_empty());
    assert_eq!(room.seqs(), [4]);
}
