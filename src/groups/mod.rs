//! Resource groups and the hierarchy of resources (`/api/v1/resource-groups`).
//!
//! Groups form a forest (a building, its floors, their rooms); a resource belongs to at most
//! one group, and may sit inside another resource (a desk inside a room: its parent).
//!
//! Guarantees:
//! - Neither forest ever holds a cycle, even under concurrent re-parentings: every change of a
//!   parent (of a group or of a resource) first locks the one `hierarchy_lock` row, then checks
//!   the chain of ancestors and writes in the same transaction. On PostgreSQL the lock makes
//!   such transactions run one after the other (READ COMMITTED re-reads after the lock, so the
//!   check sees the other's result); on SQLite writers are serialised anyway.
//! - Every change is one transaction with its events (`resource_group_changed`,
//!   `resource_hierarchy_changed`), so an event exists iff its change committed.
//! - Deleting a group never deletes a resource: the resources of deleted groups become
//!   ungrouped. A group with subgroups is deleted only with `cascade` (its whole subtree).
//!
//! Membership is not part of a resource's schedule, so these writes do not go through the
//! resource actors (nothing the actors check depends on it).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::error::ApiError;
use crate::events::event::NewEvent;
use crate::events::{EventWriter, GroupTree, HierarchyStore};
use crate::params;
use crate::resource_columns;
use crate::resources::model::live_status;
use crate::resources::queries::CURRENT_USER_SQL;
use crate::resources::record;
use crate::storage::{Db, Row, StorageError, Transaction, Value};
use crate::wire::time::utc;

/// Why a group operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("Resource group not found")]
    GroupNotFound,
    #[error("Parent group not found")]
    ParentGroupNotFound,
    #[error("Group cannot be its own parent")]
    GroupOwnParent,
    #[error("Circular parent reference detected")]
    Circular,
    #[error("Group has {0} child group(s). Use cascade=true to delete.")]
    HasChildren(i64),
    #[error("Resource not found")]
    ResourceNotFound,
    #[error("Resource not found in this group")]
    NotInGroup,
    #[error("Parent resource not found")]
    ParentResourceNotFound,
    #[error("Resource cannot be its own parent")]
    ResourceOwnParent,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<GroupError> for ApiError {
    fn from(error: GroupError) -> ApiError {
        match error {
            GroupError::GroupNotFound
            | GroupError::ParentGroupNotFound
            | GroupError::ResourceNotFound
            | GroupError::NotInGroup
            | GroupError::ParentResourceNotFound => ApiError::NotFound(error.to_string()),
            GroupError::GroupOwnParent
            | GroupError::Circular
            | GroupError::HasChildren(_)
            | GroupError::ResourceOwnParent => ApiError::BadRequest(error.to_string()),
            GroupError::Storage(storage) => storage.into(),
        }
    }
}

/// The fields of a group a client sets (all but the name optional).
#[derive(Debug, Clone, Default)]
pub struct GroupFields {
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub building: Option<String>,
    pub floor: Option<String>,
    pub room: Option<String>,
}

/// A partial change: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub parent_id: Option<Option<i64>>,
    pub building: Option<Option<String>>,
    pub floor: Option<Option<String>>,
    pub room: Option<Option<String>>,
}

/// `GroupOut` of the wire format.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupOut {
    pub id: i64,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    #[schema(required)]
    pub parent_id: Option<i64>,
    #[schema(required)]
    pub building: Option<String>,
    #[schema(required)]
    pub floor: Option<String>,
    #[schema(required)]
    pub room: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(required, format = DateTime)]
    pub updated_at: Option<String>,
}

/// `ResourceInGroupOut` of the wire format.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceInGroupOut {
    pub id: i64,
    pub name: String,
    pub available: bool,
    #[schema(schema_with = crate::resources::model::live_status_schema)]
    pub status: &'static str,
    pub tags: Vec<String>,
    #[schema(required)]
    pub group_id: Option<i64>,
    #[schema(required)]
    pub parent_id: Option<i64>,
}

const GROUP_COLUMNS: &str =
    "g.id, g.name, g.description, g.parent_id, g.building, g.floor, g.room, g.created_at, g.updated_at";

