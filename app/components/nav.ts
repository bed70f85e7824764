/** Navigation entries; an entry shows only if its page exists and the user holds its permission. */
export interface NavItem {
  to: string
  label: string
  file: string
  permission?: string
  group: 'Operations' | 'Data & ML' | 'Admin' | 'Developers'
}

export const NAV: NavItem[] = [
  { to: '/dashboard', label: 'Dashboard', file: '_app.dashboard.tsx', permission: 'analytics.read', group: 'Operations' },
  { to: '/approvals', label: 'Approval queue', file: '_app.approvals.tsx', permission: 'approvals.read', group: 'Operations' },
  { to: '/agent', label: 'Agent performance', file: '_app.agent.tsx', permission: 'analytics.read', group: 'Operations' },
  { to: '/templates', label: 'Templates', file: '_app.templates.tsx', permission: 'templates.read', group: 'Data & ML' },
  { to: '/datasets', label: 'Datasets', file: '_app.datasets.tsx', permission: 'datasets.read', group: 'Data & ML' },
  { to: '/datalake', label: 'Datalake', file: '_app.datalake.tsx', permission: 'datalake.read', group: 'Data & ML' },
  { to: '/models', label: 'Models', file: '_app.models.tsx', permission: 'models.read', group: 'Data & ML' },
  { to: '/analytics', label: 'Analytics', file: '_app.analytics.tsx', permission: 'analytics.read', group: 'Data & ML' },
  { to: '/segments', label: 'Segments', file: '_app.segments.tsx', permission: 'analytics.read', group: 'Data & ML' },
  { to: '/streams', label: 'Streams', file: '_app.streams.tsx', permission: 'analytics.read', group: 'Data & ML' },
  { to: '/forecasts', label: 'Forecasts', file: '_app.forecasts.tsx', permission: 'models.read', group: 'Data & ML' },
  { to: '/predictions', label: 'Predictions', file: '_app.predictions.tsx', permission: 'models.read', group: 'Data & ML' },
  { to: '/marketplace', label: 'Marketplace', file: '_app.marketplace.tsx', permission: 'assets.read', group: 'Data & ML' },
  { to: '/admin/users', label: 'Users', file: '_app.admin.users.tsx', permission: 'users.read', group: 'Admin' },
  { to: '/admin/roles', label: 'Roles & permissions', file: '_app.admin.roles.tsx', permission: 'rbac.read', group: 'Admin' },
  { to: '/admin/api-clients', label: 'API clients & keys', file: '_app.admin.api-clients.tsx', permission: 'api_clients.manage', group: 'Admin' },
  { to: '/api-reference', label: 'API reference', file: '_app.api-reference.tsx', group: 'Developers' },
]

const pages = new Set(Object.keys(import.meta.glob('../routes/_app.*.tsx')).map((p) => p.split('/').pop()!))

export function navFor(permissions: string[]) {
  const held = new Set(permissions)
  return NAV.filter((n) => pages.has(n.file) && (!n.permission || held.has(n.permission)))
}
