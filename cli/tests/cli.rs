//! The CLI binary end to end against the real server binary, each test on SQLite (in a
//! temporary directory) and on PostgreSQL (a database of its own).

mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use support::{Cli, Server, TIME_ZONE};

/// A day that is in the future whenever the test runs.
fn day_after_tomorrow() -> NaiveDate {
    (Utc::now() + Duration::days(2)).date_naive()
}

/// `date` at `hh:mm` in the test's zone, as an instant.
fn local(date: NaiveDate, hh: u32, mm: u32) -> DateTime<Utc> {
    let zone: chrono_tz::Tz = TIME_ZONE.parse().unwrap();
    zone.from_local_datetime(&date.and_hms_opt(hh, mm, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time string"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

fn ids(values: &Value) -> Vec<i64> {
    values
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect()
}

on_both_backends!(register_book_list_cancel_and_read_availability, &[], |server| {
    let cli = Cli::new(&server.url);
    cli.sign_up("alice");

    // The session file is private and has the documented fields.
    let auth: Value = serde_json::from_str(&std::fs::read_to_string(cli.auth_file()).unwrap()).unwrap();
    for key in ["access_token", "refresh_token", "saved_at", "expires_at"] {
        assert!(!auth[key].is_null(), "{key} in auth.json: {auth}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.auth_file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let me = cli.json(&["auth", "status"]);
    assert_eq!(
        (me["username"].as_str(), me["is_admin"].as_bool()),
        (Some("alice"), Some(true))
    );

    // The first user is the admin, and creates a resource.
    let resource = cli.json(&[
        "resources",
        "create",
        "Room A",
        "--tags",
        "meeting,big",
        "--timezone",
        TIME_ZONE,
    ]);
    let resource_id = resource["id"].as_i64().unwrap().to_string();
    let listed = cli.run(&["resources", "list"]).success().stdout;
    assert!(
        listed.contains("Room A") && listed.contains("meeting, big"),
        "tags in the order given: {listed}"
    );
    let page = cli.json(&["resources", "list"]);
    assert_eq!(
        (page["data"][0]["name"].as_str(), page["total_count"].as_i64()),
        (Some("Room A"), Some(1))
    );

    // A booking in local time with a duration: sent with the zone's offset.
    let day = day_after_tomorrow();
    let start = format!("{} 10:00", day.format("%Y-%m-%d"));
    let booked = cli.json(&["reservations", "create", &resource_id, &start, "1h30m"]);
    assert_eq!(instant(&booked["start_time"]), local(day, 10, 0));
    assert_eq!(instant(&booked["end_time"]), local(day, 11, 30));
    let booking_id = booked["id"].as_i64().unwrap();

    // The same slot again: the API's conflict message, exit 1.
    let conflict = cli
        .run(&["reservations", "create", &resource_id, &format!("{start}:00"), "30m"])
        .failure(5);
    assert!(conflict.stderr.contains("[ERROR] Time slot conflicts"), "{conflict:?}");

    // A daily series of 25 whose first occurrence conflicts: skipped, the others booked.
    let series = cli.json(&[
        "reservations",
        "create",
        &resource_id,
        &start,
        "1h",
        "--recurrence",
        "daily",
        "--count",
        "25",
        "--skip-conflicts",
    ]);
    assert_eq!(series["skipped"].as_array().map(Vec::len), Some(1), "{series}");
    let created = ids(&series["created"]);
    assert_eq!(created.len(), 24);

    // Tables show local times; JSON lists follow every cursor with --all.
    let table = cli.run(&["reservations", "list", "--limit", "5"]).success().stdout;
    assert!(
        table.contains("Room A") && table.contains("More: add --cursor"),
        "{table}"
    );
    let everything = cli.json(&[
        "reservations",
        "list",
        "--all",
        "--limit",
        "10",
        "--sort",
        "start_time",
        "--order",
        "asc",
    ]);
    assert_eq!(everything["data"].as_array().map(Vec::len), Some(25));
    assert_eq!(everything["has_more"], Value::Bool(false));
    assert_eq!(everything["data"][0]["id"].as_i64(), Some(booking_id));
    let shown = cli
        .run(&["reservations", "show", &booking_id.to_string()])
        .success()
        .stdout;
    assert!(
        shown.contains(&format!("{start} CE")),
        "times in the local zone: {shown}"
    );

    // Availability reads the {success, data} envelope.
    let availability = cli.run(&["resources", "availability", &resource_id]).success().stdout;
    assert!(
        availability.contains(&booking_id.to_string()) && availability.contains("alice"),
        "{availability}"
    );
    let envelope = cli.json(&["resources", "availability", &resource_id, "--days", "3"]);
    assert_eq!(envelope["success"], Value::Bool(true));
    assert_eq!(envelope["data"]["reservations"][0]["id"].as_i64(), Some(booking_id));

    // Cancel by id, the earliest of the series included: not on the first page of the list.
    let cancelled = cli
        .run(&[
            "reservations",
            "cancel",
            &booking_id.to_string(),
            "--reason",
            "plans changed",
            "--yes",
        ])
        .success();
    assert!(cancelled.stdout.contains("[OK] Cancelled reservation"), "{cancelled:?}");
    let earliest = created[0].to_string();
    cli.run(&["reservations", "cancel", &earliest, "-y"]).success();
    let after = cli.json(&["reservations", "show", &booking_id.to_string()]);
    assert_eq!(
        (after["status"].as_str(), after["cancellation_reason"].as_str()),
        (Some("cancelled"), Some("plans changed"))
    );
    let remaining = cli.json(&["reservations", "list", "--all"]);
    assert_eq!(remaining["data"].as_array().map(Vec::len), Some(23));
    let history = cli.json(&["reservations", "history", &booking_id.to_string()]);
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"cancelled") && actions.contains(&"created"),
        "{history}"
    );
});

on_both_backends!(errors_sessions_and_uploads, &[], |server| {
    // No server: the message, exit 6. Bad input: exit 2 before any request.
    let nowhere = Cli::new("http://127.0.0.1:9");
    let unreachable = nowhere.run(&["system", "status"]).failure(6);
    assert!(
        unreachable
            .stderr
            .contains("Unable to reach API at http://127.0.0.1:9. Is the server running?"),
        "{unreachable:?}"
    );
    let usage = nowhere
        .run(&["reservations", "create", "1", "tomorrow", "1h"])
        .failure(2);
    assert!(usage.stderr.contains("YYYY-MM-DD HH:MM"), "{usage:?}");
    nowhere
        .run(&["reservations", "create", "1", "2030-01-01 10:00", "1h", "--days", "0"])
        .failure(2);
    let not_logged_in = nowhere.run(&["reservations", "list"]).failure(3);
    assert!(not_logged_in.stderr.contains("Not logged in"), "{not_logged_in:?}");

    let cli = Cli::new(&server.url);
    let weak = cli
        .run_with_stdin(&["auth", "register", "-u", "bob", "--password-stdin"], "short\n")
        .failure(1);
    assert!(
        weak.stderr.contains("[ERROR] password: ") && weak.stderr.contains("at least 8 characters"),
        "{weak:?}"
    );
    cli.sign_up("admin");
    let wrong = cli.run_with_stdin(&["auth", "login", "-u", "admin", "--password-stdin"], "Wrong-pass-1\n");
    assert!(wrong.failure(3).stderr.contains("[ERROR]"));

    // A rejected access token is refreshed and the request retried; so is one about to expire.
    let tokens =
        |cli: &Cli| -> Value { serde_json::from_str(&std::fs::read_to_string(cli.auth_file()).unwrap()).unwrap() };
    let mut saved = tokens(&cli);
    saved["access_token"] = Value::from("not-a-token");
    std::fs::write(cli.auth_file(), saved.to_string()).unwrap();
    assert_eq!(cli.json(&["auth", "status"])["username"].as_str(), Some("admin"));
    let refreshed = tokens(&cli);
    assert_ne!(refreshed["access_token"], saved["access_token"]);
    assert_ne!(
        refreshed["refresh_token"], saved["refresh_token"],
        "refresh tokens rotate"
    );
    let mut expiring = refreshed.clone();
    expiring["expires_at"] = Value::from(Utc::now().timestamp() as f64 + 5.0);
    std::fs::write(cli.auth_file(), expiring.to_string()).unwrap();
    cli.json(&["reservations", "list"]);
    assert_ne!(tokens(&cli)["refresh_token"], refreshed["refresh_token"]);

    // CSV upload: a preview, a bad file (nothing imported, each bad row by line), a good one.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "name,tags,available\n# a comment\nDesk 1,\"desk,window\",true\nDesk 2,desk,false\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "name,timezone\nDesk 3,Mars/Olympus\nDesk 1,UTC\n,UTC\n").unwrap();
    let preview = cli.json(&["resources", "upload", good.to_str().unwrap(), "--preview"]);
    assert_eq!(preview["would_create"].as_array().map(Vec::len), Some(2), "{preview}");
    let refused = cli.run(&["resources", "upload", bad.to_str().unwrap()]).failure(1);
    assert!(
        refused.stderr.contains("Row 2:") && refused.stderr.contains("Row 4:"),
        "{refused:?}"
    );
    let uploaded = cli.run(&["resources", "upload", good.to_str().unwrap()]).success();
    assert!(uploaded.stdout.contains("[OK] 2 resources created"), "{uploaded:?}");
    let search = cli.json(&["resources", "search", "--tag", "desk", "--status", "all"]);
    assert_eq!(search["data"].as_array().map(Vec::len), Some(2), "{search}");

    // Logging out ends the session on the server and forgets it here.
    cli.run(&["auth", "logout"]).success();
    assert!(!cli.auth_file().exists());
    cli.run(&["auth", "status"]).failure(3);
});

on_both_backends!(bulk_booking_import_cancel_and_export, &[], |server| {
    let cli = Cli::new(&server.url);
    cli.sign_up("admin");
    let dir = tempfile::tempdir().unwrap();
    let rooms = dir.path().join("rooms.csv");
    std::fs::write(&rooms, "name\nRoom A\nRoom B\n").unwrap();
    cli.run(&["resources", "upload", rooms.to_str().unwrap()]).success();
    let listed = cli.json(&["resources", "list"]);
    let room_ids = ids(&listed["data"]);
    let both = format!("{},{}", room_ids[0], room_ids[1]);

    // The same slot on both rooms: a dry run books nothing, then both are booked.
    let dry = cli.json(&["bulk", "create", "-r", &both, "2030-05-02 10:00", "1h", "--dry-run"]);
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["success"].as_i64()),
        (Some(true), Some(2)),
        "{dry}"
    );
    let booked = cli.json(&["bulk", "create", "-r", &both, "2030-05-02 10:00", "1h"]);
    assert_eq!(booked["success"], 2, "{booked}");
    let again = cli
        .run(&["bulk", "create", "-r", &both, "2030-05-02 10:00", "1h"])
        .failure(1);
    assert!(again.stdout.contains("Time slot conflicts"), "{again:?}");

    // A CSV import: a progress bar, then what was booked; a refused file shows a table by row.
    let term = dir.path().join("term.csv");
    std::fs::write(
        &term,
        "resource_name,start_time,end_time\nRoom A,2030-05-03 10:00,2030-05-03 11:00\nRoom B,2030-05-03 10:00,2030-05-03 11:00\n",
    )
    .unwrap();
    let preview = cli
        .run(&["bulk", "import", term.to_str().unwrap(), "--dry-run"])
        .success();
    assert!(preview.stdout.contains("Dry run: all 2 would be booked"), "{preview:?}");
    let imported = cli.run(&["bulk", "import", term.to_str().unwrap()]).success();
    assert!(imported.stdout.contains("[OK] 2 reservations booked"), "{imported:?}");
    let refused = cli.run(&["bulk", "import", term.to_str().unwrap()]).failure(1);
    assert!(
        refused.stdout.contains("Row") && refused.stdout.contains("Time slot conflicts"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("2 of 2 refused: nothing was booked"),
        "{refused:?}"
    );
    let as_json = cli
        .run(&["bulk", "import", term.to_str().unwrap(), "--output", "json"])
        .failure(1);
    let answer: Value = serde_json::from_str(&as_json.stdout).unwrap();
    assert_eq!(
        (answer["success"].as_i64(), answer["errors"][1]["row"].as_i64()),
        (Some(0), Some(2)),
        "{answer}"
    );

    // Cancel two at once, then export what is left.
    let first_two: Vec<String> = booked["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reservation_id"].to_string())
        .collect();
    let mut args = vec!["bulk", "cancel"];
    args.extend(first_two.iter().map(String::as_str));
    let cancelled = cli.json(&args);
    assert_eq!(cancelled["success"], 2, "{cancelled}");
    let export = dir.path().join("mine.csv");
    let written = cli
        .run(&["bulk", "export", "--status", "active", "-f", export.to_str().unwrap()])
        .success();
    assert!(written.stdout.contains("reservations CSV written to"), "{written:?}");
    let csv = std::fs::read_to_string(&export).unwrap();
    assert!(
        csv.starts_with("reservation_id,resource_id,resource_name,user_id,username,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
});

/// The id of a created object, as text for the next command line.
fn id_of(value: &Value) -> String {
    value["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an id in {value}"))
        .to_string()
}

on_both_backends!(
    each_command_group_against_the_server,
    &[("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")],
    |server| {
        let cli = Cli::new(&server.url);
        cli.sign_up("admin");
        let room = id_of(&cli.json(&["resources", "create", "Room A", "--timezone", TIME_ZONE]));
        let day = day_after_tomorrow();
        let date = day.format("%Y-%m-%d").to_string();

        // Opening hours and blackout dates: a blackout day refuses bookings with a conflict (5).
        let every_day: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| format!("{d}=07:00-20:00"))
            .collect();
        let mut args = vec!["hours", "set", "--resource", room.as_str()];
        args.extend(every_day.iter().map(String::as_str));
        cli.run(&args).success();
        assert_eq!(cli.json(&["hours", "show", &room]).as_array().map(Vec::len), Some(7));
        let slots = cli.json(&["hours", "slots", &room, "--date", &date, "--duration", "60"]);
        assert_eq!(slots["slots"].as_array().map(Vec::len), Some(13), "{slots}");
        let blackout = cli.json(&["blackouts", "add", &date, "--resource", &room, "--reason", "Inventory"]);
        let listed = cli.run(&["blackouts", "list", "--resource", &room]).success().stdout;
        assert!(listed.contains("Inventory"), "{listed}");
        let refused = cli.run(&["reserve", &room, &format!("{date} 10:00"), "1h"]).failure(5);
        assert!(refused.stderr.contains("Inventory"), "{refused:?}");
        cli.run(&["blackouts", "delete", &id_of(&blackout), "--yes"]).success();

        // The original's shortcuts: reserve and upcoming.
        let booked = cli.json(&["reserve", &room, &format!("{date} 10:00"), "1h"]);
        let booking = id_of(&booked);
        let upcoming = cli.json(&["upcoming"]);
        assert_eq!(upcoming["data"][0]["id"], booked["id"], "{upcoming}");
        let commands = cli.run(&["commands"]).success().stdout;
        assert!(
            commands.contains("webhooks retry") && commands.contains("watch"),
            "{commands}"
        );

        // Groups, labels and search.
        let group = id_of(&cli.json(&["groups", "create", "HQ", "--building", "North"]));
        cli.run(&["groups", "assign", &group, &room]).success();
        let members = cli
            .run(&["groups", "resources", &group, "--output", "csv"])
            .success()
            .stdout;
        assert_eq!(
            members.lines().collect::<Vec<_>>(),
            vec![
                "ID,Name,Available,Status,Tags",
                &format!("{room},Room A,true,available,")
            ],
            "CSV: a header, then a row per resource"
        );
        assert!(cli.run(&["groups", "tree"]).success().stdout.contains("HQ"));
        let label = id_of(&cli.json(&["labels", "create", "equipment", "projector"]));
        cli.run(&["labels", "set", &room, &label]).success();
        assert_eq!(cli.json(&["labels", "of", &room])[0]["value"], "projector");
        let found = cli.json(&["search", "resources", "--label", "equipment:projector"]);
        assert_eq!(found["results"][0]["name"], "Room A", "{found}");
        let suggested = cli.run(&["search", "suggest", "Roo"]).success().stdout;
        assert!(suggested.contains("Room A"), "{suggested}");

        // Calendar: the feed URL, the feed, one reservation as .ics.
        assert!(
            cli.json(&["calendar", "url"])["url"]
                .as_str()
                .unwrap_or_default()
                .contains(".ics")
        );
        let dir = tempfile::tempdir().unwrap();
        let ics = dir.path().join("booking.ics");
        cli.run(&["calendar", "export", &booking, "-f", ics.to_str().unwrap()])
            .success();
        let text = std::fs::read_to_string(&ics).unwrap();
        assert!(
            text.starts_with("BEGIN:VCALENDAR") && text.contains(&format!("reservation-{booking}@")),
            "{text}"
        );
        let feed = cli.run(&["calendar", "feed"]).success().stdout;
        assert!(feed.contains("BEGIN:VEVENT"), "{feed}");

        // Notifications: the booking was announced.
        let notifications = cli.json(&["notifications", "list", "--unread"]);
        assert!(!notifications["data"].as_array().unwrap().is_empty(), "{notifications}");
        cli.run(&["notifications", "read-all"]).success();
        assert_eq!(
            cli.json(&["notifications", "list", "--unread"])["data"],
            Value::Array(vec![])
        );

        // Webhooks: create, a test delivery, its record, a retry, delete; then it is not found (4).
        // The receiver refuses deliveries at first: the test fails (1); then it accepts them:
        // the retry succeeds, and a second retry is refused.
        let receiver = support::Receiver::start(true);
        let webhook = cli.json(&[
            "webhooks",
            "create",
            &receiver.url,
            "-e",
            "reservation.created,reservation.cancelled",
        ]);
        assert!(webhook["secret"].as_str().is_some_and(|s| !s.is_empty()), "{webhook}");
        let hook = id_of(&webhook);
        let failed = cli.run(&["webhooks", "test", &hook]).failure(1);
        assert!(failed.stderr.contains("not delivered"), "{failed:?}");
        let deliveries = cli.json(&["webhooks", "deliveries", &hook]);
        assert_ne!(deliveries[0]["status"], "delivered", "{deliveries}");
        let delivery = id_of(&deliveries[0]);
        receiver.failing.store(false, std::sync::atomic::Ordering::SeqCst);
        cli.run(&["webhooks", "retry", &hook, &delivery]).success();
        let again = cli.run(&["webhooks", "retry", &hook, &delivery]).failure(1);
        assert!(again.stderr.contains("already successful"), "{again:?}");
        let bodies = receiver.bodies.lock().unwrap().clone();
        assert!(
            bodies.len() >= 2 && bodies.iter().all(|b| b.contains("This is a test webhook delivery")),
            "the test delivery and its retry arrived: {bodies:?}"
        );
        assert_eq!(cli.json(&["webhooks", "list"]).as_array().map(Vec::len), Some(1));
        cli.run(&["webhooks", "delete", &hook, "-y"]).success();
        let gone = cli.run(&["webhooks", "show", &hook]).failure(4);
        assert!(gone.stderr.contains("not found"), "{gone:?}");

        // OAuth2 clients: the secret once, then listed, then deleted.
        let client = cli.json(&["oauth", "create", "My app", "https://app.example/cb"]);
        let client_id = client["client_id"].as_str().unwrap().to_owned();
        assert!(client["client_secret"].as_str().is_some());
        let clients = cli.run(&["oauth", "list", "--output", "csv"]).success().stdout;
        assert!(
            clients.starts_with("ID,Client ID,Name") && clients.contains(&client_id),
            "{clients}"
        );
        cli.run(&["oauth", "delete", &client_id, "-y"]).success();
        cli.run(&["oauth", "delete", &client_id, "-y"]).failure(4);

        // Analytics and the audit log, with their exports.
        let dashboard = cli.json(&["analytics", "dashboard", "--days", "7"]);
        assert!(dashboard.is_object(), "{dashboard}");
        let export = dir.path().join("reservations.csv");
        cli.run(&["analytics", "export", "reservations", "-f", export.to_str().unwrap()])
            .success();
        assert!(std::fs::read_to_string(&export).unwrap().starts_with("reservation_id,"));
        let logs = cli.json(&["audit", "logs", "--limit", "5"]);
        assert!(!logs["logs"].as_array().unwrap().is_empty(), "{logs}");
        let audit_csv = dir.path().join("audit.csv");
        cli.run(&["audit", "export", "-f", audit_csv.to_str().unwrap()])
            .success();
        assert!(std::fs::read_to_string(&audit_csv).unwrap().lines().count() > 1);

        // Exit codes: not found (4); a user without the permission (3); a bad option (2).
        cli.run(&["resources", "show", "999999"]).failure(4);
        let user = Cli::new(&server.url);
        user.sign_up("bob");
        // The original's spellings: waitlist join with options, search --available-only,
        // availability --detailed, reservations list --detailed.
        let start = format!("{date} 10:00");
        let waiting = user.json(&["waitlist", "join", "-r", &room, "-s", &start, "-e", "1h", "-f"]);
        assert_eq!(waiting["status"], "waiting", "{waiting}");
        let entries = user.run(&["waitlist", "list", "--output", "csv"]).success().stdout;
        assert_eq!(entries.lines().count(), 2, "{entries}");
        let found = user.json(&["resources", "search", "-q", "Room", "--available-only"]);
        // Room A opens at 07:00 (Paris): whether it is available now depends on the hour.
        let same = user.json(&["resources", "search", "-q", "Room", "--status", "available"]);
        assert_eq!(found["data"], same["data"]);
        let detailed = cli
            .run(&["resources", "availability", &room, "--detailed"])
            .success()
            .stdout;
        assert!(detailed.contains("Free periods"), "{detailed}");
        let listed = cli.run(&["reservations", "list", "-d"]).success().stdout;
        assert!(listed.contains("Created"), "{listed}");
        let forbidden = user.run(&["audit", "logs"]).failure(3);
        assert!(forbidden.stderr.contains("[ERROR]"), "{forbidden:?}");
        user.run(&["webhooks", "deliveries", &hook, "--limit", "0"]).failure(2);
    }
);

on_both_backends!(watch_shows_live_events_and_resumes_after_a_drop, &[], |server| {
    let cli = Cli::new(&server.url);
    cli.sign_up("admin");
    let room = id_of(&cli.json(&["resources", "create", "Room W", "--timezone", TIME_ZONE]));
    let date = day_after_tomorrow().format("%Y-%m-%d").to_string();
    let book = |hour: u32| id_of(&cli.json(&["reserve", &room, &format!("{date} {hour:02}:00"), "1h"]));

    // The watcher talks to the server through a proxy, so that the test can cut the network.
    let proxy = support::Proxy::start(&server.url);
    let watcher = cli.via(&proxy.url);
    let mut watch = watcher.spawn(&["watch", "--resource", &room, "--lines"]);
    watch.wait_for(false, "Connected; waiting for events");
    let first = book(8);
    let line = watch.wait_for(true, &format!("reservation {first}"));
    assert!(
        line.contains("reservation_created") && line.contains("(Room W)"),
        "{line}"
    );

    // Cut: the watcher notices, cannot reconnect while the door is closed, and meanwhile a
    // booking is made. Once it can connect again it resumes after the last event it saw, and
    // the missed booking is shown (replayed), the earlier one not again.
    proxy.cut_and_close();
    watch.wait_for(false, "Connection lost");
    let missed = book(10);
    watch.wait_for(false, "Cannot connect");
    proxy.reopen();
    watch.wait_for(false, "resuming after event");
    watch.wait_for(true, &format!("reservation {missed}"));
    let live = book(12);
    watch.wait_for(true, &format!("reservation {live}"));
    let shown = watch
        .stdout
        .iter()
        .filter(|l| l.contains(&format!("reservation {first} ")))
        .count();
    assert_eq!(shown, 1, "shown once: {:?}", watch.stdout);

    // For scripts: one JSON line per event, and -n stops after that many.
    let mut next = cli.spawn(&["watch", "--output", "json", "-n", "1"]);
    next.wait_for(false, "Connected");
    let cancelled = cli.run(&["reservations", "cancel", &live, "--yes"]).success();
    drop(cancelled);
    let outcome = next.finish().success();
    let event: Value = serde_json::from_str(outcome.stdout.trim()).expect("one JSON line");
    assert_eq!(
        (event["type"].as_str(), event["reservation_id"].as_i64()),
        (Some("reservation_cancelled"), live.parse().ok()),
        "{event}"
    );

    // A watcher without a session is refused (3); an unknown group is not found (4).
    let stranger = Cli::new(&server.url);
    stranger.run(&["watch"]).failure(3);
    cli.run(&["watch", "--group", "999999"]).failure(4);
});

#[test]
fn profiles_completions_man_pages_and_help() {
    let server = Server::start();
    // API_URL points nowhere: the profile's URL wins over it, --api-url over the profile.
    let cli = Cli::new("http://127.0.0.1:9");
    cli.run(&["profile", "add", "work", &server.url, "--use"]).success();
    cli.run(&["system", "status"]).success();
    cli.run(&["--profile", "default", "system", "status"]).failure(6);
    cli.run(&["--api-url", "http://127.0.0.1:9", "system", "status"])
        .failure(6);
    cli.run(&["profile", "use", "nope"]).failure(2);
    cli.sign_up("admin");
    assert!(cli.config.path().join("profiles/work/auth.json").exists());
    assert!(!cli.auth_file().exists(), "the default profile's session is untouched");
    let profiles = cli.json(&["profile", "list"]);
    let work = profiles
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "work")
        .unwrap()
        .clone();
    assert_eq!(
        (work["current"].as_bool(), work["logged_in"].as_bool()),
        (Some(true), Some(true))
    );
    let listed = cli.run(&["resources", "list", "--output", "csv"]).success().stdout;
    assert_eq!(
        listed.trim(),
        "ID,Name,Status,Enabled,Tags,In use by",
        "an empty list is its header"
    );
    cli.run(&["profile", "remove", "work"]).success();
    assert!(!cli.config.path().join("profiles/work").exists());

    // Completions and man pages come from the command line itself.
    let bash = cli.run(&["completions", "bash"]).success().stdout;
    assert!(
        bash.contains("complete -F _resource__reserver__cli") && bash.contains("watch"),
        "{bash:.200}"
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(!cli.run(&["completions", shell]).success().stdout.is_empty());
    }
    cli.run(&["completions", "tcsh"]).failure(2);
    let page = cli.run(&["man"]).success().stdout;
    assert!(
        page.contains(".TH resource-reserver-cli") && page.contains("Exit codes"),
        "{page:.300}"
    );
    let dir = tempfile::tempdir().unwrap();
    cli.run(&["man", "--out-dir", dir.path().to_str().unwrap()]).success();
    for name in [
        "resource-reserver-cli.1",
        "resource-reserver-cli-watch.1",
        "resource-reserver-cli-auth-login.1",
    ] {
        assert!(dir.path().join(name).exists(), "{name}");
    }
    let help = cli.run(&["--help"]).success().stdout;
    assert!(
        help.contains("5  conflict") && help.contains("6  server unreachable"),
        "{help}"
    );
}