fn decode_group(row: &Row) -> Result<GroupOut, StorageError> {
    Ok(GroupOut {
        id: row.get("id")?,
        name: row.get("name")?,
        description: row.get("description")?,
        parent_id: row.get("parent_id")?,
        building: row.get("building")?,
        floor: row.get("floor")?,
        room: row.get("room")?,
        created_at: utc(row.get("created_at")?),
        updated_at: row.get::<Option<DateTime<Utc>>>("updated_at")?.map(utc),
    })
}

/// Locks the hierarchy until `tx` ends (see the module's guarantees).
async fn lock_hierarchy(tx: &mut Box<dyn Transaction>) -> Result<(), StorageError> {
    tx.execute("UPDATE hierarchy_lock SET version = version + 1 WHERE id = 1", vec![])
        .await
        .map(drop)
}

async fn group_in(tx: &mut Box<dyn Transaction>, id: i64) -> Result<Option<GroupOut>, StorageError> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM resource_groups g WHERE g.id = $1");
    tx.query_opt(&sql, params![id])
        .await?
        .as_ref()
        .map(decode_group)
        .transpose()
}

/// Whether `ancestor` is `start` or one of its ancestors, following `parent_id` in `table`
/// (read inside the locked transaction, so the answer holds until it commits).
async fn reaches(tx: &mut Box<dyn Transaction>, table: &str, start: i64, ancestor: i64) -> Result<bool, StorageError> {
    let sql = format!("SELECT parent_id FROM {table} WHERE id = $1");
    let mut seen = HashSet::new();
    let mut current = Some(start);
    while let Some(id) = current {
        if id == ancestor {
            return Ok(true);
        }
        if !seen.insert(id) {
            // A cycle already stored (impossible through this module): refuse rather than loop.
            return Ok(true);
        }
        current = match tx.query_opt(&sql, params![id]).await? {
            Some(row) => row.get("parent_id")?,
            None => None,
        };
    }
    Ok(false)
}

/// Creates a group.
pub async fn create(
    db: &Db,
    events: &EventWriter,
    new: GroupFields,
    now: DateTime<Utc>,
) -> Result<GroupOut, GroupError> {
    let mut tx = db.begin().await?;
    lock_hierarchy(&mut tx).await?;
    if let Some(parent) = new.parent_id
        && group_in(&mut tx, parent).await?.is_none()
    {
        return Err(GroupError::ParentGroupNotFound);
    }
    let row = tx
        .query_opt(
            "INSERT INTO resource_groups (name, description, parent_id, building, floor, room, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            params![
                new.name.as_str(),
                new.description,
                new.parent_id,
                new.building,
                new.floor,
                new.room,
                now
            ],
        )
        .await?
        .ok_or_else(|| StorageError::Decode("INSERT returned no id".into()))?;
    let id: i64 = row.get("id")?;
    let event = NewEvent::resource_group_changed(id, "created", &new.name, new.parent_id);
    events.record(&mut tx, vec![event], now).await?;
    let group = group_in(&mut tx, id).await?.ok_or(GroupError::GroupNotFound)?;
    tx.commit().await?;
    events.committed();
    Ok(group)
}

/// `GET /`: root groups by default; the children of `parent_id`; or every group with
/// `include_children`; optionally of one building. By name.
pub async fn list(
    db: &Db,
    parent_id: Option<i64>,
    building: Option<&str>,
    include_children: bool,
) -> Result<Vec<GroupOut>, StorageError> {
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut values = Vec::new();
    if let Some(parent) = parent_id {
        values.push(Value::Int(parent));
        conditions.push(format!("g.parent_id = ${}", values.len()));
    } else if !include_children {
        conditions.push("g.parent_id IS NULL".into());
    }
    if let Some(building) = building {
        values.push(Value::from(building));
        conditions.push(format!("g.building = ${}", values.len()));
    }
    let sql = format!(
        "SELECT {GROUP_COLUMNS} FROM resource_groups g WHERE {} ORDER BY g.name, g.id",
        conditions.join(" AND ")
    );
    db.query(&sql, values).await?.iter().map(decode_group).collect()
}

async fn all_groups(db: &Db) -> Result<Vec<GroupOut>, StorageError> {
    list(db, None, None, true).await
}

