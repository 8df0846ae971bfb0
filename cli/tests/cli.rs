//! The CLI binary end to end against the real server binary (SQLite in a temporary directory).

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

#[test]
fn register_book_list_cancel_and_read_availability() {
    let server = Server::start();
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
        .failure(1);
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
}

#[test]
fn errors_sessions_and_uploads() {
    // No server: the message, exit 1. Bad input: exit 2 before any request.
    let nowhere = Cli::new("http://127.0.0.1:9");
    let unreachable = nowhere.run(&["system", "status"]).failure(1);
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
    let not_logged_in = nowhere.run(&["reservations", "list"]).failure(1);
    assert!(not_logged_in.stderr.contains("Not logged in"), "{not_logged_in:?}");

    let server = Server::start();
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
    assert!(wrong.failure(1).stderr.contains("[ERROR]"));

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
    cli.run(&["auth", "status"]).failure(1);
}

#[test]
fn bulk_booking_import_cancel_and_export() {
    let server = Server::start();
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
    assert!(written.stdout.contains("2 reservations written"), "{written:?}");
    let csv = std::fs::read_to_string(&export).unwrap();
    assert!(
        csv.starts_with("reservation_id,resource_id,resource_name,user_id,username,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
}
