//! Search (`/api/v1/search`): resources by name, tags, labels, group or building, status,
//! approval, and a free window; reservations; suggestions, popular tags, a resource's free and
//! busy periods; saved searches.
//!
//! Guarantees:
//! - "Free between a and b" is the one rule the resource lists use
//!   ([`ResourceFilter::condition`]): enabled, no blocking reservation (active, pending
//!   approval, held), no maintenance, open by its opening hours and no blackout date in the
//!   window, which is what the resource actors check when booking.
//! - Reservation search shows an ordinary user their own reservations only; everyone's needs
//!   `reservation:read_any` (the original let anyone read everyone's: §9.3).
//! - Filters are validated the same way whether they come from the query string or from a
//!   saved search: a malformed one (a bad date, an unknown status) is a 422, never a 500.
//! - Text is matched case-insensitively with Unicode folding on both backends (`LOWER()`, see
//!   `crate::storage`), and `%`, `_` and `\` in user input are matched literally.
//! - Saved searches belong to their user: another user's id is a 404, like an unknown one.
//! - A resource search evaluates its filter once, in one statement that counts and pages the
//!   same matches, from indexes only (budget: p99 ≤ 50 ms over 10,000 resources and 1,000,000
//!   reservations, issue 14; see `ResourceFilter` for how "free" is looked up).

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::status::ReservationStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::error::ApiError;
use crate::params;
use crate::resource_columns;
use crate::resources::blocking::blocking_sql;
use crate::resources::model::live_status;
use crate::resources::queries::{CURRENT_USER_SQL, ResourceFilter, StatusFilter};
use crate::resources::record;
use crate::storage::{Binder, Db, Row, StorageError};
use crate::wire::time::{self, utc};

/// Longest free window a search accepts (opening hours are checked day by day across it).
pub const MAX_WINDOW_DAYS: i64 = 366;
/// Most tags or labels one search may require.
pub const MAX_TERMS: usize = 20;