/// Number of resources directly in each group.
async fn resource_counts(db: &Db) -> Result<HashMap<i64, i64>, StorageError> {
    let rows = db
        .query(
            "SELECT group_id, COUNT(*) AS n FROM resources WHERE group_id IS NOT NULL GROUP BY group_id",
            vec![],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.get("group_id")?, row.get("n")?)))
        .collect()
}

fn with_extras(group: &GroupOut, children: Vec<Json>, resource_count: i64) -> Json {
    let mut value = serde_json::to_value(group).unwrap_or_default();
    if let Json::Object(fields) = &mut value {
        fields.insert("children".into(), Json::Array(children));
        fields.insert("resource_count".into(), json!(resource_count));
    }
    value
}

/// `GET /tree`: every root with its subtree; each group with the number of resources directly
/// in it. `total_resources` counts the resources in some group.
pub async fn tree(db: &Db) -> Result<Json, StorageError> {
    let groups = all_groups(db).await?;
    let counts = resource_counts(db).await?;
    let mut children: BTreeMap<Option<i64>, Vec<&GroupOut>> = BTreeMap::new();
    for group in &groups {
        children.entry(group.parent_id).or_default().push(group);
    }
    fn build(
        group: &GroupOut,
        children: &BTreeMap<Option<i64>, Vec<&GroupOut>>,
        counts: &HashMap<i64, i64>,
        depth: usize,
    ) -> Json {
        let below = if depth > 10_000 {
            Vec::new()
        } else {
            children
                .get(&Some(group.id))
                .map(|list| {
                    list.iter()
                        .map(|child| build(child, children, counts, depth + 1))
                        .collect()
                })
                .unwrap_or_default()
        };
        with_extras(group, below, counts.get(&group.id).copied().unwrap_or(0))
    }
    let roots: Vec<Json> = children
        .get(&None)
        .map(|list| list.iter().map(|root| build(root, &children, &counts, 0)).collect())
        .unwrap_or_default();
    Ok(json!({
        "groups": roots,
        "total_groups": groups.len(),
        "total_resources": counts.values().sum::<i64>(),
    }))
}

/// `GET /buildings`: the distinct non-empty buildings, sorted.
pub async fn buildings(db: &Db) -> Result<Vec<String>, StorageError> {
    let rows = db
        .query(
            "SELECT DISTINCT building FROM resource_groups WHERE building IS NOT NULL AND building <> '' ORDER BY building",
            vec![],
        )
        .await?;
    rows.iter().map(|row| row.get("building")).collect()
}

/// `GET /{id}`: the group, its direct children (each with an empty `children` and its own
/// count) and its own count.
pub async fn one(db: &Db, id: i64) -> Result<Json, GroupError> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM resource_groups g WHERE g.id = $1");
    let group = db
        .query_opt(&sql, params![id])
        .await?
        .as_ref()
        .map(decode_group)
        .transpose()?
        .ok_or(GroupError::GroupNotFound)?;
    let counts = resource_counts(db).await?;
    let children = list(db, Some(id), None, false)
        .await?
        .iter()
        .map(|child| with_extras(child, Vec::new(), counts.get(&child.id).copied().unwrap_or(0)))
        .collect();
    Ok(with_extras(&group, children, counts.get(&id).copied().unwrap_or(0)))
}

/// `PATCH /{id}`: applies the fields present.
pub async fn update(
    db: &Db,
    events: &EventWriter,
    id: i64,
    patch: GroupPatch,
    now: DateTime<Utc>,
) -> Result<GroupOut, GroupError> {
    let mut tx = db.begin().await?;
    lock_hierarchy(&mut tx).await?;
    let mut group = group_in(&mut tx, id).await?.ok_or(GroupError::GroupNotFound)?;
    if let Some(Some(parent)) = patch.parent_id {
        if parent == id {
            return Err(GroupError::GroupOwnParent);
        }
        if group_in(&mut tx, parent).await?.is_none() {
            return Err(GroupError::ParentGroupNotFound);
        }
        if reaches(&mut tx, "resource_groups", parent, id).await? {
            return Err(GroupError::Circular);
        }
    }
    if let Some(name) = patch.name {
        group.name = name;
    }
    if let Some(description) = patch.description {
        group.description = description;
    }
    if let Some(parent) = patch.parent_id {
        group.parent_id = parent;
    }
    if let Some(building) = patch.building {
        group.building = building;
    }
    if let Some(floor) = patch.floor {
        group.floor = floor;
    }
    if let Some(room) = patch.room {
        group.room = room;
    }
    tx.execute(
        "UPDATE resource_groups SET name = $1, description = $2, parent_id = $3, building = $4, floor = $5,
                room = $6, updated_at = $7 WHERE id = $8",
        params![
            group.name.as_str(),
            group.description.clone(),
            group.parent_id,
            group.building.clone(),
            group.floor.clone(),
            group.room.clone(),
            now,
            id
        ],
    )
    .await?;
    let event = NewEvent::resource_group_changed(id, "updated", &group.name, group.parent_id);
    events.record(&mut tx, vec![event], now).await?;
    let group = group_in(&mut tx, id).await?.ok_or(GroupError::GroupNotFound)?;
    tx.commit().await?;
    events.committed();
    Ok(group)
}

