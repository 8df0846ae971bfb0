// Every page of the dashboard: its hash path (`#/resources/:id`), its module under `pages/`
// (loaded on first visit, so a wall screen downloads only the board), whether it needs a
// signed-in user, and the permission it needs (the server enforces it again on every call).
export const routes = [
  // core and sign-in
  { path: '/', module: 'home.js', auth: true },
  { path: '/setup', module: 'setup.js', auth: false },
  { path: '/signin', module: 'signin.js', auth: false },
  { path: '/register', module: 'register.js', auth: false },
  { path: '/board', module: 'board.js', auth: true, chrome: 'optional' },
  { path: '/notifications', module: 'notifications.js', auth: true },
  { path: '/mine', module: 'mine.js', auth: true },
  // resources and booking
  { path: '/resources', module: 'resources.js', auth: true },
  { path: '/resources/:id', module: 'resource.js', auth: true },
  { path: '/reservations/:id', module: 'reservation.js', auth: true },
  { path: '/waitlist', module: 'waitlist.js', auth: true },
  { path: '/approvals', module: 'approvals.js', auth: true },
  { path: '/analytics', module: 'analytics.js', auth: true },
  { path: '/bulk', module: 'bulk.js', auth: true },
  // administration and account
  { path: '/admin', module: 'admin.js', auth: true },
  { path: '/admin/resources', module: 'admin-resources.js', auth: true, permission: 'resource:create' },
  { path: '/admin/resources/:id', module: 'admin-resource.js', auth: true, permission: 'resource:update' },
  { path: '/admin/hours', module: 'admin-hours.js', auth: true },
  { path: '/admin/users', module: 'admin-users.js', auth: true },
  { path: '/admin/audit', module: 'admin-audit.js', auth: true },
  { path: '/account', module: 'account.js', auth: true },
  { path: '/account/security', module: 'account-security.js', auth: true },
  { path: '/account/webhooks', module: 'account-webhooks.js', auth: true },
  { path: '/account/oauth', module: 'account-oauth.js', auth: true },
  // organisation: groups, labels, search (issue 14)
  { path: '/groups', module: 'groups.js', auth: true },
  { path: '/groups/:id', module: 'groups.js', auth: true },
  { path: '/search', module: 'search.js', auth: true },
  { path: '/admin/groups', module: 'admin-groups.js', auth: true, permission: 'resource_group:manage' },
  { path: '/admin/labels', module: 'admin-labels.js', auth: true, permission: 'resource:create' },
];
