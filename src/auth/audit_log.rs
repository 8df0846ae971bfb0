//! Reading and pruning the audit log (`audit_logs`): filtered pages, counts, statistics, the
//! distinct actions and entity types, and retention. Writing an entry is [`super::audit::Event`].
//! Entries come out as the API's `AuditLogOut` JSON, since every reader serves them as such.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::params;
use crate::storage::{Db, Row, StorageError, Value as Param};

const COLUMNS: &str = "id, timestamp, user_id, username, action, entity_type, entity_id, entity_name, ip_address, \
                       user_agent, request_method, request_path, old_values, new_values, details, success, error_message";

/// Which entries to read; every condition present must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub user_id: Option<i64>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries at or before this instant.
    pub until: Option<DateTime<Utc>>,
    pub success: Option<bool>,
    pub ip_address: Option<String>,
    /// A case-insensitive substring of the details, the entity's name or the username.
    pub search: Option<String>,
}

/// A `WHERE` clause and its parameters, built from optional conditions.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Where {
    fn add(&mut self, condition: &str, value: impl Into<Param>) {
        self.params.push(value.into());
        self.clauses
            .push(condition.replace('?', &format!("${}", self.params.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

impl Filter {
    fn to_where(&self) -> Where {
        let mut w = Where::default();
        if let Some(id) = self.user_id {
            w.add("user_id = ?", id);
        }
        if let Some(action) = &self.action {
            w.add("action = ?", action);
        }
        if let Some(entity_type) = &self.entity_type {
            w.add("entity_type = ?", entity_type);
        }
        if let Some(id) = self.entity_id {
            w.add("entity_id = ?", id);
        }
        if let Some(start) = self.since {
            w.add("timestamp >= ?", start);
        }
        if let Some(end) = self.until {
            w.add("timestamp <= ?", end);
        }
        if let Some(success) = self.success {
            w.add("success = ?", success);
        }
        if let Some(ip) = &self.ip_address {
            w.add("ip_address = ?", ip);
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = format!("%{}%", search.to_lowercase());
            w.add(
                "(LOWER(COALESCE(details, '')) LIKE ? OR LOWER(COALESCE(entity_name, '')) LIKE ? \
                 OR LOWER(COALESCE(username, '')) LIKE ?)",
                pattern,
            );
        }
        w
    }
}

fn json_column(row: &Row, name: &str) -> Result<Value, StorageError> {
    Ok(row
        .get::<Option<String>>(name)?
        .map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text)))
        .unwrap_or(Value::Null))
}

/// AuditLogOut.
fn entry(row: &Row) -> Result<Value, StorageError> {
    Ok(json!({
        "id": row.get::<i64>("id")?,
        "timestamp": row.get::<DateTime<Utc>>("timestamp")?,
        "user_id": row.get::<Option<i64>>("user_id")?,
        "username": row.get::<Option<String>>("username")?,
        "action": row.get::<String>("action")?,
        "entity_type": row.get::<String>("entity_type")?,
        "entity_id": row.get::<Option<i64>>("entity_id")?,
        "entity_name": row.get::<Option<String>>("entity_name")?,
        "ip_address": row.get::<Option<String>>("ip_address")?,
        "user_agent": row.get::<Option<String>>("user_agent")?,
        "request_method": row.get::<Option<String>>("request_method")?,
        "request_path": row.get::<Option<String>>("request_path")?,
        "old_values": json_column(row, "old_values")?,
        "new_values": json_column(row, "new_values")?,
        "details": row.get::<Option<String>>("details")?,
        "success": row.get::<bool>("success")?,
        "error_message": row.get::<Option<String>>("error_message")?,
    }))
}

/// Entries matching `filter`, newest first, `limit` of them after skipping `offset`.
pub async fn entries(db: &Db, filter: &Filter, limit: i64, offset: i64) -> Result<Vec<Value>, StorageError> {
    let filter = filter.to_where();
    let mut params = filter.params.clone();
    let n = params.len();
    params.push(limit.into());
    params.push(offset.into());
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_logs{} ORDER BY timestamp DESC, id DESC LIMIT ${} OFFSET ${}",
        filter.sql(),
        n + 1,
        n + 2
    );
    db.query(&sql, params).await?.iter().map(entry).collect()
}