/// The ids of `id` and every group below it, parents before children (read in `tx`).
async fn subtree_in(tx: &mut Box<dyn Transaction>, id: i64) -> Result<Vec<i64>, StorageError> {
    let rows = tx.query("SELECT id, parent_id FROM resource_groups", vec![]).await?;
    below(&rows, id)
}

/// `id` and the groups below it in `rows` (`id`, `parent_id`), parents before children.
fn below(rows: &[Row], id: i64) -> Result<Vec<i64>, StorageError> {
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in rows {
        if let Some(parent) = row.get::<Option<i64>>("parent_id")? {
            children.entry(parent).or_default().push(row.get("id")?);
        }
    }
    let mut order = vec![id];
    let mut seen: HashSet<i64> = HashSet::from([id]);
    let mut index = 0;
    while index < order.len() {
        if let Some(list) = children.get(&order[index]) {
            for child in list {
                if seen.insert(*child) {
                    order.push(*child);
                }
            }
        }
        index += 1;
    }
    Ok(order)
}

/// `DELETE /{id}`: refused while it has subgroups unless `cascade` (then its whole subtree
/// goes). The resources of deleted groups become ungrouped.
pub async fn delete(
    db: &Db,
    events: &EventWriter,
    id: i64,
    cascade: bool,
    now: DateTime<Utc>,
) -> Result<(), GroupError> {
    let mut tx = db.begin().await?;
    lock_hierarchy(&mut tx).await?;
    group_in(&mut tx, id).await?.ok_or(GroupError::GroupNotFound)?;
    let children: i64 = tx
        .query_opt(
            "SELECT COUNT(*) AS n FROM resource_groups WHERE parent_id = $1",
            params![id],
        )
        .await?
        .map(|row| row.get("n"))
        .transpose()?
        .unwrap_or(0);
    if children > 0 && !cascade {
        return Err(GroupError::HasChildren(children));
    }
    let doomed = subtree_in(&mut tx, id).await?;
    let mut recorded = Vec::new();
    // Children first, so no foreign key ever points at a deleted row.
    for group in doomed.iter().rev() {
        let Some(old) = group_in(&mut tx, *group).await? else {
            continue;
        };
        let moved = tx
            .query(
                "SELECT id, parent_id FROM resources WHERE group_id = $1",
                params![*group],
            )
            .await?;
        tx.execute(
            "UPDATE resources SET group_id = NULL WHERE group_id = $1",
            params![*group],
        )
        .await?;
        for row in &moved {
            recorded.push(NewEvent::resource_hierarchy_changed(
                row.get("id")?,
                None,
                row.get("parent_id")?,
            ));
        }
        tx.execute("DELETE FROM resource_groups WHERE id = $1", params![*group])
            .await?;
        recorded.push(NewEvent::resource_group_changed(
            *group,
            "deleted",
            &old.name,
            old.parent_id,
        ));
    }
    events.record(&mut tx, recorded, now).await?;
    tx.commit().await?;
    events.committed();
    Ok(())
}

const IN_GROUP_COLUMNS: &str = concat!(resource_columns!(), ", r.group_id, r.parent_id");

