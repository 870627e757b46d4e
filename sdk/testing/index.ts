// agora/sdk/testing: what a framework author tests a framework with.
//
//   unit tests         FakeDriver + offer() / status() / taskSpec() + FakeClock: handlers, no master
//   integration tests  startTestCluster(): a real master and agents in-process, secured, tasks on
//                      the fake executor (cluster.finish(taskId) / cluster.fail(taskId))
export { offer, offers, status, taskSpec, type OfferFixture, type ResourcesFixture, type StatusFixture, type TaskSpecFixture } from './builders.js';
export { FakeDriver, type FakeCall, type FakeCallName, type FakeDriverOptions } from './fake-driver.js';
export { FakeClock, flushMicrotasks } from '../../core/clock.js';
export { startTestCluster, TestCluster, type TestAgentSpec, type TestClusterAgent, type TestClusterOptions } from './cluster.js';
export { TestExecutor } from './test-executor.js';
export { TEST_FRAMEWORK_PRINCIPAL, type TestClusterSecurity } from './security.js';
export { FAST_DRIVER, TEST_AGENT_FLAGS, TEST_AGENT_RESOURCES, TEST_MASTER_FLAGS } from './defaults.js';
export { eventually, type EventuallyOptions } from './eventually.js';
