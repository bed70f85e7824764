import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'Check that the bearer token is valid and not expired',
    tags: ['Auth'],
    handler: ({ caller }) => ({
      valid: true,
      user_id: caller.userId,
      tenant_id: caller.tenantId,
      email: caller.email ?? null,
      roles: caller.roles,
      kind: caller.kind,
      expires_at: typeof caller.claims.exp === 'number' ? new Date(caller.claims.exp * 1000).toISOString() : null,
    }),
  },
})

export const loader = route.loader
export const action = route.action
