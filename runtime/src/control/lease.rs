//! `coordination.k8s.io/v1` Leases as the kubelet's node lease and the leader-election
//! record use them: get-or-create, then renew as the holder.

use std::time::Duration;

use serde_json::{json, Value};
use wasmpod_apiserver::{ApiError, ApiServer};

/// Renews lease `namespace/name` for `holder` (creating it on first use); a change of holder
/// sets `acquireTime` and counts a transition. Returns the lease as stored.
pub(super) async fn renew(
    api: &ApiServer,
    namespace: &str,
    name: &str,
    holder: &str,
    duration: Duration,
) -> Result<Value, ApiError> {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string();
    let seconds = duration.as_secs().max(1);
    match api.get_object("leases", namespace, name).await {
        Ok(mut lease) => {
            if lease["spec"]["holderIdentity"] != json!(holder) {
                lease["spec"]["acquireTime"] = json!(now);
                let transitions = lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0);
                lease["spec"]["leaseTransitions"] = json!(transitions + 1);
            }
            lease["spec"]["holderIdentity"] = json!(holder);
            lease["spec"]["leaseDurationSeconds"] = json!(seconds);
            lease["spec"]["renewTime"] = json!(now);
            api.update_object("leases", namespace, name, lease).await
        }
        Err(error) if error.code == 404 => {
            let lease = json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "holderIdentity": holder,
                    "leaseDurationSeconds": seconds,
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                },
            });
            api.create_object("leases", namespace, lease).await
        }
        Err(error) => Err(error),
    }
}