/// Resources as `ResourceInGroupOut`, from `WHERE {condition}` (with `$2…` bound to `values`;
/// `$1` is now), by name.
async fn resources_where(
    db: &Db,
    condition: &str,
    mut values: Vec<Value>,
    now: DateTime<Utc>,
) -> Result<Vec<ResourceInGroupOut>, StorageError> {
    values.insert(0, Value::Time(now));
    let sql = format!(
        "SELECT {IN_GROUP_COLUMNS}, {CURRENT_USER_SQL} AS current_user_name FROM resources r WHERE {condition}
         ORDER BY r.name, r.id"
    );
    let rows = db.query(&sql, values).await?;
    let ids: Vec<i64> = rows.iter().map(|row| row.get("id")).collect::<Result<_, _>>()?;
    let mut tags = record::tags_of_many(db, &ids).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.get("id")?;
            let info = record::decode(row, tags.remove(&id).unwrap_or_default())?;
            let in_use = row.get::<Option<String>>("current_user_name")?.is_some();
            Ok(ResourceInGroupOut {
                id,
                status: live_status(&info, in_use, now),
                name: info.name,
                available: info.enabled,
                tags: info.tags,
                group_id: row.get("group_id")?,
                parent_id: row.get("parent_id")?,
            })
        })
        .collect()
}

/// `GET /ungrouped`.
pub async fn ungrouped(db: &Db, now: DateTime<Utc>) -> Result<Vec<ResourceInGroupOut>, StorageError> {
    resources_where(db, "r.group_id IS NULL", vec![], now).await
}

/// The ids of `id` and of every group below it (`id` must exist).
pub async fn subtree(db: &Db, id: i64) -> Result<Vec<i64>, StorageError> {
    let rows = db.query("SELECT id, parent_id FROM resource_groups", vec![]).await?;
    below(&rows, id)
}

/// The groups of `building` (case-insensitively) and every group below them.
pub async fn in_building(db: &Db, building: &str) -> Result<Vec<i64>, StorageError> {
    let rows = db
        .query("SELECT id, parent_id, building FROM resource_groups", vec![])
        .await?;
    let wanted = building.to_lowercase();
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    for row in &rows {
        let own: Option<String> = row.get("building")?;
        if own.is_some_and(|own| own.to_lowercase() == wanted) {
            for id in below(&rows, row.get("id")?)? {
                if seen.insert(id) {
                    ids.push(id);
                }
            }
        }
    }
    Ok(ids)
}

/// [`subtree`] of `id`, or nothing when no such group exists (a search in an unknown group
/// finds nothing).
pub async fn subtree_or_empty(db: &Db, id: i64) -> Result<Vec<i64>, StorageError> {
    if group_exists(db, id).await? {
        subtree(db, id).await
    } else {
        Ok(Vec::new())
    }
}

/// Whether the group `id` exists.
pub async fn group_exists(db: &Db, id: i64) -> Result<bool, StorageError> {
    Ok(db
        .query_opt("SELECT id FROM resource_groups WHERE id = $1", params![id])
        .await?
        .is_some())
}

/// `GET /{id}/resources`: the resources directly in the group, or in its whole subtree.
pub async fn resources_of(
    db: &Db,
    id: i64,
    include_children: bool,
    now: DateTime<Utc>,
) -> Result<Vec<ResourceInGroupOut>, GroupError> {
    if !group_exists(db, id).await? {
        return Err(GroupError::GroupNotFound);
    }
    let groups = if include_children {
        subtree(db, id).await?
    } else {
        vec![id]
    };
    let placeholders: Vec<String> = (2..groups.len() + 2).map(|i| format!("${i}")).collect();
    let condition = format!("r.group_id IN ({})", placeholders.join(", "));
    let values = groups.into_iter().map(Value::Int).collect();
    Ok(resources_where(db, &condition, values, now).await?)
}

/// The hierarchy as live updates read it (`crate::events::hierarchy`): every grouped resource's
/// group and every group's parent, ids only.
pub struct LiveStore {
    pub db: Db,
}

#[async_trait::async_trait]
impl HierarchyStore for LiveStore {
    async fn load(&self) -> Result<GroupTree, StorageError> {
        let mut tree = GroupTree::default();
        for row in self
            .db
            .query("SELECT id, parent_id FROM resource_groups", vec![])
            .await?
        {
            tree.parent_of.insert(row.get("id")?, row.get("parent_id")?);
        }
        let grouped = "SELECT id, group_id FROM resources WHERE group_id IS NOT NULL";
        for row in self.db.query(grouped, vec![]).await? {
            tree.group_of.insert(row.get("id")?, row.get("group_id")?);
        }
        Ok(tree)
    }

