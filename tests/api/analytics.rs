//! Analytics (§2.12): the 7 operations, and the heatmap and cancellations of the dashboard's
//! charts, on both backends; their figures checked against a hand-computed fixture (two
//! resources in different zones with different opening hours, a blackout date and a DST week),
//! every error, the access rules (the original let anyone read anyone's patterns and
//! reservations) and formula neutralising in the CSV exports. The fixture writes reservations
//! straight into the database, then rebuilds the rollups as migration 25 does; that the rollups
//! follow changes made through the API is checked on its own.

use chrono::{DateTime, Utc};
use reserver_actors::ManualClock;
use resource_reserver::analytics::rollup;
use resource_reserver::params;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::response::status_and_detail as detail;
use crate::support::{TestApp, TestUser};

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// The fixture's "now": Wednesday 2030-04-03 10:00 UTC (12:00 in Berlin, 11:00 in London),
/// three days after both zones sprang forward (2030-03-31).
const NOW: &str = "2030-04-03T10:00:00Z";

struct Fixture {
    admin: TestUser,
    bob: TestUser,
    carol: TestUser,
    berlin: i64,
    london: i64,
}

/// Stores a reservation as it would be after its life (times, status and creation chosen), and
/// counts it in the rollups (as migration 25 counts the reservations it finds).
async fn stored(app: &TestApp, user: &TestUser, resource: i64, from: &str, to: &str, status: &str, created: &str) {
    let db = app.database().connect().await;
    db.execute(
        "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![user.id, resource, t(from), t(to), status, t(created)],
    )
    .await
    .expect("storing a reservation");
    rollup::rebuild(&db).await.expect("rebuilding the rollups");
    db.close().await;
}

