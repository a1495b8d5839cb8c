//! Golden tests: the §4.6 worked example of k8s-semantics.md, compared byte for byte
//! (trailing spaces included) with what kubectl 1.33 prints.

mod common;

use common::{at, health1_events, health1_pod, unrelated_events, PodShape};
use wasmpod_printers::{describe_pod, get_events, get_pods, EventStreamPrinter};

const FULL_CLUSTER_POD: PodShape = PodShape {
    priority_and_service_account: true,
    service_account_volume_and_tolerations: true,
};
const PRIORITY_NO_VOLUME: PodShape = PodShape {
    priority_and_service_account: true,
    service_account_volume_and_tolerations: false,
};
const BARE_POD: PodShape = PodShape {
    priority_and_service_account: false,
    service_account_volume_and_tolerations: false,
};

fn all_events(snapshot: i64) -> Vec<k8s_openapi::api::core::v1::Event> {
    let mut events = unrelated_events();
    events.extend(health1_events(snapshot));
    events
}

/// Shows the first differing line, so a layout regression is readable.
fn assert_text_eq(actual: &str, expected: &str) {
    if actual == expected {
        return;
    }
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(
            a,
            e,
            "first difference at line {}\n--- actual ---\n{actual}",
            i + 1
        );
    }
    assert_eq!(actual, expected, "line count or final newline differs");
}

/// §4.6.2 with the kubectl/kubelet 1.33–1.34 Events section of §4.6.3.
const DESCRIBE_T215_FULL_CLUSTER: &str = "\
Name:             health1
Namespace:        default
Priority:         0
Service Account:  default
Node:             worker-1/172.18.0.3
Start Time:       Mon, 06 Jul 2026 10:00:00 +0000
Labels:           <none>
Annotations:      <none>
Status:           Running
IP:               10.244.1.5
IPs:
  IP:  10.244.1.5
Containers:
  health1:
    Container ID:   containerd://7c1c97df17c066924822b0af09a65251554962c61e23329aed04cd19020dc3b8
    Image:          health_image:latest
    Image ID:       docker.io/library/health_image@sha256:b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72
    Port:           8080/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Mon, 06 Jul 2026 10:03:30 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Mon, 06 Jul 2026 10:02:10 +0000
      Finished:     Mon, 06 Jul 2026 10:03:10 +0000
    Ready:          True
    Restart Count:  3
    Liveness:       http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:    <none>
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-7xk2p (ro)
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:
  kube-api-access-7xk2p:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
    ConfigMapName:           kube-root-ca.crt
    Optional:                false
    DownwardAPI:             true
QoS Class:                   BestEffort
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type     Reason     Age                  From               Message
  ----     ------     ----                 ----               -------
  Normal   Scheduled  3m35s                default-scheduler  Successfully assigned default/health1 to worker-1
  Warning  Unhealthy  55s (x9 over 3m25s)  kubelet            Liveness probe failed: HTTP probe failed with statuscode: 500
  Normal   Killing    55s (x3 over 3m5s)   kubelet            Container health1 failed liveness probe, will be restarted
  Warning  BackOff    24s (x2 over 94s)    kubelet            Back-off restarting failed container health1 in pod health1_default(3f6d2a8e-5b1c-4d7e-9a40-1c2b3d4e5f60)
  Normal   Pulled     5s (x4 over 3m34s)   kubelet            Container image \"health_image:latest\" already present on machine
  Normal   Created    5s (x4 over 3m34s)   kubelet            Created container: health1
  Normal   Started    5s (x4 over 3m34s)   kubelet            Started container health1
";

/// Same snapshot for a wasmpod pod: no service-account volume, no mounts, no tolerations.
/// `Volumes:\t<none>` has a tab, so it and the lines after it join the Conditions block
/// (width of `  PodReadyToStartContainers ` + 2 = 30).
const DESCRIBE_T215_NO_VOLUME: &str = "\
Name:             health1
Namespace:        default
Priority:         0
Service Account:  default
Node:             worker-1/172.18.0.3
Start Time:       Mon, 06 Jul 2026 10:00:00 +0000
Labels:           <none>
Annotations:      <none>
Status:           Running
IP:               10.244.1.5
IPs:
  IP:  10.244.1.5