    async fn group_exists(&self, group: i64) -> Result<bool, StorageError> {
        group_exists(&self.db, group).await
    }
}

async fn resource_name_in(
    tx: &mut Box<dyn Transaction>,
    id: i64,
) -> Result<Option<(String, Option<i64>, Option<i64>)>, StorageError> {
    tx.query_opt(
        "SELECT name, group_id, parent_id FROM resources WHERE id = $1",
        params![id],
    )
    .await?
    .map(|row| Ok((row.get("name")?, row.get("group_id")?, row.get("parent_id")?)))
    .transpose()
}

/// `POST /{id}/resources`: puts a resource into the group (out of any other).
pub async fn assign(
    db: &Db,
    events: &EventWriter,
    group: i64,
    resource: i64,
    now: DateTime<Utc>,
) -> Result<String, GroupError> {
    let mut tx = db.begin().await?;
    let target = group_in(&mut tx, group).await?.ok_or(GroupError::GroupNotFound)?;
    let (name, _, parent) = resource_name_in(&mut tx, resource)
        .await?
        .ok_or(GroupError::ResourceNotFound)?;
    tx.execute(
        "UPDATE resources SET group_id = $1 WHERE id = $2",
        params![group, resource],
    )
    .await?;
    let event = NewEvent::resource_hierarchy_changed(resource, Some(group), parent);
    events.record(&mut tx, vec![event], now).await?;
    tx.commit().await?;
    events.committed();
    Ok(format!("Resource '{name}' assigned to group '{}'", target.name))
}

/// `DELETE /{id}/resources/{resource_id}`: takes a resource out of the group.
pub async fn unassign(
    db: &Db,
    events: &EventWriter,
    group: i64,
    resource: i64,
    now: DateTime<Utc>,
) -> Result<String, GroupError> {
    let mut tx = db.begin().await?;
    let (name, current, parent) = resource_name_in(&mut tx, resource)
        .await?
        .ok_or(GroupError::NotInGroup)?;
    if current != Some(group) {
        return Err(GroupError::NotInGroup);
    }
    tx.execute("UPDATE resources SET group_id = NULL WHERE id = $1", params![resource])
        .await?;
    let event = NewEvent::resource_hierarchy_changed(resource, None, parent);
    events.record(&mut tx, vec![event], now).await?;
    tx.commit().await?;
    events.committed();
    Ok(format!("Resource '{name}' removed from group"))
}

/// `POST /resources/set-parent`: sets (or with `None` removes) a resource's parent resource.
pub async fn set_parent(
    db: &Db,
    events: &EventWriter,
    resource: i64,
    parent: Option<i64>,
    now: DateTime<Utc>,
) -> Result<String, GroupError> {
    let mut tx = db.begin().await?;
    lock_hierarchy(&mut tx).await?;
    let (name, group, _) = resource_name_in(&mut tx, resource)
        .await?
        .ok_or(GroupError::ResourceNotFound)?;
    let message = match parent {
        Some(parent) => {
            if parent == resource {
                return Err(GroupError::ResourceOwnParent);
            }
            let (parent_name, _, _) = resource_name_in(&mut tx, parent)
                .await?
                .ok_or(GroupError::ParentResourceNotFound)?;
            if reaches(&mut tx, "resources", parent, resource).await? {
                return Err(GroupError::Circular);
            }
            format!("Resource '{name}' parent set to '{parent_name}'")
        }
        None => format!("Resource '{name}' parent removed"),
    };
    tx.execute(
        "UPDATE resources SET parent_id = $1 WHERE id = $2",
        params![parent, resource],
    )
    .await?;
    let event = NewEvent::resource_hierarchy_changed(resource, group, parent);
    events.record(&mut tx, vec![event], now).await?;
    tx.commit().await?;
    events.committed();
    Ok(message)
}

/// `GET /resources/{id}/children`: the resources whose parent is `id`.
pub async fn children(db: &Db, resource: i64, now: DateTime<Utc>) -> Result<Vec<ResourceInGroupOut>, GroupError> {
    if db
        .query_opt("SELECT id FROM resources WHERE id = $1", params![resource])
        .await?
        .is_none()
    {
        return Err(GroupError::ResourceNotFound);
    }
    Ok(resources_where(db, "r.parent_id = $2", params![resource], now).await?)
}