/// Berlin room: open Monday to Friday 09:00–17:00 Berlin time, blackout on Monday 2030-04-01.
/// London desk: no hours (always open). The clock is moved to [`NOW`].
///
/// Hand computation for `days=7` (each window starts at the same wall-clock time 7 local days
/// earlier: Wednesday 2030-03-27 12:00 CET and 11:00 GMT, both 11:00 UTC, so both windows last
/// 167 hours across the DST change):
/// - Berlin open time: Wed 12–17 (5 h) + Thu 8 + Fri 8 + Tue 8 + Wed 09–12 (3 h) = 32 h
///   (weekend closed, Monday blacked out). Booked: #1 2.5 h, #2 1 h of its 2 (16–17, the rest
///   after closing), #4 1 h (12–13; it started before the window) = 4.5 h → 14.06 %.
/// - London open time: 167 h. Booked: #6 2 h (00:30 GMT–03:30 BST, three wall-clock hours),
///   #7 3 h, #8 0.75 h (until now) = 5.75 h → 3.44 %.
async fn fixture(app: &TestApp, clock: &ManualClock) -> Fixture {
    let admin = app.admin().await;
    let (bob, carol) = (app.user("bob").await, app.user("carol").await);
    let berlin = app
        .create_resource(&admin, json!({"name": "Berlin room", "timezone": "Europe/Berlin"}))
        .await;
    let london = app
        .create_resource(&admin, json!({"name": "London desk", "timezone": "Europe/London"}))
        .await;
    let hours: Vec<Value> = (0..5)
        .map(|day| json!({"day_of_week": day, "open_time": "09:00", "close_time": "17:00"}))
        .collect();
    let response = app
        .put_json_as(
            &admin,
            &format!("/api/v1/resources/{berlin}/business-hours"),
            &json!({"hours": hours}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post_json_as(
            &admin,
            &format!("/api/v1/resources/{berlin}/blackout-dates"),
            &json!({"date": "2030-04-01"}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
    clock.advance((t(NOW) - clock_now(clock)).to_std().unwrap());
    // Three months later: sign in again.
    let (admin, bob, carol) = (
        app.login_again(&admin).await,
        app.login_again(&bob).await,
        app.login_again(&carol).await,
    );

    let made = "2030-03-28T08:00:00Z";
    // Berlin (CET = UTC+1 until 2030-03-31 01:00 UTC, then CEST = UTC+2).
    stored(
        app,
        &bob,
        berlin,
        "2030-03-28T09:00:00Z",
        "2030-03-28T11:30:00Z",
        "expired",
        made,
    )
    .await; // #1 Thu 10:00
    stored(
        app,
        &bob,
        berlin,
        "2030-04-02T14:00:00Z",
        "2030-04-02T16:00:00Z",
        "expired",
        made,
    )
    .await; // #2 Tue 16:00
    stored(
        app,
        &bob,
        berlin,
        "2030-03-29T09:00:00Z",
        "2030-03-29T10:00:00Z",
        "cancelled",
        made,
    )
    .await; // #3
    stored(
        app,
        &carol,
        berlin,
        "2030-03-27T09:00:00Z",
        "2030-03-27T12:00:00Z",
        "expired",
        "2030-03-20T08:00:00Z",
    )
    .await; // #4
    stored(
        app,
        &carol,
        berlin,
        "2030-04-03T12:00:00Z",
        "2030-04-03T13:00:00Z",
        "active",
        made,
    )
    .await; // #5 future
    // London (GMT until 2030-03-31 01:00 UTC, then BST = UTC+1).
    stored(
        app,
        &bob,
        london,
        "2030-03-31T00:30:00Z",
        "2030-03-31T02:30:00Z",
        "expired",
        made,
    )
    .await; // #6 Sun 00:30
    stored(
        app,
        &carol,
        london,
        "2030-04-01T08:00:00Z",
        "2030-04-01T11:00:00Z",
        "expired",
        made,
    )
    .await; // #7 Mon 09:00
    stored(
        app,
        &carol,
        london,
        "2030-04-03T09:15:00Z",
        "2030-04-03T11:00:00Z",
        "active",
        made,
    )
    .await; // #8 Wed 10:15
    Fixture {
        admin,
        bob,
        carol,
        berlin,
        london,
    }
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use reserver_actors::Clock;
    clock.now()
}

async fn json_of(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let response = app.get_as(user, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn utilisation_is_booked_time_over_open_time_in_each_resources_zone(app: TestApp, clock: Arc<ManualClock>) {
        let f = fixture(&app, &clock).await;
        let body = json_of(&app, &f.bob, "/api/v1/analytics/utilization?days=7").await;
        assert_eq!(body["period"], json!({"start": "2030-03-27T11:00:00Z", "end": NOW, "days": 7}));
        assert_eq!(
            body["utilization"],
            json!([
                {"resource_id": f.berlin, "resource_name": "Berlin room", "total_hours_available": 32.0,
                 "booked_hours": 4.5, "utilization_percent": 14.06, "status": "available"},
                {"resource_id": f.london, "resource_name": "London desk", "total_hours_available": 167.0,
                 "booked_hours": 5.75, "utilization_percent": 3.44, "status": "available"},
            ])
        );
        let one = json_of(&app, &f.bob, &format!("/api/v1/analytics/utilization?days=7&resource_id={}", f.london)).await;
        assert_eq!(one["utilization"].as_array().unwrap().len(), 1);
        assert_eq!(one["utilization"][0]["resource_id"], f.london);
        let (status, why) = detail(app.get_as(&f.bob, "/api/v1/analytics/utilization?resource_id=999999").await).await;
        assert_eq!((status, why.as_str()), (404, "Resource not found"));
        // The default window is 30 days.
        let default = json_of(&app, &f.bob, "/api/v1/analytics/utilization").await;
        assert_eq!(default["period"]["days"], 30);

        let csv = app.get_as(&f.bob, "/api/v1/analytics/export/utilization.csv?days=7").await;
        assert_eq!(csv.status(), 200);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(csv.headers()["content-disposition"], "attachment; filename=utilization_7days.csv");
        assert_eq!(
            csv.text().await.unwrap(),
            format!(
                "resource_id,resource_name,total_hours_available,booked_hours,utilization_percent,status\r\n\
                 {},Berlin room,32.0,4.5,14.06,available\r\n{},London desk,167.0,5.75,3.44,available\r\n",
                f.berlin, f.london
            )
        );
    }

    #[app(clock, long_tokens)]
    async fn popularity_peaks_and_the_dashboard_match_the_hand_computed_figures(app: TestApp, clock: Arc<ManualClock>) {
        let f = fixture(&app, &clock).await;
        let popular = json_of(&app, &f.bob, "/api/v1/analytics/popular-resources?days=7").await;
        assert_eq!(popular["period"]["days"], 7);
        assert_eq!(
            popular["resources"],
            json!([
                {"resource_id": f.london, "resource_name": "London desk", "reservation_count": 3, "rank": 1},
                {"resource_id": f.berlin, "resource_name": "Berlin room", "reservation_count": 2, "rank": 2},
            ])
        );
        let top = json_of(&app, &f.bob, "/api/v1/analytics/popular-resources?days=7&limit=1").await;
        assert_eq!(top["resources"].as_array().unwrap().len(), 1);

        // Local hours: #1 10:00 CET, #8 10:15 BST (both 09:xx UTC: the original's UTC hours
        // would put the peak at 9), #2 16:00, #6 00:30, #7 09:00.
        let peaks = json_of(&app, &f.bob, "/api/v1/analytics/peak-times?days=7").await;
        assert_eq!(peaks["period"], json!({"start": "2030-03-27T11:00:00Z", "end": NOW}));
        assert_eq!(peaks["total_reservations"], 5);
        let hourly = peaks["hourly_distribution"].as_array().unwrap();
        assert_eq!(hourly.len(), 24);
        let counts: Vec<(i64, i64)> = hourly
            .iter()
            .filter(|h| h["count"] != 0)
            .map(|h| (h["hour"].as_i64().unwrap(), h["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(counts, vec![(0, 1), (9, 1), (10, 2), (16, 1)]);
        assert_eq!(
            peaks["daily_distribution"],
            json!([
                {"day": "Monday", "day_number": 0, "count": 1}, {"day": "Tuesday", "day_number": 1, "count": 1},
                {"day": "Wednesday", "day_number": 2, "count": 1}, {"day": "Thursday", "day_number": 3, "count": 1},
                {"day": "Friday", "day_number": 4, "count": 0}, {"day": "Saturday", "day_number": 5, "count": 0},
                {"day": "Sunday", "day_number": 6, "count": 1},
            ])
        );
        assert_eq!((peaks["peak_hour"].clone(), peaks["peak_hour_count"].clone()), (json!(10), json!(2)));
        assert_eq!((peaks["peak_day"].clone(), peaks["peak_day_count"].clone()), (json!("Monday"), json!(1)));

        let users: i64 = {
            let db = app.database().connect().await;
            let n = db.query_one("SELECT COUNT(*) AS n FROM users", vec![]).await.unwrap().get("n").unwrap();
            db.close().await;
            n
        };
        let dashboard = json_of(&app, &f.bob, "/api/v1/analytics/dashboard?days=7").await;
        assert_eq!(dashboard["period"], json!({"start": "2030-03-27T11:00:00Z", "end": NOW}));
        // Created in the window: all but #4; active #5 and #8; cancelled #3.
        assert_eq!(
            dashboard["overview"],
            json!({"total_resources": 2, "total_users": users, "total_reservations": 7, "active_reservations": 2,
                   "cancelled_reservations": 1, "cancellation_rate": 14.29, "average_utilization": 8.75})
        );
        assert_eq!(dashboard["top_resources"], popular["resources"]);
        assert_eq!(dashboard["peak_times"], json!({"peak_hour": 10, "peak_day": "Monday"}));

        // An empty window: zeros, and the peaks of the original (hour 0, Monday).
        clock.advance(std::time::Duration::from_secs(400 * 86_400));
        let admin = app.login_again(&f.admin).await;
        let empty = json_of(&app, &admin, "/api/v1/analytics/peak-times?days=1").await;
        assert_eq!((empty["total_reservations"].clone(), empty["peak_hour"].clone(), empty["peak_day"].clone()), (json!(0), json!(0), json!("Monday")));
        let empty = json_of(&app, &admin, "/api/v1/analytics/dashboard?days=1").await;
        assert_eq!(empty["overview"]["cancellation_rate"], 0.0);
        assert_eq!(empty["top_resources"], json!([]));
    }

    #[app(clock, long_tokens)]
    async fn year_long_peak_times_read_four_week_blocks_only_where_a_zone_keeps_its_offset(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let berlin = app.create_resource(&admin, json!({"name": "Berlin room", "timezone": "Europe/Berlin"})).await;
        let kolkata = app.create_resource(&admin, json!({"name": "Kolkata desk", "timezone": "Asia/Kolkata"})).await;
        clock.advance((t(NOW) - clock_now(&clock)).to_std().unwrap());
        let (admin, bob) = (app.login_again(&admin).await, app.login_again(&bob).await);
        // The window's whole four-week blocks (28 days from day 0, 1970-01-01) run from
        // 2029-04-05 to 2030-03-07. Berlin's clocks go back on Sunday 2029-10-28 inside the block
        // of 2029-10-18 to 11-15, so there a Saturday 08:00 UTC is 10:00 before and 09:00 after.
        let made = "2029-03-01T08:00:00Z";
        for (resource, start, status) in [
            (berlin, "2029-03-02T08:00:00Z", "expired"),   // before the window
            (berlin, "2029-10-27T08:00:00Z", "expired"),   // Sat 10:00 CEST (changing block)
            (berlin, "2029-11-03T08:00:00Z", "expired"),   // Sat 09:00 CET (changing block)
            (berlin, "2030-01-15T08:00:00Z", "expired"),   // Tue 09:00 CET (steady block)
            (berlin, "2030-01-16T08:00:00Z", "cancelled"), // not counted
            (berlin, "2030-01-22T08:00:00Z", "expired"),   // Tue 09:00 CET (the same block row)
            (kolkata, "2030-02-05T20:00:00Z", "expired"),  // Wed 01:30 IST (steady block)
            (berlin, "2030-03-31T08:00:00Z", "expired"),   // Sun 10:00 CEST (days after the blocks)
        ] {
            let end = (t(start) + chrono::Duration::minutes(45)).to_rfc3339();
            stored(&app, &bob, resource, start, &end, status, made).await;
        }
        let peaks = json_of(&app, &admin, "/api/v1/analytics/peak-times?days=365").await;
        assert_eq!(peaks["total_reservations"], 6);
        let hourly: Vec<(i64, i64)> = peaks["hourly_distribution"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["count"] != 0)
            .map(|h| (h["hour"].as_i64().unwrap(), h["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(hourly, vec![(1, 1), (9, 3), (10, 2)]);
        let daily: Vec<i64> = peaks["daily_distribution"].as_array().unwrap().iter().map(|d| d["count"].as_i64().unwrap()).collect();
        assert_eq!(daily, vec![0, 2, 1, 0, 0, 2, 1]);
        assert_eq!((peaks["peak_hour"].clone(), peaks["peak_day"].clone()), (json!(9), json!("Tuesday")));
    }

    #[app(clock, long_tokens)]
    async fn user_patterns_and_the_reservations_export_show_an_ordinary_user_only_their_own(app: TestApp, clock: Arc<ManualClock>) {
        let f = fixture(&app, &clock).await;
        let everyone = json_of(&app, &f.admin, "/api/v1/analytics/user-patterns?days=7").await;
        assert_eq!(everyone["period"]["days"], 7);
        assert_eq!(
            everyone["users"],
            json!([
                {"user_id": f.bob.id, "username": "bob", "total_reservations": 4, "cancelled_count": 1, "cancellation_rate": 25.0},
                {"user_id": f.carol.id, "username": "carol", "total_reservations": 3, "cancelled_count": 0, "cancellation_rate": 0.0},
            ])
        );
        let carol = json_of(&app, &f.admin, &format!("/api/v1/analytics/user-patterns?days=7&user_id={}", f.carol.id)).await;
        assert_eq!(carol["users"], json!([everyone["users"][1]]));
        let limited = json_of(&app, &f.admin, "/api/v1/analytics/user-patterns?days=7&limit=1").await;
        assert_eq!(limited["users"], json!([everyone["users"][0]]));

        // The attack of the original: bob reads everyone's patterns, then carol's by id.
        let own = json_of(&app, &f.bob, "/api/v1/analytics/user-patterns?days=7").await;
        assert_eq!(own["users"], json!([everyone["users"][0]]));
        let (status, why) = detail(app.get_as(&f.bob, &format!("/api/v1/analytics/user-patterns?user_id={}", f.carol.id)).await).await;
        assert_eq!((status, why.as_str()), (403, "Insufficient permissions: read_any on reservation"));
        let mine = json_of(&app, &f.bob, &format!("/api/v1/analytics/user-patterns?days=7&user_id={}", f.bob.id)).await;
        assert_eq!(mine["users"], own["users"]);

        // The export: everyone's for an administrator, only bob's for bob.
        let all = app.get_as(&f.admin, "/api/v1/analytics/export/reservations.csv?days=7").await;
        assert_eq!(all.status(), 200);
        assert_eq!(all.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(all.headers()["content-disposition"], "attachment; filename=reservations_7days.csv");
        let all = all.text().await.unwrap();
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines[0], "reservation_id,resource_name,username,start_time,end_time,status,created_at");
        assert_eq!(lines.len(), 1 + 7, "created in the window: all but #4");
        assert!(lines[1].ends_with(",Berlin room,bob,2030-03-28T09:00:00Z,2030-03-28T11:30:00Z,expired,2030-03-28T08:00:00Z"), "{}", lines[1]);
        let bobs = app.get_as(&f.bob, "/api/v1/analytics/export/reservations.csv?days=7").await.text().await.unwrap();
        let bobs: Vec<&str> = bobs.lines().skip(1).collect();
        assert_eq!(bobs.len(), 4);
        assert!(bobs.iter().all(|line| line.contains(",bob,")), "{bobs:?}");
        assert!(!bobs.iter().any(|line| line.contains("carol")));
    }

    #[app(clock, long_tokens)]
    async fn the_heatmap_is_utilisation_per_local_weekday_hour_and_null_when_never_open(app: TestApp, clock: Arc<ManualClock>) {
        let f = fixture(&app, &clock).await;
        let body = json_of(&app, &f.bob, "/api/v1/analytics/heatmap?days=7").await;
        assert_eq!(body["period"], json!({"start": "2030-03-27T11:00:00Z", "end": NOW}));
        let maps = body["resources"].as_array().unwrap();
        assert_eq!(maps.len(), 2);
        assert_eq!(
            (maps[0]["resource_id"].clone(), maps[0]["resource_name"].clone(), maps[0]["timezone"].clone()),
            (json!(f.berlin), json!("Berlin room"), json!("Europe/Berlin"))
        );
        // Berlin: open Monday to Friday 9–17, but Monday 2030-04-01 is blacked out (the only
        // Monday of the window), so Monday is never open. Booked: #1 Thu 10:00–12:30 CET, #2
        // Tue 16:00–17:00 CEST (until closing), #4 Wed 12:00–13:00 CET (from the window's start).
        let mut berlin = vec![vec![Value::Null; 24]; 7];
        for day in &mut berlin[1..5] {
            day[9..17].fill(json!(0.0));
        }
        berlin[3][10] = json!(100.0);
        berlin[3][11] = json!(100.0);
        berlin[3][12] = json!(50.0);
        berlin[1][16] = json!(100.0);
        berlin[2][12] = json!(100.0);
        assert_eq!(maps[0]["cells"], json!(berlin));
        // London, always open, but 01:00–02:00 on Sunday 2030-03-31 never happened (the clocks
        // went from 01:00 GMT to 02:00 BST). Booked: #6 Sun 00:30 GMT–03:30 BST, #7 Mon
        // 09:00–12:00 BST, #8 Wed 10:15–11:00 BST (until now).
        let mut london = vec![vec![json!(0.0); 24]; 7];
        london[6][1] = Value::Null;
        london[6][0] = json!(50.0);
        london[6][2] = json!(100.0);
        london[6][3] = json!(50.0);
        london[0][9..12].fill(json!(100.0));
        london[2][10] = json!(75.0);
        assert_eq!(maps[1]["cells"], json!(london));

        let one = json_of(&app, &f.admin, &format!("/api/v1/analytics/heatmap?days=7&resource_id={}", f.london)).await;
        assert_eq!(one["resources"], json!([maps[1]]));
    }

    #[app(clock, long_tokens)]
    async fn cancellations_count_the_bookings_created_each_utc_day(app: TestApp, clock: Arc<ManualClock>) {
        let f = fixture(&app, &clock).await;
        let body = json_of(&app, &f.bob, "/api/v1/analytics/cancellations?days=7").await;
        assert_eq!(body["period"], json!({"start": "2030-03-27T11:00:00Z", "end": NOW}));
        // Created in the window: all but #4, all on 2030-03-28; #3 is cancelled.
        let days: Vec<Value> = ["27", "28", "29", "30", "31"]
            .iter()
            .map(|d| format!("2030-03-{d}"))
            .chain(["01", "02", "03"].iter().map(|d| format!("2030-04-{d}")))
            .map(|date| {
                let (created, cancelled) = if date == "2030-03-28" { (7, 1) } else { (0, 0) };
                json!({"date": date, "created": created, "cancelled": cancelled})
            })
            .collect();
        assert_eq!(body["days"], json!(days));
    }

    #[app(clock, long_tokens)]
    async fn the_figures_follow_bookings_made_and_cancelled_through_the_api(app: TestApp, clock: Arc<ManualClock>) {
        use reserver_actors::Clock;
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.create_resource(&admin, json!({"name": "Room"})).await;
        let gone = app.create_resource(&admin, json!({"name": "Gone"})).await;
        let now = clock.now();
        let slot = |hours: i64| {
            let start = now + chrono::Duration::hours(hours);
            (start.to_rfc3339(), (start + chrono::Duration::hours(1)).to_rfc3339())
        };
        let mut ids = Vec::new();
        for (resource, hours) in [(room, 2), (room, 4), (gone, 2)] {
            let (start, end) = slot(hours);
            let response = app.book(&bob, resource, &start, &end).await;
            assert_eq!(response.status(), 201);
            ids.push(response.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        }
        let cancelled = app.post_json_as(&bob, &format!("/api/v1/reservations/{}/cancel", ids[1]), &json!({})).await;
        assert_eq!(cancelled.status(), 200);
        // Windows end at now, exclusive: a minute later the bookings are in.
        clock.advance(std::time::Duration::from_secs(60));
        let dashboard = json_of(&app, &admin, "/api/v1/analytics/dashboard?days=1").await;
        assert_eq!(
            (dashboard["overview"]["total_reservations"].clone(), dashboard["overview"]["active_reservations"].clone(),
             dashboard["overview"]["cancelled_reservations"].clone()),
            (json!(3), json!(2), json!(1))
        );
        let days = json_of(&app, &admin, "/api/v1/analytics/cancellations?days=1").await;
        let today: Vec<&Value> = days["days"].as_array().unwrap().iter().filter(|d| d["created"] != 0).collect();
        assert_eq!(today.len(), 1);
        assert_eq!((today[0]["created"].clone(), today[0]["cancelled"].clone()), (json!(3), json!(1)));
        // The four-week level the projection wrote is what a rebuild from the reservations makes.
        let projected = block_rows(&app).await;
        assert_eq!(projected.iter().map(|row| row[3..].iter().sum::<i64>()).sum::<i64>(), 2, "{projected:?}");
        let db = app.database().connect().await;
        rollup::rebuild(&db).await.unwrap();
        db.close().await;
        assert_eq!(block_rows(&app).await, projected);

        // Deleting a resource (once its booking is cancelled) takes its bookings out of every figure.
        let cancelled = app.post_json_as(&bob, &format!("/api/v1/reservations/{}/cancel", ids[2]), &json!({})).await;
        assert_eq!(cancelled.status(), 200);
        assert_eq!(app.delete_as(&admin, &format!("/api/v1/resources/{gone}")).await.status(), 200);
        let patterns = json_of(&app, &admin, "/api/v1/analytics/user-patterns?days=1").await;
        assert_eq!(
            (patterns["users"][0]["total_reservations"].clone(), patterns["users"][0]["cancelled_count"].clone()),
            (json!(2), json!(1))
        );

        // A day later the remaining booking has been used: an hour of a 24-hour window.
        clock.advance(std::time::Duration::from_secs(86_400));
        let admin = app.login_again(&admin).await;
        let used = json_of(&app, &admin, &format!("/api/v1/analytics/utilization?days=1&resource_id={room}")).await;
        assert_eq!(used["utilization"][0]["booked_hours"], 1.0);
        assert_eq!(used["utilization"][0]["utilization_percent"], 4.17);
        let popular = json_of(&app, &admin, "/api/v1/analytics/popular-resources?days=1").await;
        assert_eq!(popular["resources"], json!([{"resource_id": room, "resource_name": "Room", "reservation_count": 1, "rank": 1}]));
    }

    // The projection counts a booking made, requested or held from the copy its event carries,
    // and every other change from the row it reads: either way each counted row is its
    // reservation, and the rollups are what a rebuild from the reservations makes.
    #[app(clock, long_tokens)]
    async fn every_kind_of_change_leaves_the_rollups_as_a_rebuild_makes_them(app: TestApp, clock: Arc<ManualClock>) {
        use reserver_actors::Clock;
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let room = app.create_resource(&admin, json!({"name": "Room"})).await;
        let lab = app.create_resource(&admin, json!({"name": "Lab"})).await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        let path = format!("/api/v1/approvals/resources/{lab}/settings");
        assert_eq!(app.put_json_as(&admin, &path, &settings).await.status(), 200);
        let now = clock.now();
        // Slots that cross UTC hours, so a booking spreads over several hour rows.
        let slot = |hours: i64, minutes: i64| {
            let start = now + chrono::Duration::hours(hours) + chrono::Duration::minutes(17);
            let end = start + chrono::Duration::minutes(minutes);
            json!({"start_time": start.to_rfc3339(), "end_time": end.to_rfc3339()})
        };
        let with = |resource: i64, slot: Value| {
            let mut body = slot;
            body["resource_id"] = json!(resource);
            body
        };
        let post = |user: &TestUser, path: &str, body: Value| {
            let (app, user, path) = (&app, user.clone(), path.to_owned());
            async move {
                let response = app.post_json_as(&user, &path, &body).await;
                assert!(response.status().is_success(), "{path}: {}", response.status());
                response.json::<Value>().await.unwrap()
            }
        };
        let booked = post(&bob, "/api/v1/reservations", with(room, slot(2, 150))).await;
        post(&carol, "/api/v1/reservations", with(room, slot(6, 45))).await;
        let held = post(&bob, "/api/v1/holds", with(room, slot(9, 90))).await;
        post(&bob, &format!("/api/v1/holds/{}/confirm", held["id"]), json!({})).await;
        post(&carol, "/api/v1/holds", with(room, slot(12, 30))).await;
        let requested = post(&bob, "/api/v1/approvals/reservations", with(lab, slot(3, 60))).await;
        assert_eq!(requested["status"], "pending_approval");
        let respond = format!("/api/v1/approvals/{}/respond", requested["approval_id"]);
        post(&admin, &respond, json!({"action": "approve"})).await;
        post(&carol, "/api/v1/reservations", with(lab, slot(5, 60))).await;
        post(&bob, &format!("/api/v1/reservations/{}/cancel", booked["id"]), json!({})).await;

        let db = app.database().connect().await;
        let reservations = db
            .query(
                "SELECT id, resource_id, user_id, start_time, end_time, created_at, status FROM reservations ORDER BY id",
                vec![],
            )
            .await
            .unwrap();
        let reservations: Vec<(i64, i64, i64, i64, i64, i64, String)> = reservations
            .iter()
            .map(|row| {
                let micros = |column: &str| row.get::<DateTime<Utc>>(column).unwrap().timestamp_micros();
                (row.get("id").unwrap(), row.get("resource_id").unwrap(), row.get("user_id").unwrap(),
                 micros("start_time"), micros("end_time"), micros("created_at"), row.get("status").unwrap())
            })
            .collect();
        let statuses: Vec<&str> = reservations.iter().map(|r| r.6.as_str()).collect();
        assert_eq!(statuses, ["cancelled", "active", "active", "held", "active", "pending_approval"]);
        let counted = db
            .query(
                "SELECT reservation_id, resource_id, user_id, start_us, end_us, created_us, status
                 FROM analytics_counted ORDER BY reservation_id",
                vec![],
            )
            .await
            .unwrap();
        let counted: Vec<(i64, i64, i64, i64, i64, i64, String)> = counted
            .iter()
            .map(|row| {
                let n = |column: &str| row.get::<i64>(column).unwrap();
                (n("reservation_id"), n("resource_id"), n("user_id"), n("start_us"), n("end_us"), n("created_us"),
                 row.get("status").unwrap())
            })
            .collect();
        assert_eq!(counted, reservations, "each counted row is its reservation");

        let projected = rollup_rows(&app).await;
        assert!(projected.iter().all(|rows| !rows.is_empty()), "{projected:?}");
        rollup::rebuild(&db).await.unwrap();
        db.close().await;
        assert_eq!(rollup_rows(&app).await, projected);
    }

    async fn csv_exports_neutralise_formula_cells(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        // Names are trimmed, so none starts with a tab or a carriage return (the CSV writer's
        // unit tests cover those).
        let names = ["=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)"];
        let mut rooms = Vec::new();
        for name in names {
            rooms.push(app.create_resource(&admin, json!({"name": name})).await);
        }
        let start = chrono::Utc::now() + chrono::Duration::days(1);
        let end = start + chrono::Duration::hours(1);
        let response = app.book(&bob, rooms[0], &start.to_rfc3339(), &end.to_rfc3339()).await;
        assert_eq!(response.status(), 201);

        let utilisation = app.get_as(&admin, "/api/v1/analytics/export/utilization.csv").await.text().await.unwrap();
        let reservations = app.get_as(&bob, "/api/v1/analytics/export/reservations.csv").await.text().await.unwrap();
        for name in names {
            let quoted = csv_field(&format!("'{name}"));
            assert!(utilisation.contains(&format!(",{quoted},")), "{name:?} in {utilisation:?}");
        }
        assert!(reservations.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\",bob,"), "{reservations:?}");
        for line in utilisation.lines().chain(reservations.lines()).skip(1) {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(!cell.starts_with(['=', '+', '@', '\t']), "{cell:?} in {line:?}");
            }
        }
    }

    async fn every_error_of_the_section(app: TestApp) {
        let bob = app.user("bob").await;
        let operations = [
            "dashboard", "utilization", "popular-resources", "peak-times", "user-patterns",
            "export/utilization.csv", "export/reservations.csv", "heatmap", "cancellations",
        ];
        for operation in operations {
            let path = format!("/api/v1/analytics/{operation}");
            let (status, why) = detail(app.get(&path).await).await;
            assert_eq!((status, why.as_str()), (401, "Not authenticated"), "{path}");
            assert_eq!(app.get_as(&bob, &path).await.status(), 200, "{path}");
            for days in ["0", "366", "-1", "seven"] {
                let response = app.get_as(&bob, &format!("{path}?days={days}")).await;
                assert_eq!(response.status(), 422, "{path}?days={days}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["detail"][0]["loc"], json!(["query", "days"]), "{path}?days={days}: {body}");
            }
            assert_eq!(app.get_as(&bob, &format!("{path}?days=365")).await.status(), 200, "{path}");
            assert_eq!(app.get_as(&bob, &format!("{path}?days=1")).await.status(), 200, "{path}");
        }
        let response = app.get_as(&bob, "/api/v1/analytics/popular-resources?days=0").await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["detail"][0]["type"], "greater_than_equal");
        assert_eq!(body["detail"][0]["msg"], "Input should be greater than or equal to 1");
        for path in ["popular-resources", "user-patterns"] {
            for limit in ["0", "101"] {
                let response = app.get_as(&bob, &format!("/api/v1/analytics/{path}?limit={limit}")).await;
                assert_eq!(response.status(), 422, "{path}?limit={limit}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["detail"][0]["loc"], json!(["query", "limit"]));
            }
            assert_eq!(app.get_as(&bob, &format!("/api/v1/analytics/{path}?limit=100")).await.status(), 200);
        }
        for path in ["utilization", "heatmap"] {
            let (status, why) = detail(app.get_as(&bob, &format!("/api/v1/analytics/{path}?resource_id=999999")).await).await;
            assert_eq!((status, why.as_str()), (404, "Resource not found"), "{path}");
        }
        let response = app.get_as(&bob, "/api/v1/analytics/user-patterns?limit=101").await;
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["detail"][0]["msg"], "Input should be less than or equal to 100");
    }
}

/// The rows of the four-week rollup level that count something, in key order.
async fn block_rows(app: &TestApp) -> Vec<Vec<i64>> {
    let hours: Vec<String> = (0..24).map(|h| format!("s{h}")).collect();
    let hours: Vec<&str> = hours.iter().map(String::as_str).collect();
    counting_rows(
        app,
        "analytics_resource_blocks",
        &["resource_id", "block", "weekday"],
        &hours,
    )
    .await
}

/// The rows that count something of the hourly, daily, four-week and per-user rollups.
async fn rollup_rows(app: &TestApp) -> Vec<Vec<Vec<i64>>> {
    let day_hours: Vec<String> = (0..24).flat_map(|h| [format!("s{h}"), format!("b{h}")]).collect();
    let mut day_counts = vec!["started", "booked_us"];
    day_counts.extend(day_hours.iter().map(String::as_str));
    vec![
        counting_rows(
            app,
            "analytics_resource_hours",
            &["resource_id", "hour"],
            &["started", "booked_us"],
        )
        .await,
        counting_rows(app, "analytics_resource_days", &["resource_id", "day"], &day_counts).await,
        block_rows(app).await,
        counting_rows(
            app,
            "analytics_user_hours",
            &["user_id", "hour"],
            &["created", "active", "cancelled"],
        )
        .await,
    ]
}

/// The rows of `table` in key order, keys then counts, leaving out those whose counts are all
/// zero (the projection keeps a row whose bookings were all taken back; a rebuild makes none).
async fn counting_rows(app: &TestApp, table: &str, keys: &[&str], counts: &[&str]) -> Vec<Vec<i64>> {
    let db = app.database().connect().await;
    let columns: Vec<&str> = keys.iter().chain(counts).copied().collect();
    let sql = format!(
        "SELECT {} FROM {table} ORDER BY {}",
        columns.join(", "),
        keys.join(", ")
    );
    let rows = db.query(&sql, vec![]).await.unwrap();
    db.close().await;
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .map(|column| row.get::<i64>(column).unwrap())
                .collect::<Vec<i64>>()
        })
        .filter(|row| row[keys.len()..].iter().any(|n| *n != 0))
        .collect()
}

/// `text` as the csv crate writes a field: quoted when it holds a quote, comma or line break.
fn csv_field(text: &str) -> String {
    if text.contains(['"', ',', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
