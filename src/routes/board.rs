//! `GET /api/v1/board`: the availability board of wall screens — every shown resource's state
//! now (see `crate::resources::board`). Public, as the catalogue and the schedules are: who
//! booked is shown only as `RESERVATION_NAMES_VISIBLE` allows the caller.
//!
//! `?resources=1,2,3` shows those resources (at most `MAX_BOARD_RESOURCES`; more is a 422);
//! without it, every resource, a page of `MAX_BOARD_RESOURCES` at a time (`?after=<next_after>`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::booking_names::Viewer;
use crate::error::ApiError;
use crate::http::Query;
use crate::resources::board::{self, MAX_BOARD_RESOURCES, Selection};
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    table.get("/api/v1/board", Access::Public, show);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    resources: Option<String>,
    after: Option<i64>,
}

/// `?resources=1,2,3` (duplicates dropped, order kept) or every resource after `after`.
fn selection(params: &Params) -> Result<Selection, ApiError> {
    let Some(raw) = params.resources.as_deref() else {
        return Ok(Selection::All {
            after: params.after.unwrap_or(0),
        });
    };
    if params.after.is_some() {
        return Err(ApiError::invalid(
            &["query", "after"],
            "after pages through every resource; it cannot be combined with resources",
            params.after,
        ));
    }
    let mut ids: Vec<i64> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let id = part
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(&["query", "resources"], "expected comma-separated resource ids", raw))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
        if ids.len() > MAX_BOARD_RESOURCES {
            return Err(ApiError::invalid(
                &["query", "resources"],
                format!("at most {MAX_BOARD_RESOURCES} resources; leave resources out to page through all of them"),
                raw.split(',').count(),
            ));
        }
    }
    Ok(Selection::Ids(ids))
}

async fn show(
    state: web::Data<AppState>,
    viewer: Viewer,
    Query(params): Query<Params>,
) -> Result<HttpResponse, ApiError> {
    let selection = selection(&params)?;
    let board = board::read(&state.db, &selection, state.clock.now(), &viewer).await?;
    Ok(HttpResponse::Ok().json(board))
}
