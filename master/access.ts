// The Access service: agents and the built-in frameworks ask who a credential presented to them
// belongs to (proto/agora/v1/access.proto). The caller itself must hold `acl.review`; the answer
// carries the principal's grants, which the caller uses to authorise locally, for `cacheMs`.
import { AgoraError } from '../core/errors.js';
import type { Authenticator } from '../core/security/authenticate.js';
import { authenticatedUnary } from '../core/security/edge.js';
import { requirePermission } from '../core/security/principal.js';
import type { AccessHandlers, AuthenticateRequest__Output, AuthenticateResponse } from '../proto/index.js';

export function accessHandlers(auth: Authenticator, cacheMs: number): AccessHandlers {
  return {
    Authenticate: authenticatedUnary<AuthenticateRequest__Output, AuthenticateResponse>(auth, async (request, caller) => {
      requirePermission(caller, 'acl.review');
      const credentials = request.credential === 'token' ? { token: request.token ?? '' } : request.credential === 'certificate' ? { certificate: request.certificate ?? Buffer.alloc(0) } : {};
      try {
        const principal = await auth.authenticate(credentials);
        return {
          authenticated: true,
          principal: principal.name,
          via: principal.via,
          grants: principal.grants.map((g) => ({ action: g.action, objects: [...(g.objects ?? [])] })),
          reason: '',
          cacheSeconds: cacheMs / 1000,
        };
      } catch (err) {
        if (err instanceof AgoraError && err.code === 'AGORA_UNAUTHENTICATED') return { authenticated: false, principal: '', via: '', grants: [], reason: err.message, cacheSeconds: 0 };
        throw err;
      }
    }),
  } as AccessHandlers;
}
