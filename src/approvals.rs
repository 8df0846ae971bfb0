//! Approval requests as the API shows them, read from the database.
//! Answers go through the resource's actor.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::params;
use crate::storage::{Db, Row, StorageError};
use crate::wire::time::utc;

const SELECT: &str = "SELECT a.id, a.reservation_id, b.resource_id, r.name AS resource_name, b.user_id AS requester_id, \
     req.username AS requester_username, a.approver_id, appr.username AS approver_username, b.start_time, b.end_time, \
     a.request_message, a.response_message, a.status, a.created_at, a.responded_at \
     FROM approval_requests a JOIN reservations b ON b.id = a.reservation_id JOIN resources r ON r.id = b.resource_id \
     JOIN users req ON req.id = b.user_id JOIN users appr ON appr.id = a.approver_id";

/// Who is involved in a request, and where it stands.
#[derive(Debug, Clone)]
pub struct ApprovalRecord {
    pub id: i64,
    pub reservation_id: i64,
    pub resource_id: i64,
    pub requester_id: i64,
    pub approver_id: i64,
    pub status: String,
}

fn full(row: &Row) -> Result<Value, StorageError> {
    Ok(json!({
        "id": row.get::<i64>("id")?,
        "reservation_id": row.get::<i64>("reservation_id")?,
        "resource_id": row.get::<i64>("resource_id")?,
        "resource_name": row.get::<String>("resource_name")?,
        "requester_id": row.get::<i64>("requester_id")?,
        "requester_username": row.get::<String>("requester_username")?,
        "approver_id": row.get::<i64>("approver_id")?,
        "approver_username": row.get::<String>("approver_username")?,
        "start_time": utc(row.get("start_time")?),
        "end_time": utc(row.get("end_time")?),
        "request_message": row.get::<Option<String>>("request_message")?,
        "response_message": row.get::<Option<String>>("response_message")?,
        "status": row.get::<String>("status")?,
        "created_at": utc(row.get("created_at")?),
        "responded_at": row.get::<Option<DateTime<Utc>>>("responded_at")?.map(utc),
    }))
}

/// Pending requests waiting for `approver`, newest first.
pub async fn pending_for(db: &Db, approver: i64) -> Result<Vec<Value>, StorageError> {
    let sql =
        format!("{SELECT} WHERE a.approver_id = $1 AND a.status = 'pending' ORDER BY a.created_at DESC, a.id DESC");
    db.query(&sql, params![approver]).await?.iter().map(full).collect()
}

/// `requester`'s pending requests, newest first.
pub async fn pending_of(db: &Db, requester: i64) -> Result<Vec<Value>, StorageError> {
    let sql = format!("{SELECT} WHERE b.user_id = $1 AND a.status = 'pending' ORDER BY a.created_at DESC, a.id DESC");
    db.query(&sql, params![requester]).await?.iter().map(full).collect()
}

pub async fn one(db: &Db, id: i64) -> Result<Option<Value>, StorageError> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    db.query_opt(&sql, params![id]).await?.as_ref().map(full).transpose()
}

pub async fn record(db: &Db, id: i64) -> Result<Option<ApprovalRecord>, StorageError> {
    let row = db
        .query_opt(
            "SELECT a.id, a.reservation_id, b.resource_id, b.user_id, a.approver_id, a.status
             FROM approval_requests a JOIN reservations b ON b.id = a.reservation_id WHERE a.id = $1",
            params![id],
        )
        .await?;
    row.map(|row| {
        Ok(ApprovalRecord {
            id: row.get("id")?,
            reservation_id: row.get("reservation_id")?,
            resource_id: row.get("resource_id")?,
            requester_id: row.get("user_id")?,
            approver_id: row.get("approver_id")?,
            status: row.get("status")?,
        })
    })
    .transpose()
}

/// The request made for a reservation, if any.
pub async fn of_reservation(db: &Db, reservation: i64) -> Result<Option<i64>, StorageError> {
    let row = db
        .query_opt(
            "SELECT id FROM approval_requests WHERE reservation_id = $1",
            params![reservation],
        )
        .await?;
    row.map(|row| row.get("id")).transpose()
}

/// The username of a user, if the user exists.
pub async fn username(db: &Db, user: i64) -> Result<Option<String>, StorageError> {
    let row = db
        .query_opt("SELECT username FROM users WHERE id = $1", params![user])
        .await?;
    row.map(|row| row.get("username")).transpose()
}