Containers:
  health1:
    Container ID:   containerd://7c1c97df17c066924822b0af09a65251554962c61e23329aed04cd19020dc3b8
    Image:          health_image:latest
    Image ID:       docker.io/library/health_image@sha256:b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72
    Port:           8080/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Mon, 06 Jul 2026 10:03:30 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Mon, 06 Jul 2026 10:02:10 +0000
      Finished:     Mon, 06 Jul 2026 10:03:10 +0000
    Ready:          True
    Restart Count:  3
    Liveness:       http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type     Reason     Age                  From               Message
  ----     ------     ----                 ----               -------
  Normal   Scheduled  3m35s                default-scheduler  Successfully assigned default/health1 to worker-1
  Warning  Unhealthy  55s (x9 over 3m25s)  kubelet            Liveness probe failed: HTTP probe failed with statuscode: 500
  Normal   Killing    55s (x3 over 3m5s)   kubelet            Container health1 failed liveness probe, will be restarted
  Warning  BackOff    24s (x2 over 94s)    kubelet            Back-off restarting failed container health1 in pod health1_default(3f6d2a8e-5b1c-4d7e-9a40-1c2b3d4e5f60)
  Normal   Pulled     5s (x4 over 3m34s)   kubelet            Container image \"health_image:latest\" already present on machine
  Normal   Created    5s (x4 over 3m34s)   kubelet            Created container: health1
  Normal   Started    5s (x4 over 3m34s)   kubelet            Started container health1
";

/// t = 195 s (back-off window), pod without priority / service account: the top block
/// narrows to `Annotations:` + 2, the container waits in CrashLoopBackOff.
const DESCRIBE_T195_BARE: &str = "\
Name:         health1
Namespace:    default
Node:         worker-1/172.18.0.3
Start Time:   Mon, 06 Jul 2026 10:00:00 +0000
Labels:       <none>
Annotations:  <none>
Status:       Running
IP:           10.244.1.5
IPs:
  IP:  10.244.1.5
Containers:
  health1:
    Container ID:   containerd://5b0e4f3c2a1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f
    Image:          health_image:latest
    Image ID:       docker.io/library/health_image@sha256:b29814cf5792e684cd75d6a7fce7a67a11887e312f87ca2ac2496d81f365ff72
    Port:           8080/TCP
    Host Port:      0/TCP
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Mon, 06 Jul 2026 10:02:10 +0000
      Finished:     Mon, 06 Jul 2026 10:03:10 +0000
    Ready:          False
    Restart Count:  2
    Liveness:       http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:    <none>
    Mounts:         <none>
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       False 
  ContainersReady             False 
  PodScheduled                True 
Volumes:                      <none>
QoS Class:                    BestEffort
Node-Selectors:               <none>
Tolerations:                  <none>
Events:
  Type     Reason     Age                  From               Message
  ----     ------     ----                 ----               -------
  Normal   Scheduled  3m15s                default-scheduler  Successfully assigned default/health1 to worker-1
  Normal   Pulled     65s (x3 over 3m14s)  kubelet            Container image \"health_image:latest\" already present on machine
  Normal   Created    65s (x3 over 3m14s)  kubelet            Created container: health1
  Normal   Started    65s (x3 over 3m14s)  kubelet            Started container health1
  Warning  Unhealthy  35s (x9 over 3m5s)   kubelet            Liveness probe failed: HTTP probe failed with statuscode: 500
  Normal   Killing    35s (x3 over 2m45s)  kubelet            Container health1 failed liveness probe, will be restarted
  Warning  BackOff    4s (x2 over 74s)     kubelet            Back-off restarting failed container health1 in pod health1_default(3f6d2a8e-5b1c-4d7e-9a40-1c2b3d4e5f60)
";

#[test]
fn describe_at_215s_full_cluster_pod_matches_spec_v133() {
    let pod = health1_pod(215, FULL_CLUSTER_POD);
    assert_text_eq(
        &describe_pod(&pod, &all_events(215), at(215)),
        DESCRIBE_T215_FULL_CLUSTER,
    );
}

#[test]
fn describe_at_215s_without_service_account_volume() {
    let pod = health1_pod(215, PRIORITY_NO_VOLUME);
    assert_text_eq(
        &describe_pod(&pod, &all_events(215), at(215)),
        DESCRIBE_T215_NO_VOLUME,
    );
}

