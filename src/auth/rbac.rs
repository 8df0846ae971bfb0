//! Role-based access control with casbin.
//!
//! The policy below is the whole permission table (docs/src/accounts.md, "Roles and permissions").
//! Casbin evaluates it; because policies only change with a release, each role's answer is computed
//! once into a [`PermissionSet`] and cached, so a request's permission check is a bit test, not a
//! casbin evaluation. Roles created through the API carry no permissions until the policy names
//! them.

use std::collections::HashMap;

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use tokio::sync::RwLock;

use super::permission::{Permission, PermissionSet};
use crate::error::ApiError;

/// The four built-in roles.
pub const ADMIN: &str = "admin";
pub const MANAGER: &str = "manager";
pub const USER: &str = "user";
pub const GUEST: &str = "guest";

const MODEL: &str = "
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = (g(r.sub, p.sub) || r.sub == p.sub) && r.obj == p.obj && r.act == p.act
";

/// Role inheritance: managers hold users' permissions, admins managers'.
const INHERITANCE: [(&str, &str); 2] = [(MANAGER, USER), (ADMIN, MANAGER)];

/// Who holds what, besides what is inherited.
fn grants() -> Vec<(&'static str, Permission)> {
    use Permission::*;
    let grants = [
        (GUEST, vec![ResourceRead]),
        (
            USER,
            vec![
                ResourceRead,
                ReservationCreate,
                WaitlistJoin,
                WebhookManage,
                CalendarRead,
                OAuthClientManage,
            ],
        ),
        (
            MANAGER,
            vec![
                ResourceMaintenance,
                ReservationReadAny,
                ReservationCancelAny,
                ReservationApprove,
                WaitlistManageAny,
            ],
        ),
        (
            ADMIN,
            vec![
                ResourceCreate,
                ResourceUpdate,
                ResourceDelete,
                WebhookManageAny,
                CalendarReadAny,
                RoleRead,
                RoleManage,
                UserAdmin,
                AuditRead,
                SystemAdmin,
                QuotaManage,
                GroupManage,
            ],
        ),
    ];
    grants
        .into_iter()
        .flat_map(|(role, permissions)| permissions.into_iter().map(move |p| (role, p)))
        .collect()
}

/// The built-in roles holding `permission`, directly or inherited: the table casbin evaluates,
/// read without it, for decisions made inside a transaction where the [`Authorizer`] is out of
/// reach (which webhooks an event reaches). Roles created through the API hold nothing.
pub fn holders(permission: Permission) -> Vec<&'static str> {
    let mut roles: Vec<&'static str> = grants()
        .into_iter()
        .filter(|(_, granted)| *granted == permission)
        .map(|(role, _)| role)
        .collect();
    loop {
        let inheriting: Vec<&'static str> = INHERITANCE
            .iter()
            .filter(|(role, parent)| roles.contains(parent) && !roles.contains(role))
            .map(|(role, _)| *role)
            .collect();
        if inheriting.is_empty() {
            return roles;
        }
        roles.extend(inheriting);
    }
}

/// Answers "which permissions do these roles give?".
pub struct Authorizer {
    enforcer: RwLock<Enforcer>,
    by_role: std::sync::RwLock<HashMap<String, PermissionSet>>,
}

fn casbin_error(error: casbin::Error) -> ApiError {
    ApiError::internal_context("casbin", error)
}

impl Authorizer {
    pub async fn new() -> Result<Authorizer, ApiError> {
        let model = DefaultModel::from_str(MODEL).await.map_err(casbin_error)?;
        let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
            .await
            .map_err(casbin_error)?;
        let rules = grants()
            .iter()
            .map(|(role, p)| vec![role.to_string(), p.object().to_owned(), p.action().to_owned()])
            .collect();
        enforcer.add_policies(rules).await.map_err(casbin_error)?;
        let groupings = INHERITANCE
            .iter()
            .map(|(role, parent)| vec![role.to_string(), parent.to_string()])
            .collect();
        enforcer.add_grouping_policies(groupings).await.map_err(casbin_error)?;
        Ok(Authorizer {
            enforcer: RwLock::new(enforcer),
            by_role: std::sync::RwLock::new(HashMap::new()),
        })
    }

    /// The union of what `roles` allow.
    pub async fn permissions<'a>(&self, roles: impl IntoIterator<Item = &'a str>) -> Result<PermissionSet, ApiError> {
        let mut total = PermissionSet::default();
        for role in roles {
            total = total.union(self.role_permissions(role).await?);
        }
        Ok(total)
    }

    async fn role_permissions(&self, role: &str) -> Result<PermissionSet, ApiError> {
        let cached = self
            .by_role
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(role)
            .copied();
        if let Some(set) = cached {
            return Ok(set);
        }
        let enforcer = self.enforcer.read().await;
        let mut set = PermissionSet::default();
        for permission in Permission::ALL {
            if enforcer
                .enforce((role, permission.object(), permission.action()))
                .map_err(casbin_error)?
            {
                set.insert(*permission);
            }
        }
        self.by_role
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(role.to_owned(), set);
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn the_permission_table_holds() {
        let authorizer = Authorizer::new().await.unwrap();
        let guest = authorizer.permissions([GUEST]).await.unwrap();
        let user = authorizer.permissions([USER]).await.unwrap();
        let manager = authorizer.permissions([MANAGER]).await.unwrap();
        let admin = authorizer.permissions([ADMIN]).await.unwrap();
        assert!(guest.contains(Permission::ResourceRead) && !guest.contains(Permission::ReservationCreate));
        assert!(user.contains(Permission::ReservationCreate) && !user.contains(Permission::ReservationReadAny));
        assert!(manager.contains(Permission::ReservationCreate) && manager.contains(Permission::ResourceMaintenance));
        assert!(!manager.contains(Permission::ResourceCreate) && !manager.contains(Permission::AuditRead));
        assert!(
            Permission::ALL.iter().all(|p| admin.contains(*p)),
            "admin holds everything"
        );
        assert_eq!(
            authorizer.permissions(["custom"]).await.unwrap(),
            PermissionSet::default()
        );
    }

    #[actix_web::test]
    async fn holders_agree_with_casbin() {
        let authorizer = Authorizer::new().await.unwrap();
        for role in [GUEST, USER, MANAGER, ADMIN] {
            let held = authorizer.permissions([role]).await.unwrap();
            for permission in Permission::ALL {
                assert_eq!(
                    holders(*permission).contains(&role),
                    held.contains(*permission),
                    "{role} and {permission}"
                );
            }
        }
    }
}
