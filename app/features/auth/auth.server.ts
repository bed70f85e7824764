/**
 * The identity area's public surface (auth, users, RBAC: one area, one set of tables): the HTTP layer, routes,
 * pages, the boot, the demo seed, scripts and other areas import from here, never from a room. README.md is the
 * map of the rooms behind it; schemas.ts holds the inputs.
 */
export { authenticateRequest, type Caller } from './caller.server.ts'
export { getSessionCaller, requireCaller, startBrowserSession, endBrowserSession } from './session.server.ts'
export { csrfToken, verifyCsrf } from './csrf.server.ts'
export { callerCache, callerChanged } from './caller-cache.server.ts'
export { login, refreshTokens, logout, issueApiKey } from './login.server.ts'
export { builtinProvider, getAuthProvider, initAuthProvider, type AuthProvider, type TokenSet } from './provider.server.ts'
export { signAccessToken, signingKey } from './tokens.server.ts'
export { issueFirstKey, listApiClients, registerApiClient, revokeApiClient, revokeApiKey } from './api-keys.server.ts'
export { createUser, getUser, listUsers, resetPassword, setUserActive } from './users/users.server.ts'
export { createTenant, provisionUser, type NewUser, type ProfileRow } from './users/provision.server.ts'
export { assignRole, createPermission, createRole, grantPermission, listPermissions, listRoles, revokePermission, unassignRole } from './rbac/rbac.server.ts'
