//! Where resources sit among the resource groups, as live delivery needs it: for an event about
//! a resource, the groups that resource is under (its group and every group above it), so that
//! sessions following a group receive it (see `reserver_actors::notifier`).
//!
//! The tailer keeps the one [`LiveHierarchy`] of the process: it reads the hierarchy when it
//! starts and again before publishing the events that follow a `resource_group_changed` or
//! `resource_hierarchy_changed` (every change of a group's parent or of a resource's group has
//! one, written in its transaction). So an event is routed by the hierarchy as it stood when the
//! event was published, whichever process changed it: a resource moved under a followed group is
//! followed from its move on, one moved out no longer is. Replays route by the hierarchy as it
//! stands when they run. Reading it is two small queries (ids only); the SQL is the groups
//! module's ([`HierarchyStore`], implemented above this module).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use reserver_actors::notifier::GroupId;
use reserver_actors::resource::ResourceId;

use super::Event;
use crate::storage::StorageError;

/// Every grouped resource's group and every group's parent (`None` for a root).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupTree {
    pub group_of: HashMap<ResourceId, GroupId>,
    pub parent_of: HashMap<GroupId, Option<GroupId>>,
}

impl GroupTree {
    /// The groups `resource` is under, innermost first; empty when it is in none. The walk is
    /// bounded by the number of groups, so a cycle (which the writes refuse) cannot hang it.
    pub fn groups_above(&self, resource: Option<ResourceId>) -> Arc<[GroupId]> {
        let mut groups = Vec::new();
        let mut next = resource.and_then(|resource| self.group_of.get(&resource).copied());
        while let Some(group) = next {
            if groups.len() > self.parent_of.len() || groups.contains(&group) {
                break;
            }
            groups.push(group);
            next = self.parent_of.get(&group).copied().flatten();
        }
        Arc::from(groups)
    }
}

/// Reads the hierarchy (implemented by `crate::groups`).
#[async_trait]
pub trait HierarchyStore: Send + Sync {
    async fn load(&self) -> Result<GroupTree, StorageError>;
    async fn group_exists(&self, group: GroupId) -> Result<bool, StorageError>;
}

/// The process's current view of the hierarchy, shared by the tailer (which refreshes it) and
/// the sessions (which read it to route replays and to check the groups they are asked to
/// follow). Cheap to clone.
#[derive(Clone)]
pub struct LiveHierarchy {
    store: Arc<dyn HierarchyStore>,
    tree: Arc<RwLock<Arc<GroupTree>>>,
}

impl LiveHierarchy {
    /// Reads the hierarchy once.
    pub async fn load(store: Arc<dyn HierarchyStore>) -> Result<LiveHierarchy, StorageError> {
        let tree = store.load().await?;
        Ok(LiveHierarchy {
            store,
            tree: Arc::new(RwLock::new(Arc::new(tree))),
        })
    }

    /// The hierarchy as last read.
    pub fn tree(&self) -> Arc<GroupTree> {
        self.tree.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the hierarchy again.
    pub async fn refresh(&self) -> Result<(), StorageError> {
        let tree = Arc::new(self.store.load().await?);
        *self.tree.write().unwrap_or_else(|p| p.into_inner()) = tree;
        Ok(())
    }

    /// Whether `group` exists: known from the last read, or else asked of the database (a
    /// group created since, whose event the tailer has not reached yet). A client naming many
    /// groups costs no query for those already read and stops at the first unknown one.
    pub async fn group_exists(&self, group: GroupId) -> Result<bool, StorageError> {
        if self.tree().parent_of.contains_key(&group) {
            return Ok(true);
        }
        self.store.group_exists(group).await
    }
}

/// Whether the event changes where resources sit.
pub fn changes_hierarchy(event: &Event) -> bool {
    matches!(
        event,
        Event::ResourceGroupChanged(_) | Event::ResourceHierarchyChanged(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_under_its_group_and_every_group_above() {
        let tree = GroupTree {
            group_of: [(1, 12), (2, 10)].into(),
            parent_of: [(10, None), (11, Some(10)), (12, Some(11)), (20, None)].into(),
        };
        assert_eq!(&*tree.groups_above(Some(1)), [12, 11, 10]);
        assert_eq!(&*tree.groups_above(Some(2)), [10]);
        assert!(tree.groups_above(Some(3)).is_empty());
        assert!(tree.groups_above(None).is_empty());
        // A cycle (never written) ends the walk instead of hanging it.
        let cyclic = GroupTree {
            group_of: [(1, 10)].into(),
            parent_of: [(10, Some(11)), (11, Some(10))].into(),
        };
        assert_eq!(&*cyclic.groups_above(Some(1)), [10, 11]);
    }
}
