//! End-to-end tests against real etcd members started by `LocalEtcdCluster` (feature `etcd`):
//! member failures, election failover, lease expiry, snapshot lists. Measured figures are
//! printed (run with `--nocapture` to see them).

mod election;
mod failover;
mod single_member;
mod support;
