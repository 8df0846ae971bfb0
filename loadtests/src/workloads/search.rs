//! Search: a free-window search with two labels (`GET /api/v1/search/resources?label=…&label=…
//! &available_from=…&available_until=…`) over `--search-resources` resources (10,000 by default)
//! holding `--search-reservations` reservations (1,000,000), by every client for the run's
//! duration. Budget (issue 14): p99 ≤ 50 ms.
//!
//! Set-up, through the public API: the resources; four labels, put on the resources so that
//! one in six carries both searched labels; the reservations, back-to-back 30-minute slots
//! spread over every resource (as W1 books them). The window searched is the hour right after
//! each resource's last booking, so every candidate's reservations are probed and the 1,667
//! resources with both labels are free: a full first page and a total to count.
//!
//! With `--search-seeded` there is no set-up: the data is what `loadtests/search-seed` wrote
//! straight into the database (the same resources and labels, and the reservations spread over
//! the year that starts tomorrow), and the window searched is an hour 90 days ahead, where some
//! candidates are booked and most are free.
//!
//! Correctness: the first answer has hits, and every listed one carries both labels.

use std::sync::Arc;

use anyhow::{Result, ensure};
use chrono::{DateTime, TimeDelta, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::w1_booking::book_spread;
use super::{Context, Stop, closed_loop, future_base, row};
use crate::api::rfc3339;
use crate::report::Row;

const BUDGET: &str = "free window + 2 labels over 10,000 resources / 1,000,000 reservations: p99 ≤ 50 ms";

pub async fn run(ctx: &Context) -> Result<Row> {
    let count = ctx.settings.search_resources.max(1);
    let (window_start, origin) = if ctx.settings.search_seeded {
        (future_base() + TimeDelta::days(90), "seeded by loadtests/search-seed")
    } else {
        (set_up(ctx, count).await?, "set up through the API")
    };
    let window_end = window_start + TimeDelta::hours(1);
    let path = format!(
        "/api/v1/search/resources?label=equipment:projector&label=access:wheelchair&available_from={}&available_until={}&limit=20",
        rfc3339(window_start),
        rfc3339(window_end)
    );
    check(ctx, &path).await?;

    let (api, user) = (ctx.api.clone(), ctx.users[0].clone());
    let measure = ctx.measure();
    let measured = path.clone();
    let (samples, elapsed) = closed_loop(ctx.settings.clients, Stop::After(ctx.settings.duration), move |_, _| {
        let (api, user, path) = (api.clone(), user.clone(), measured.clone());
        async move { api.get_as(&user, &path).await }
    })
    .await;
    let summary = samples.summarize(elapsed);
    let holds = summary.p99_ms <= 50.0 && summary.errors == 0;
    let mut row = row("search", summary, BUDGET, holds);
    row.notes.push(format!(
        "{count} resources, {} reservations ({origin}), {} clients; {path}",
        ctx.settings.search_reservations, ctx.settings.clients
    ));
    measure.finish(&mut row);
    Ok(row)
}

/// Creates the resources, labels and reservations through the API; returns the start of the
/// window to search.
async fn set_up(ctx: &Context, count: usize) -> Result<DateTime<Utc>> {
    let resources = ctx.resources("search", count).await?;
    let labels = [
        ("equipment", "projector"),
        ("access", "wheelchair"),
        ("equipment", "screen"),
        ("floor", "3"),
    ];
    let mut ids = Vec::new();
    for (category, value) in labels {
        let created = ctx
            .api
            .send_json(
                &ctx.admin,
                Method::POST,
                "/api/v1/labels",
                &json!({"category": category, "value": value}),
                StatusCode::CREATED,
            )
            .await;
        let id = match created {
            Ok(label) => label["id"].as_i64().unwrap_or_default(),
            // A server that has seen a search run already has them: read it back.
            Err(_) => find_label(ctx, category, value).await?,
        };
        ids.push(id);
    }
    let (projector, wheelchair, screen, floor) = (ids[0], ids[1], ids[2], ids[3]);
    stream::iter(resources.iter().copied().enumerate())
        .map(|(i, resource)| {
            let mut wanted = vec![floor];
            if i % 2 == 0 {
                wanted.push(projector);
            } else {
                wanted.push(screen);
            }
            if i % 3 == 0 {
                wanted.push(wheelchair);
            }
            async move {
                ctx.api
                    .send_json(
                        &ctx.admin,
                        Method::PUT,
                        &format!("/api/v1/labels/resources/{resource}"),
                        &json!({ "label_ids": wanted }),
                        StatusCode::OK,
                    )
                    .await
            }
        })
        .buffered(8)
        .try_collect::<Vec<Value>>()
        .await?;

    let (booking, _) = book_spread(
        ctx,
        Arc::clone(&resources),
        Stop::Count(ctx.settings.search_reservations),
        None,
    )
    .await;
    let booked = booking.summarize(std::time::Duration::from_secs(1));
    ensure!(booked.errors == 0, "the search set-up's bookings failed: {booked:?}");

    // Slots are 30 minutes from `future_base()`; every resource has `per_resource` of them.
    let per_resource = ctx.settings.search_reservations / count as u64;
    Ok(future_base() + TimeDelta::minutes(30 * (per_resource as i64 + 1)))
}

async fn find_label(ctx: &Context, category: &str, value: &str) -> Result<i64> {
    let path = format!("/api/v1/labels?category={category}&limit=100");
    let response = reqwest::Client::new()
        .get(ctx.api.url(&path))
        .bearer_auth(&ctx.admin.token)
        .send()
        .await?;
    let page: Value = response.json().await?;
    page["data"]
        .as_array()
        .and_then(|labels| labels.iter().find(|label| label["value"] == value))
        .and_then(|label| label["id"].as_i64())
        .ok_or_else(|| anyhow::anyhow!("label {category}:{value} neither created nor found"))
}

/// The first answer is plausible: it has hits, and every hit carries both labels.
async fn check(ctx: &Context, path: &str) -> Result<()> {
    let response = reqwest::Client::new()
        .get(ctx.api.url(path))
        .bearer_auth(&ctx.users[0].token)
        .send()
        .await?;
    ensure!(response.status().is_success(), "search answered {}", response.status());
    let page: Value = response.json().await?;
    ensure!(
        page["results"].as_array().is_some_and(|hits| !hits.is_empty()),
        "the search found nothing (with --search-seeded: is the database seeded?): {page}"
    );
    for hit in page["results"].as_array().into_iter().flatten() {
        let names: Vec<&str> = hit["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|label| label["full_name"].as_str())
            .collect();
        ensure!(
            names.contains(&"equipment:projector") && names.contains(&"access:wheelchair"),
            "a hit without both labels: {hit}"
        );
    }
    Ok(())
}
