//! Exactly one node runs the cluster's controllers and scheduler (kube-controller-manager's
//! and kube-scheduler's `--leader-elect`): each node campaigns; the winner starts them and
//! stops them the moment its leadership is lost, then campaigns again. The holder is
//! published, as Kubernetes does, in the Lease `kube-system/wasmpod-controller-manager`.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wasmpod_apiserver::{ApiServer, EventKind, EventRecorder};
use wasmpod_storage::election::Elector;

/// The election's name in the store, and the Lease that shows its holder.
pub const ELECTION: &str = "wasmpod-controller-manager";
const LEASE_NAMESPACE: &str = "kube-system";

/// Controllers started by the leader; dropping the value stops them.
pub type Running = Box<dyn Any + Send>;

/// Campaigns forever; while leading, keeps what `start` returned alive.
pub(super) async fn run(
    api: ApiServer,
    elector: Arc<dyn Elector>,
    identity: String,
    lease_duration: Duration,
    start: impl Fn(ApiServer) -> Running + Send + 'static,
) {
    let events = EventRecorder::new(api.clone(), ELECTION);
    loop {
        let mut leadership = match elector.campaign(ELECTION, &identity).await {
            Ok(leadership) => leadership,
            Err(error) => {
                eprintln!("wasmpod: leader election failed ({error}); retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        eprintln!("wasmpod: {identity} leads the cluster's controllers and scheduler");
        let running = start(api.clone());
        match publish(&api, &identity, lease_duration).await {
            Ok(lease) => {
                let message = format!("{identity} became leader");
                events
                    .record(&lease, EventKind::Normal, "LeaderElection", &message)
                    .await;
            }
            Err(error) => eprintln!(
                "wasmpod: cannot publish the leader in kube-system/{ELECTION}: {}",
                error.message
            ),
        }
        tokio::select! {
            _ = leadership.lost() => {
                eprintln!("wasmpod: {identity} lost the controller leadership");
            }
            _ = keep_published(&api, &identity, lease_duration) => {}
        }
        drop(running);
    }
}

async fn keep_published(api: &ApiServer, identity: &str, lease_duration: Duration) {
    loop {
        tokio::time::sleep((lease_duration / 4).max(Duration::from_millis(250))).await;
        let _ = publish(api, identity, lease_duration).await;
    }
}

/// Writes the holder into the election's Lease object (created on first use).
async fn publish(
    api: &ApiServer,
    identity: &str,
    lease_duration: Duration,
) -> Result<serde_json::Value, wasmpod_apiserver::ApiError> {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string();
    let seconds = lease_duration.as_secs().max(1);
    match api.get_object("leases", LEASE_NAMESPACE, ELECTION).await {
        Ok(mut lease) => {
            let holder_changed = lease["spec"]["holderIdentity"] != json!(identity);
            if holder_changed {
                lease["spec"]["acquireTime"] = json!(now);
                let transitions = lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
                lease["spec"]["leaseTransitions"] = json!(transitions + 1);
            }
            lease["spec"]["holderIdentity"] = json!(identity);
            lease["spec"]["leaseDurationSeconds"] = json!(seconds);
            lease["spec"]["renewTime"] = json!(now);
            if let Some(metadata) = lease["metadata"].as_object_mut() {
                metadata.remove("resourceVersion");
            }
            api.update_object("leases", LEASE_NAMESPACE, ELECTION, lease)
                .await
        }
        Err(error) if error.code == 404 => {
            let lease = json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": ELECTION, "namespace": LEASE_NAMESPACE},
                "spec": {
                    "holderIdentity": identity,
                    "leaseDurationSeconds": seconds,
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                },
            });
            api.create_object("leases", LEASE_NAMESPACE, lease).await
        }
        Err(error) => Err(error),
    }
}