#[test]
fn describe_at_195s_crash_loop_back_off() {
    let pod = health1_pod(195, BARE_POD);
    assert_text_eq(
        &describe_pod(&pod, &all_events(195), at(195)),
        DESCRIBE_T195_BARE,
    );
}

#[test]
fn describe_event_order_does_not_depend_on_input_order() {
    let pod = health1_pod(215, PRIORITY_NO_VOLUME);
    let mut events = all_events(215);
    events.reverse();
    // Reversing swaps equal-time events (same second), exactly as kubectl's stable sort would.
    let out = describe_pod(&pod, &events, at(215));
    let events_section = &out[out.find("Events:\n").expect("events section")..];
    let reasons: Vec<&str> = events_section
        .lines()
        .skip(3)
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        reasons,
        [
            "Scheduled",
            "Killing",
            "Unhealthy",
            "BackOff",
            "Started",
            "Created",
            "Pulled"
        ]
    );
}

#[test]
fn get_pods_at_215s() {
    let pods = [health1_pod(215, FULL_CLUSTER_POD)];
    assert_text_eq(
        &get_pods(&pods, at(215), false),
        "NAME      READY   STATUS    RESTARTS      AGE\n\
         health1   1/1     Running   3 (25s ago)   3m35s\n",
    );
    assert_text_eq(
        &get_pods(&pods, at(215), true),
        "NAME      READY   STATUS    RESTARTS      AGE     IP           NODE       NOMINATED NODE   READINESS GATES\n\
         health1   1/1     Running   3 (25s ago)   3m35s   10.244.1.5   worker-1   <none>           <none>\n",
    );
}

#[test]
fn get_pods_at_195s_crash_loop_back_off() {
    let pods = [health1_pod(195, BARE_POD)];
    assert_text_eq(
        &get_pods(&pods, at(195), false),
        "NAME      READY   STATUS             RESTARTS     AGE\n\
         health1   0/1     CrashLoopBackOff   2 (5s ago)   3m15s\n",
    );
}

#[test]
fn get_pods_without_pods_prints_nothing() {
    assert_eq!(get_pods(&[], at(0), false), "");
}

const GET_EVENTS_T215: &str = "\
LAST SEEN   TYPE      REASON      OBJECT        MESSAGE
3m35s       Normal    Scheduled   pod/health1   Successfully assigned default/health1 to worker-1
55s         Warning   Unhealthy   pod/health1   Liveness probe failed: HTTP probe failed with statuscode: 500
55s         Normal    Killing     pod/health1   Container health1 failed liveness probe, will be restarted
24s         Warning   BackOff     pod/health1   Back-off restarting failed container health1 in pod health1_default(3f6d2a8e-5b1c-4d7e-9a40-1c2b3d4e5f60)
5s          Normal    Pulled      pod/health1   Container image \"health_image:latest\" already present on machine
5s          Normal    Created     pod/health1   Created container: health1
5s          Normal    Started     pod/health1   Started container health1
";

#[test]
fn get_events_at_215s() {
    assert_text_eq(&get_events(&health1_events(215), at(215)), GET_EVENTS_T215);
}

#[test]
fn event_stream_lines_keep_growing_widths() {
    let mut printer = EventStreamPrinter::new();
    let events = health1_events(215);
    let mut out = String::new();
    // Stream the events in the order they were first emitted, each printed at its own time.
    let scheduled = &events[0];
    let pulled = &events[1];
    let unhealthy = &events[4];
    out.push_str(&printer.line(scheduled, at(0)));
    out.push_str(&printer.line(pulled, at(210)));
    out.push_str(&printer.line(unhealthy, at(160)));
    assert_text_eq(
        &out,
        "LAST SEEN   TYPE     REASON      OBJECT        MESSAGE\n\
         0s          Normal   Scheduled   pod/health1   Successfully assigned default/health1 to worker-1\n\
         0s          Normal   Pulled      pod/health1   Container image \"health_image:latest\" already present on machine\n\
         0s          Warning   Unhealthy   pod/health1   Liveness probe failed: HTTP probe failed with statuscode: 500\n",
    );
}
