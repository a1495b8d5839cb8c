use std::time::Duration;

use crate::RetentionPolicy;

/// How `EtcdStorage` talks to the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdOptions {
    /// Prepended to every key; `""` (the default) stores keys exactly as given, e.g.
    /// `/registry/pods/<ns>/<name>` like kube-apiserver. Tests use a unique prefix per case.
    pub key_prefix: String,
    /// How long `connect` waits for some endpoint to answer.
    pub dial_timeout: Duration,
    /// Timeout of one attempt of one request; a timed-out attempt is retried.
    pub request_timeout: Duration,
    /// Total time a call keeps retrying after failures such as a member dying or a leader
    /// election, before it fails with `StorageError::Backend`. Also bounds how long a broken
    /// watch tries to resume.
    pub retry_deadline: Duration,
    /// History kept before wasmpod compacts etcd itself. `keep_everything()` (the default)
    /// leaves compaction to etcd's own `--auto-compaction-*` flags or to explicit `compact`.
    pub retention: RetentionPolicy,
    /// Events buffered per watch between the etcd stream and the consumer; a slow consumer
    /// slows its own etcd stream down, it is never dropped (etcd itself catches it up).
    pub watch_buffer: usize,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            key_prefix: String::new(),
            dial_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(3),
            retry_deadline: Duration::from_secs(20),
            retention: RetentionPolicy::keep_everything(),
            watch_buffer: 1024,
        }
    }
}
