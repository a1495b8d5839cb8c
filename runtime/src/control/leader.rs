//! Exactly one node runs the cluster's controllers and scheduler (kube-controller-manager's
//! and kube-scheduler's `--leader-elect`): each node campaigns; the winner starts them and
//! stops them the moment its leadership is lost, then campaigns again. The holder is
//! published, as Kubernetes does, in the Lease `kube-system/wasmpod-controller-manager`.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

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
    announce: bool,
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
        if announce {
            eprintln!("wasmpod: {identity} leads the cluster's controllers and scheduler");
        }
        let running = start(api.clone());
        match super::lease::renew(&api, LEASE_NAMESPACE, ELECTION, &identity, lease_duration).await
        {
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
        let _ = super::lease::renew(api, LEASE_NAMESPACE, ELECTION, identity, lease_duration).await;
    }
}
