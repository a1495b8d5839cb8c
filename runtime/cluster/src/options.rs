//! Options of each controller, with kube-scheduler / kube-controller-manager defaults.

use std::time::Duration;

/// `default-scheduler` options.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The `spec.schedulerName` served (pods with an empty name are served too);
    /// default `default-scheduler`, which is also the event source.
    pub scheduler_name: String,
    /// Back-off after the first failed attempt (`podInitialBackoffSeconds`, 1 s); doubles
    /// per attempt.
    pub pod_initial_backoff: Duration,
    /// Back-off ceiling (`podMaxBackoffSeconds`, 10 s).
    pub pod_max_backoff: Duration,
    /// An unschedulable pod is retried after this long even without any cluster change
    /// (`podMaxInUnschedulablePodsDuration`, 5 min).
    pub max_unschedulable_duration: Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            scheduler_name: crate::SCHEDULER_NAME.to_string(),
            pod_initial_backoff: Duration::from_secs(1),
            pod_max_backoff: Duration::from_secs(10),
            max_unschedulable_duration: Duration::from_secs(300),
        }
    }
}

/// Node lifecycle controller (`node-controller`) options.
#[derive(Debug, Clone)]
pub struct NodeLifecycleOptions {
    /// How often node health is checked (`--node-monitor-period`, 5 s).
    pub node_monitor_period: Duration,
    /// A node whose Ready heartbeat and Lease have not moved for this long is marked
    /// Unknown (`--node-monitor-grace-period`, 50 s since v1.32).
    pub node_monitor_grace_period: Duration,
    /// The same for a node that never posted a Ready condition
    /// (`--node-startup-grace-period`, 60 s).
    pub node_startup_grace_period: Duration,
    /// NoExecute taints added per second in a healthy zone (`--node-eviction-rate`, 0.1).
    pub node_eviction_rate: f64,
    /// The rate in a partially disrupted large zone (`--secondary-node-eviction-rate`, 0.01).
    pub secondary_node_eviction_rate: f64,
    /// Zones with more nodes than this are "large" (`--large-cluster-size-threshold`, 50).
    pub large_cluster_size_threshold: usize,
    /// Fraction of not-Ready nodes (with more than 2 of them) that makes a zone partially
    /// disrupted (`--unhealthy-zone-threshold`, 0.55).
    pub unhealthy_zone_threshold: f64,
    /// How often the NoExecute taint queue is drained (`NodeEvictionPeriod`, 100 ms).
    pub node_eviction_period: Duration,
}

impl Default for NodeLifecycleOptions {
    fn default() -> Self {
        NodeLifecycleOptions {
            node_monitor_period: Duration::from_secs(5),
            node_monitor_grace_period: Duration::from_secs(50),
            node_startup_grace_period: Duration::from_secs(60),
            node_eviction_rate: 0.1,
            secondary_node_eviction_rate: 0.01,
            large_cluster_size_threshold: 50,
            unhealthy_zone_threshold: 0.55,
            node_eviction_period: Duration::from_millis(100),
        }
    }
}

/// Pod garbage collector (`pod-garbage-collector`) options.
#[derive(Debug, Clone)]
pub struct PodGcOptions {
    /// How often pods are examined (`gcCheckPeriod`, 20 s).
    pub gc_check_period: Duration,
    /// How long a node must stay missing before its pods are deleted (`quarantineTime`, 40 s).
    pub quarantine_time: Duration,
    /// Terminated pods kept before the oldest are deleted
    /// (`--terminated-pod-gc-threshold`, 12500; 0 disables).
    pub terminated_pod_gc_threshold: usize,
}

impl Default for PodGcOptions {
    fn default() -> Self {
        PodGcOptions {
            gc_check_period: Duration::from_secs(20),
            quarantine_time: Duration::from_secs(40),
            terminated_pod_gc_threshold: 12500,
        }
    }
}

/// Options of every controller [`crate::start`] runs.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    pub scheduler: SchedulerOptions,
    pub node_lifecycle: NodeLifecycleOptions,
    pub pod_gc: PodGcOptions,
}