/// How many entries match `filter`.
pub async fn count(db: &Db, filter: &Filter) -> Result<i64, StorageError> {
    let filter = filter.to_where();
    db.query_one(
        &format!("SELECT COUNT(*) AS n FROM audit_logs{}", filter.sql()),
        filter.params,
    )
    .await?
    .get("n")
}

/// The entry `id`, if there is one.
pub async fn entry_by_id(db: &Db, id: i64) -> Result<Option<Value>, StorageError> {
    db.query_opt(&format!("SELECT {COLUMNS} FROM audit_logs WHERE id = $1"), params![id])
        .await?
        .as_ref()
        .map(entry)
        .transpose()
}

/// Counts of the entries matching a filter.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    pub by_action: BTreeMap<String, i64>,
    pub by_entity_type: BTreeMap<String, i64>,
    pub succeeded: i64,
    pub failed: i64,
    /// The ten users with the most entries: (username, count), most first.
    pub most_active: Vec<(String, i64)>,
}

pub async fn statistics(db: &Db, filter: &Filter) -> Result<Statistics, StorageError> {
    let filter = filter.to_where();
    let grouped = |column: &str| {
        format!(
            "SELECT {column} AS k, COUNT(*) AS n FROM audit_logs{} GROUP BY {column} ORDER BY n DESC",
            filter.sql()
        )
    };
    let count_by = |rows: Vec<Row>| -> Result<BTreeMap<String, i64>, StorageError> {
        rows.iter()
            .map(|row| Ok((row.get::<String>("k")?, row.get::<i64>("n")?)))
            .collect()
    };
    let by_action = count_by(db.query(&grouped("action"), filter.params.clone()).await?)?;
    let by_entity_type = count_by(db.query(&grouped("entity_type"), filter.params.clone()).await?)?;
    let (mut succeeded, mut failed) = (0, 0);
    for row in db.query(&grouped("success"), filter.params.clone()).await? {
        if row.get::<bool>("k")? {
            succeeded += row.get::<i64>("n")?;
        } else {
            failed += row.get::<i64>("n")?;
        }
    }
    let mut users = filter.clauses.clone();
    users.push("username IS NOT NULL".into());
    let most_active = db
        .query(
            &format!(
                "SELECT username, COUNT(*) AS n FROM audit_logs WHERE {} GROUP BY username ORDER BY n DESC, username LIMIT 10",
                users.join(" AND ")
            ),
            filter.params.clone(),
        )
        .await?
        .iter()
        .map(|row| Ok((row.get::<String>("username")?, row.get::<i64>("n")?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(Statistics {
        by_action,
        by_entity_type,
        succeeded,
        failed,
        most_active,
    })
}

/// The actions recorded so far, alphabetical.
pub async fn actions(db: &Db) -> Result<Vec<String>, StorageError> {
    distinct(db, "action").await
}

/// The entity types recorded so far, alphabetical.
pub async fn entity_types(db: &Db) -> Result<Vec<String>, StorageError> {
    distinct(db, "entity_type").await
}

async fn distinct(db: &Db, column: &'static str) -> Result<Vec<String>, StorageError> {
    db.query(
        &format!("SELECT DISTINCT {column} AS v FROM audit_logs ORDER BY v"),
        params![],
    )
    .await?
    .iter()
    .map(|row| row.get::<String>("v"))
    .collect()
}

/// Deletes the entries older than `cutoff`; how many went.
pub async fn delete_before(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, StorageError> {
    db.execute("DELETE FROM audit_logs WHERE timestamp < $1", params![cutoff])
        .await
}