/// Why a search was refused.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A filter is malformed: `field` names it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("Saved search not found")]
    SavedNotFound,
    #[error("Resource not found")]
    ResourceNotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> ApiError {
        match error {
            SearchError::Invalid { field, message } => ApiError::invalid(&["query", &field], message, field.as_str()),
            SearchError::SavedNotFound | SearchError::ResourceNotFound => ApiError::NotFound(error.to_string()),
            SearchError::Storage(storage) => storage.into(),
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> SearchError {
    SearchError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Tags or labels: a list, or a comma-separated text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Terms {
    List(Vec<String>),
    Text(String),
}

impl Terms {
    fn items(&self, field: &str) -> Result<Vec<String>, SearchError> {
        let items: Vec<String> = match self {
            Terms::List(list) => list.iter().map(|t| t.trim().to_owned()).collect(),
            Terms::Text(text) => text.split(',').map(|t| t.trim().to_owned()).collect(),
        };
        let items: Vec<String> = items.into_iter().filter(|t| !t.is_empty()).collect();
        if items.len() > MAX_TERMS {
            return Err(invalid(field, format!("at most {MAX_TERMS} {field}")));
        }
        Ok(items)
    }
}

/// The filters of a resource search, as sent (query string) or stored (saved search).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ResourceCriteria {
    pub query: Option<String>,
    pub tags: Option<Terms>,
    /// `category:value`, every one required.
    pub labels: Option<Terms>,
    pub status: Option<String>,
    pub available_only: Option<bool>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub requires_approval: Option<bool>,
    /// Resources in this group or any group below it.
    pub group_id: Option<i64>,
    /// Resources in a group of this building (or below one).
    pub building: Option<String>,
}

/// The filters of a reservation search, as sent or stored.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReservationCriteria {
    pub user_id: Option<i64>,
    pub resource_id: Option<i64>,
    pub status: Option<Terms>,
    pub start_from: Option<String>,
    pub start_until: Option<String>,
    pub created_from: Option<String>,
    pub created_until: Option<String>,
    pub include_cancelled: Option<bool>,
}

fn instant(field: &str, raw: &Option<String>) -> Result<Option<DateTime<Utc>>, SearchError> {
    raw.as_deref()
        .map(|text| time::parse(text).ok_or_else(|| invalid(field, format!("{field} must be an ISO 8601 date-time"))))
        .transpose()
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Offset paging of the search API: `limit` 1..=100, `offset` ≥ 0.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
}

impl Window {
    pub fn new(limit: i64, offset: i64) -> Result<Window, ApiError> {
        if !(1..=100).contains(&limit) {
            return Err(ApiError::out_of_range(&["query", "limit"], limit, 1, 100));
        }
        if offset < 0 {
            return Err(ApiError::out_of_range(&["query", "offset"], offset, 0, i64::MAX));
        }
        Ok(Window { limit, offset })
    }
}

/// A resource search, validated.
struct ResourceSearch {
    filter: ResourceFilter,
    requires_approval: Option<bool>,
    groups: Option<Vec<i64>>,
    building: Option<String>,
}

impl ResourceCriteria {
    fn validate(&self, now: DateTime<Utc>) -> Result<ResourceSearch, SearchError> {
        let status = match (&self.status, self.available_only) {
            (Some(status), _) => StatusFilter::parse(status)
                .map_err(|_| invalid("status", "status must be one of: available, in_use, unavailable, all"))?,
            (None, Some(true)) => StatusFilter::Available,
            (None, _) => StatusFilter::All,
        };
        let from = instant("available_from", &self.available_from)?;
        let until = instant("available_until", &self.available_until)?;
        let free_during = match (from, until) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    "available_until",
                    "available_until is required with available_from",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "available_from",
                    "available_from is required with available_until",
                ));
            }
            (Some(from), Some(until)) => {
                if from <= now {
                    return Err(invalid("available_from", "available_from must be in the future"));
                }
                let window = Interval::new(from, until)
                    .map_err(|_| invalid("available_until", "available_until must be after available_from"))?;
                if until - from > Duration::days(MAX_WINDOW_DAYS) {
                    let why = format!("the window may be at most {MAX_WINDOW_DAYS} days long");
                    return Err(invalid("available_until", why));
                }
                Some(window)
            }
        };
        let labels = match &self.labels {
            Some(terms) => terms
                .items("labels")?
                .iter()
                .map(|text| {
                    crate::labels::parse_filter(text)
                        .ok_or_else(|| invalid("labels", "a label filter is category:value"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let tags = match &self.tags {
            Some(terms) => terms.items("tags")?,
            None => Vec::new(),
        };
        Ok(ResourceSearch {
            filter: ResourceFilter {
                query: self.query.clone().filter(|q| !q.trim().is_empty()),
                tags: crate::resources::fields::clean_tags(tags),
                status,
                free_during,
                labels,
            },
            requires_approval: self.requires_approval,
            groups: None,
            building: self.building.clone().filter(|b| !b.trim().is_empty()),
        })
    }
}

/// A resource as search lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceHit {
    pub id: i64,
    pub name: String,
    pub available: bool,
    #[schema(schema_with = crate::resources::model::live_status_schema)]
    pub status: &'static str,
    pub tags: Vec<String>,
    pub requires_approval: bool,
    #[schema(required)]
    pub group_id: Option<i64>,
    pub labels: Vec<crate::labels::LabelRef>,
}

/// Resources matching `criteria`, by name, one window of them, and how many match in all.
pub async fn resources(
    db: &Db,
    criteria: &ResourceCriteria,
    window: Window,
    now: DateTime<Utc>,
) -> Result<(Vec<ResourceHit>, i64), SearchError> {
    let mut search = criteria.validate(now)?;
    if let Some(group) = criteria.group_id {
        search.groups = Some(crate::groups::subtree_or_empty(db, group).await?);
    }
    let mut binder = Binder::new();
    let mut conditions = vec![search.filter.condition(db, &mut binder, now).await?];
    if let Some(required) = search.requires_approval {
        conditions.push(format!("r.requires_approval = {}", binder.bind(required)));
    }
    if let Some(groups) = &search.groups {
        if groups.is_empty() {
            conditions.push("1 = 0".into());
        } else {
            let ids: Vec<String> = groups.iter().map(|id| binder.bind(*id)).collect();
            conditions.push(format!("r.group_id IN ({})", ids.join(", ")));
        }
    }
    if let Some(building) = &search.building {
        let groups = crate::groups::in_building(db, building).await?;
        if groups.is_empty() {
            conditions.push("1 = 0".into());
        } else {
            let ids: Vec<String> = groups.iter().map(|id| binder.bind(*id)).collect();
            conditions.push(format!("r.group_id IN ({})", ids.join(", ")));
        }
    }
    let condition = conditions.join(" AND ");
    let count_values = binder.clone().into_values();
    let current_user = CURRENT_USER_SQL.replace("$1", &binder.bind(now));
    let (limit, offset) = (binder.bind(window.limit), binder.bind(window.offset));
    // The filter is evaluated once: its matches are materialised (so the planner cannot turn
    // the page's LIMIT into a walk of the name index that evaluates the filter row by row), then
    // counted and paged from there; only the page's rows are read in full.
    let sql = format!(
        "WITH matching AS MATERIALIZED (SELECT r.id, LOWER(r.name) AS sort_name FROM resources r WHERE {condition}),
              page AS (SELECT id, sort_name FROM matching ORDER BY sort_name, id LIMIT {limit} OFFSET {offset})
         SELECT {}, r.group_id, {current_user} AS current_user_name, (SELECT COUNT(*) FROM matching) AS total
         FROM page p JOIN resources r ON r.id = p.id
         ORDER BY p.sort_name, p.id",
        resource_columns!()
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let total = match rows.first() {
        Some(row) => row.get("total")?,
        None if window.offset == 0 => 0,
        // Past the last page: only the count is left to say.
        None => {
            let count_sql = format!("SELECT COUNT(*) AS n FROM resources r WHERE {condition}");
            db.query_one(&count_sql, count_values).await?.get("n")?
        }
    };
    let hits = hits(db, &rows, now).await?;
    Ok((hits, total))
}

async fn hits(db: &Db, rows: &[Row], now: DateTime<Utc>) -> Result<Vec<ResourceHit>, StorageError> {
    let ids: Vec<i64> = rows.iter().map(|row| row.get("id")).collect::<Result<_, _>>()?;
    // Two independent reads: at once, so the answer waits for one hop of the reader pool.
    let (mut tags, mut labels) =
        futures::try_join!(record::tags_of_many(db, &ids), crate::labels::refs_of_many(db, &ids))?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.get("id")?;
            let info = record::decode(row, tags.remove(&id).unwrap_or_default())?;
            let in_use = row.get::<Option<String>>("current_user_name")?.is_some();
            Ok(ResourceHit {
                id,
                status: live_status(&info, in_use, now),
                name: info.name,
                available: info.enabled,
                tags: info.tags,
                requires_approval: info.requires_approval,
                group_id: row.get("group_id")?,
                labels: labels.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Who is searching reservations.
#[derive(Debug, Clone, Copy)]
pub struct Searcher {
    pub user_id: i64,
    /// May read everyone's reservations (`reservation:read_any`).
    pub reads_any: bool,
}

/// A reservation as search lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReservationHit {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub resource_id: i64,
    pub resource_name: String,
    #[schema(format = DateTime)]
    pub start_time: String,
    #[schema(format = DateTime)]
    pub end_time: String,
    pub status: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// Reservations matching `criteria` that `searcher` may see, newest start first.
pub async fn reservations(
    db: &Db,
    criteria: &ReservationCriteria,
    searcher: Searcher,
    window: Window,
) -> Result<(Vec<ReservationHit>, i64), SearchError> {
    let mut binder = Binder::new();
    let mut conditions = vec!["1 = 1".to_owned()];
    if !searcher.reads_any {
        conditions.push(format!("x.user_id = {}", binder.bind(searcher.user_id)));
    }
    if let Some(user) = criteria.user_id {
        conditions.push(format!("x.user_id = {}", binder.bind(user)));
    }
    if let Some(resource) = criteria.resource_id {
        conditions.push(format!("x.resource_id = {}", binder.bind(resource)));
    }
    let statuses: Vec<String> = match &criteria.status {
        Some(terms) => terms
            .items("status")?
            .iter()
            .map(|s| {
                ReservationStatus::from_str(s)
                    .map(|status| status.as_str().to_owned())
                    .map_err(|_| invalid("status", format!("unknown reservation status {s:?}")))
            })
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    if !statuses.is_empty() {
        let bound: Vec<String> = statuses.into_iter().map(|s| binder.bind(s)).collect();
        conditions.push(format!("x.status IN ({})", bound.join(", ")));
    } else if !criteria.include_cancelled.unwrap_or(false) {
        conditions.push(format!("x.status <> {}", binder.bind("cancelled")));
    }
    for (field, raw, sql) in [
        ("start_from", &criteria.start_from, "x.start_time >="),
        ("start_until", &criteria.start_until, "x.start_time <="),
        ("created_from", &criteria.created_from, "x.created_at >="),
        ("created_until", &criteria.created_until, "x.created_at <="),
    ] {
        if let Some(at) = instant(field, raw)? {
            conditions.push(format!("{sql} {}", binder.bind(at)));
        }
    }
    let condition = conditions.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) AS n FROM reservations x WHERE {condition}");
    let total: i64 = db.query_one(&count_sql, binder.clone().into_values()).await?.get("n")?;
    let (limit, offset) = (binder.bind(window.limit), binder.bind(window.offset));
    let sql = format!(
        "SELECT x.id, x.user_id, u.username, x.resource_id, r.name AS resource_name, x.start_time, x.end_time,
                x.status, x.created_at
         FROM reservations x JOIN users u ON u.id = x.user_id JOIN resources r ON r.id = x.resource_id
         WHERE {condition} ORDER BY x.start_time DESC, x.id DESC LIMIT {limit} OFFSET {offset}"
    );
    let rows = db.query(&sql, binder.into_values()).await?;
    let hits = rows
        .iter()
        .map(|row| {
            Ok(ReservationHit {
                id: row.get("id")?,
                user_id: row.get("user_id")?,
                username: row.get("username")?,
                resource_id: row.get("resource_id")?,
                resource_name: row.get("resource_name")?,
                start_time: utc(row.get("start_time")?),
                end_time: utc(row.get("end_time")?),
                status: row.get("status")?,
                created_at: utc(row.get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok((hits, total))
}

/// Resource names and tags containing `query` (case-insensitively, wildcards literal).
pub async fn suggestions(db: &Db, query: &str, limit: i64) -> Result<Json, StorageError> {
    let pattern = format!("%{}%", escape_like(&query.to_lowercase()));
    let names = db
        .query(
            "SELECT name FROM resources WHERE LOWER(name) LIKE $1 ESCAPE '\\' ORDER BY LOWER(name), id LIMIT $2",
            params![pattern.as_str(), limit],
        )
        .await?;
    let tags = db
        .query(
            "SELECT MIN(tag) AS tag FROM resource_tags WHERE LOWER(tag) LIKE $1 ESCAPE '\\'
             GROUP BY LOWER(tag) ORDER BY LOWER(tag) LIMIT $2",
            params![pattern.as_str(), limit],
        )
        .await?;
    let names: Vec<String> = names.iter().map(|row| row.get("name")).collect::<Result<_, _>>()?;
    let tags: Vec<String> = tags.iter().map(|row| row.get("tag")).collect::<Result<_, _>>()?;
    Ok(json!({ "resources": names, "tags": tags }))
}

/// The most used tags (lower-cased) with how many resources carry each.
pub async fn popular_tags(db: &Db, limit: i64) -> Result<Json, StorageError> {
    let rows = db
        .query(
            "SELECT LOWER(tag) AS tag, COUNT(DISTINCT resource_id) AS n FROM resource_tags
             GROUP BY LOWER(tag) ORDER BY n DESC, LOWER(tag) LIMIT $1",
            params![limit],
        )
        .await?;
    let tags: Vec<Json> = rows
        .iter()
        .map(|row| Ok(json!({ "tag": row.get::<String>("tag")?, "count": row.get::<i64>("n")? })))
        .collect::<Result<_, StorageError>>()?;
    Ok(json!({ "tags": tags }))
}

/// The free and busy periods of a resource from `now` for `days` days: busy for each blocking
/// reservation (with its id), free between them.
pub async fn availability(db: &Db, resource: i64, days: i64, now: DateTime<Utc>) -> Result<Json, SearchError> {
    let name: String = db
        .query_opt("SELECT name FROM resources WHERE id = $1", params![resource])
        .await?
        .ok_or(SearchError::ResourceNotFound)?
        .get("name")?;
    let end = now + Duration::days(days);
    let rows = db
        .query(
            concat!(
                "SELECT id, start_time, end_time FROM reservations WHERE resource_id = $1 AND ",
                blocking_sql!("reservations"),
                " AND end_time > $2 AND start_time < $3 ORDER BY start_time"
            ),
            params![resource, now, end],
        )
        .await?;
    let mut periods = Vec::new();
    let mut cursor = now;
    for row in &rows {
        let (start, finish): (DateTime<Utc>, DateTime<Utc>) = (row.get("start_time")?, row.get("end_time")?);
        if start > cursor {
            periods.push(free(cursor, start));
        }
        periods.push(json!({
            "start": utc(start.max(now)),
            "end": utc(finish.min(end)),
            "available": false,
            "reservation_id": row.get::<i64>("id")?,
        }));
        cursor = cursor.max(finish);
    }
    if cursor < end {
        periods.push(free(cursor, end));
    }
    Ok(json!({
        "resource_id": resource,
        "resource_name": name,
        "days_ahead": days,
        "availability": periods,
    }))
}

fn free(from: DateTime<Utc>, to: DateTime<Utc>) -> Json {
    let hours = (to - from).num_seconds() as f64 / 3600.0;
    json!({
        "start": utc(from),
        "end": utc(to),
        "available": true,
        "duration_hours": (hours * 100.0).round() / 100.0,
    })
}

/// What a saved search is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchType {
    Resources,
    Reservations,
}

impl SearchType {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchType::Resources => "resources",
            SearchType::Reservations => "reservations",
        }
    }

    fn parse(raw: &str) -> Result<SearchType, StorageError> {
        match raw {
            "resources" => Ok(SearchType::Resources),
            "reservations" => Ok(SearchType::Reservations),
            other => Err(StorageError::Decode(format!("unknown search type {other:?}"))),
        }
    }
}

/// A saved search as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavedSearch {
    pub id: i64,
    pub name: String,
    pub search_type: SearchType,
    #[schema(value_type = Object)]
    pub filters: Json,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

fn decode_saved(row: &Row) -> Result<SavedSearch, StorageError> {
    Ok(SavedSearch {
        id: row.get("id")?,
        name: row.get("name")?,
        search_type: SearchType::parse(&row.get::<String>("search_type")?)?,
        filters: row.get("filters")?,
        created_at: utc(row.get("created_at")?),
        updated_at: utc(row.get("updated_at")?),
    })
}

const SAVED_COLUMNS: &str = "id, name, search_type, filters, created_at, updated_at";

/// The user's saved searches, optionally of one type, most recently saved first.
pub async fn saved(db: &Db, user: i64, kind: Option<SearchType>) -> Result<Vec<SavedSearch>, StorageError> {
    let rows = match kind {
        Some(kind) => {
            let sql = format!(
                "SELECT {SAVED_COLUMNS} FROM saved_searches WHERE user_id = $1 AND search_type = $2 ORDER BY updated_at DESC, id DESC"
            );
            db.query(&sql, params![user, kind.as_str()]).await?
        }
        None => {
            let sql = format!(
                "SELECT {SAVED_COLUMNS} FROM saved_searches WHERE user_id = $1 ORDER BY updated_at DESC, id DESC"
            );
            db.query(&sql, params![user]).await?
        }
    };
    rows.iter().map(decode_saved).collect()
}

/// Saves a search under `name`, replacing the user's search of that name; answers its id.
pub async fn save(
    db: &Db,
    user: i64,
    name: &str,
    kind: SearchType,
    filters: Json,
    now: DateTime<Utc>,
) -> Result<i64, StorageError> {
    let rows = db
        .query_write(
            "INSERT INTO saved_searches (user_id, name, search_type, filters, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (user_id, name) DO UPDATE SET search_type = excluded.search_type, filters = excluded.filters,
                 updated_at = excluded.updated_at
             RETURNING id",
            params![user, name, kind.as_str(), filters, now],
        )
        .await?;
    rows.first()
        .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?
        .get("id")
}

/// Deletes one of the user's saved searches.
pub async fn delete_saved(db: &Db, user: i64, id: i64) -> Result<(), SearchError> {
    let deleted = db
        .execute(
            "DELETE FROM saved_searches WHERE id = $1 AND user_id = $2",
            params![id, user],
        )
        .await?;
    if deleted == 0 {
        return Err(SearchError::SavedNotFound);
    }
    Ok(())
}

/// One of the user's saved searches.
pub async fn saved_one(db: &Db, user: i64, id: i64) -> Result<SavedSearch, SearchError> {
    let sql = format!("SELECT {SAVED_COLUMNS} FROM saved_searches WHERE id = $1 AND user_id = $2");
    db.query_opt(&sql, params![id, user])
        .await?
        .as_ref()
        .map(decode_saved)
        .transpose()?
        .ok_or(SearchError::SavedNotFound)
}

/// Checks stored filters as a search would (for saving: a search that cannot run is refused).
pub fn check_filters(kind: SearchType, filters: &Json, now: DateTime<Utc>) -> Result<(), SearchError> {
    match kind {
        SearchType::Resources => {
            resource_criteria(filters)?.validate(now)?;
        }
        SearchType::Reservations => {
            let criteria = reservation_criteria(filters)?;
            for (field, raw) in [
                ("start_from", &criteria.start_from),
                ("start_until", &criteria.start_until),
                ("created_from", &criteria.created_from),
                ("created_until", &criteria.created_until),
            ] {
                instant(field, raw)?;
            }
        }
    }
    Ok(())
}

/// Stored resource filters, typed (a malformed one is [`SearchError::Invalid`]).
pub fn resource_criteria(filters: &Json) -> Result<ResourceCriteria, SearchError> {
    serde_json::from_value(filters.clone())
        .map_err(|error| invalid("filters", format!("stored filters are malformed: {error}")))
}

/// Stored reservation filters, typed.
pub fn reservation_criteria(filters: &Json) -> Result<ReservationCriteria, SearchError> {
    serde_json::from_value(filters.clone())
        .map_err(|error| invalid("filters", format!("stored filters are malformed: {error}")))
}

/// The short rows of an executed saved search.
pub fn short_resource(hit: &ResourceHit) -> Json {
    json!({"id": hit.id, "name": hit.name, "available": hit.available, "status": hit.status, "tags": hit.tags})
}

pub fn short_reservation(hit: &ReservationHit) -> Json {
    json!({"id": hit.id, "user_id": hit.user_id, "resource_id": hit.resource_id, "start_time": hit.start_time,
           "end_time": hit.end_time, "status": hit.status})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(escape_like("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn bad_stored_dates_are_invalid_not_faults() {
        let now = Utc::now();
        let filters = json!({"available_from": "tomorrow", "available_until": "2030-01-01T00:00:00Z"});
        assert!(matches!(
            check_filters(SearchType::Resources, &filters, now),
            Err(SearchError::Invalid { .. })
        ));
        let filters = json!({"start_from": "not a date"});
        assert!(matches!(
            check_filters(SearchType::Reservations, &filters, now),
            Err(SearchError::Invalid { .. })
        ));
        assert!(check_filters(SearchType::Resources, &json!({"tags": "a,b", "labels": ["x:y"]}), now).is_ok());
        assert!(matches!(
            check_filters(SearchType::Resources, &json!({"labels": ["nocolon"]}), now),
            Err(SearchError::Invalid { .. })
        ));
    }
}
