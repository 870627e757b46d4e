// The services framework: long-running, self-healing services with rolling updates, canaries,
// rollbacks and discovery (what Marathon or a Kubernetes Deployment does), on the public SDK.
//
//   const services = await startServices({ master: 'zk://…/agora', state });   // after winning the election
//   await services.apply({ name: 'web', instances: 3, command: '…', resources: { cpus: 0.1, mem: 64 } });
//   …
//   await services.stop();                                                      // on losing it, or shutdown
//
// See README.md in this folder for the design.
import { ServicesFramework } from './framework.js';
import type { ServicesHandle, ServicesOptions } from './options.js';

export { SERVICES_FRAMEWORK_NAME, type ServicesHandle, type ServicesOptions } from './options.js';

/**
 * Start the services framework: load its state, subscribe (as the framework id it had, if any),
 * reconcile the tasks it knows, and keep every service at its desired state until `stop()`.
 */
export async function startServices(options: ServicesOptions): Promise<ServicesHandle> {
  return ServicesFramework.start(options);
}

export { parseServiceSpec, type ServiceSpecDoc } from './spec.js';
