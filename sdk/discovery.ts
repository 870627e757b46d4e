// Leader discovery lives in core (agents use it too); the SDK re-exports it.
export { discoverMasters, masterElectionPath, StaticDiscovery, ZooKeeperDiscovery, type MasterAdvert, type MasterDiscovery } from '../core/discovery.js';
