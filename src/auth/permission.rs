//! Permissions: what a route or an object-level check asks for, as an object × action pair.
//!
//! Which roles hold which permission is the policy in [`super::rbac`], evaluated by casbin; this
//! file only names the permissions, the OAuth2 scope each one needs, and the 403 text a refusal
//! carries (fixed by the `/api/v1` wire format where it has one).

use std::fmt;

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = ($object:literal, $action:literal, $scope:expr)),* $(,)?) => {
        /// One thing a caller may be allowed to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission {
            $($(#[$doc])* $name),*
        }

        impl Permission {
            /// Every permission, in declaration order.
            pub const ALL: &'static [Permission] = &[$(Permission::$name),*];

            /// The casbin object.
            pub fn object(self) -> &'static str {
                match self { $(Permission::$name => $object),* }
            }

            /// The casbin action.
            pub fn action(self) -> &'static str {
                match self { $(Permission::$name => $action),* }
            }

            /// The OAuth2 scope a delegated (OAuth2) token needs to use this permission; `None`
            /// for what only the user's own sign-in may do.
            pub fn scope(self) -> Option<&'static str> {
                match self { $(Permission::$name => $scope),* }
            }
        }
    };
}

permissions! {
    /// See resources, their schedules and availability (everyone, guests included).
    ResourceRead = ("resource", "read", Some("read")),
    ResourceCreate = ("resource", "create", Some("write")),
    ResourceUpdate = ("resource", "update", Some("write")),
    ResourceDelete = ("resource", "delete", Some("delete")),
    /// Set maintenance and availability of a resource.
    ResourceMaintenance = ("resource", "maintenance", Some("write")),
    /// Book (and see, change, cancel one's own bookings).
    ReservationCreate = ("reservation", "create", Some("write")),
    /// See, export and search everyone's reservations.
    ReservationReadAny = ("reservation", "read_any", Some("read")),
    /// Change or cancel anyone's reservation.
    ReservationCancelAny = ("reservation", "cancel_any", Some("write")),
    /// Approve or reject reservations that need approval.
    ReservationApprove = ("reservation", "approve", Some("write")),
    /// Join the waitlist (and see and leave one's own entries).
    WaitlistJoin = ("waitlist", "create", Some("write")),
    /// See and manage everyone's waitlist entries.
    WaitlistManageAny = ("waitlist", "manage_any", Some("write")),
    /// Own webhooks.
    WebhookManage = ("webhook", "manage", Some("write")),
    /// See and manage everyone's webhooks.
    WebhookManageAny = ("webhook", "manage_any", Some("admin")),
    /// One's own calendar feed.
    CalendarRead = ("calendar", "read", Some("read")),
    /// Read anyone's calendar feed and exports.
    CalendarReadAny = ("calendar", "read_any", Some("admin")),
    /// Register and manage one's own OAuth2 clients (never through a delegated token).
    OAuthClientManage = ("oauth_client", "manage", None),
    /// List roles.
    RoleRead = ("user", "read", Some("admin")),
    /// Create roles, assign and remove them.
    RoleManage = ("role", "manage", Some("admin")),
    /// List, disable and reset users.
    UserAdmin = ("user", "manage", Some("admin")),
    /// Read and export the audit log, apply retention.
    AuditRead = ("audit", "read", Some("admin")),
    /// Server-wide maintenance tasks (cleanups, settings).
    SystemAdmin = ("system", "manage", Some("admin")),
    /// See everyone's API usage; set users' rate-limit tiers and quotas.
    QuotaManage = ("quota", "manage", Some("admin")),
    /// Create, change and delete resource groups; place resources in groups and under parents.
    GroupManage = ("resource_group", "manage", Some("write")),
}

impl Permission {
    /// The 403 `detail` when the caller lacks this permission: the endpoint's own text where the
    /// wire format has one, otherwise the generic `Insufficient permissions: <act> on <obj>`.
    pub fn denial(self) -> String {
        match self {
            Permission::ResourceCreate | Permission::ResourceUpdate | Permission::ResourceDelete => {
                "Admin access required".into()
            }
            Permission::RoleManage
            | Permission::UserAdmin
            | Permission::AuditRead
            | Permission::SystemAdmin
            | Permission::QuotaManage
            | Permission::GroupManage => "Role required: admin".into(),
            other => format!("Insufficient permissions: {} on {}", other.action(), other.object()),
        }
    }

    fn bit(self) -> u64 {
        let index = Permission::ALL.iter().position(|p| *p == self).unwrap_or(63);
        1 << index
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.object(), self.action())
    }
}

/// A set of permissions (a bit set: checking one is a mask test).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u64);

impl PermissionSet {
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn insert(&mut self, permission: Permission) {
        self.0 |= permission.bit();
    }

    pub fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 | other.0)
    }

    /// Only the permissions a delegated token's `scopes` cover.
    pub fn within_scopes(self, scopes: &[String]) -> PermissionSet {
        Permission::ALL
            .iter()
            .filter(|p| self.contains(**p) && p.scope().is_some_and(|scope| scopes.iter().any(|s| s == scope)))
            .fold(PermissionSet::default(), |mut set, p| {
                set.insert(*p);
                set
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_has_its_own_bit() {
        assert!(Permission::ALL.len() < 64);
        let mut set = PermissionSet::default();
        set.insert(Permission::AuditRead);
        assert!(set.contains(Permission::AuditRead));
        assert!(Permission::ALL.iter().filter(|p| set.contains(**p)).count() == 1);
    }

    #[test]
    fn scopes_narrow_a_set() {
        let mut set = PermissionSet::default();
        set.insert(Permission::ResourceRead);
        set.insert(Permission::ReservationCreate);
        let narrowed = set.within_scopes(&["read".into()]);
        assert!(narrowed.contains(Permission::ResourceRead));
        assert!(!narrowed.contains(Permission::ReservationCreate));
    }
}
