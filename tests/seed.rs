//! The tutorial's two pods, end to end through the real binary: `wasmpod run` streams the
//! kubelet's events, `get`/`describe`/`logs` read the running node over its local API.
//! Probe periods are shortened to one second; everything else is the seed's manifests.

mod common;

use std::time::Duration;

use common::{container_status, http_get, restart_count, wait_until, Home};

const HEALTH1_FAST: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: health1
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - image: huqianakls/health_image:latest
    name: health1
    imagePullPolicy: IfNotPresent
    ports:
    - containerPort: 8080
      protocol: TCP
    livenessProbe:
      httpGet:
        path: /
        port: 8080
      periodSeconds: 1
"#;

#[test]
fn health1_is_probed_fails_and_restarts_like_the_tutorial() {
    let home = Home::new();
    // The tutorial's manifest names the image by its Docker Hub name: one tag makes it work.
    let (code, _, err) = home.exec(&[
        "image",
        "tag",
        "health_image:latest",
        "huqianakls/health_image:latest",
    ]);
    assert_eq!(code, 0, "{err}");
    let manifest = home.write("health1.yaml", HEALTH1_FAST);
    let run = home.run(&[manifest.to_str().unwrap()]);

    let pod = wait_until(Duration::from_secs(60), "health1 to restart", || {
        home.pod("health1").filter(|pod| restart_count(pod) >= 1)
    });
    let status = container_status(&pod);
    assert_eq!(status["lastState"]["terminated"]["reason"], "Error");
    // No `shutdown` export: like a PID 1 without a SIGTERM handler, killed after the grace period.
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 137);
    let last = &status["lastState"]["terminated"];
    let lived = |field: &str| {
        last[field]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    let grace = lived("finishedAt").duration_since(lived("startedAt"));
    assert!(grace >= jiff::SignedDuration::from_secs(2), "{last}");
    assert_eq!(status["image"], "docker.io/huqianakls/health_image:latest");
    assert!(status["imageID"]
        .as_str()
        .unwrap()
        .starts_with("docker.io/huqianakls/health_image@sha256:"));
    let pod_ip = pod["status"]["podIP"].as_str().unwrap().to_string();
    assert!(
        pod_ip.starts_with("127.") && pod_ip != "127.0.0.1",
        "{pod_ip}"
    );

    run.wait_for_output(
        "Container health1 failed liveness probe, will be restarted",
        Duration::from_secs(10),
    );
    let events = run.stdout();
    let first_line = events.lines().next().unwrap();
    assert!(first_line.starts_with("LAST SEEN   TYPE"), "{first_line}");
    assert_eq!(
        first_line.split_whitespace().collect::<Vec<_>>(),
        ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    for expected in [
        "Scheduled   pod/health1   Successfully assigned default/health1 to ",
        "Pulled      pod/health1   Container image \"huqianakls/health_image:latest\" already present on machine",
        "Created     pod/health1   Created container: health1",
        "Started     pod/health1   Started container health1",
        "Unhealthy   pod/health1   Liveness probe failed: HTTP probe failed with statuscode: 500",
        "Killing     pod/health1   Container health1 failed liveness probe, will be restarted",
    ] {
        assert!(events.contains(expected), "missing {expected:?} in:\n{events}");
    }
    // Three failures trip the probe (failureThreshold 3) before the kill.
    let before_kill = &events[..events.find("Killing").unwrap()];
    assert_eq!(
        before_kill.matches("statuscode: 500").count(),
        3,
        "{events}"
    );

    let (code, describe, err) = home.exec(&["describe", "pod", "health1"]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "Name:             health1\n",
        "Namespace:        default\n",
        "Status:           Running\n",
        "    Image:          huqianakls/health_image:latest\n",
        "    Port:           8080/TCP\n",
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    137\n",
        "    Liveness:       http-get http://:8080/ delay=0s timeout=1s period=1s #success=1 #failure=3\n",
        "  Type     Reason     Age",
        "Liveness probe failed: HTTP probe failed with statuscode: 500\n",
        "Container health1 failed liveness probe, will be restarted\n",
    ] {
        assert!(describe.contains(expected), "missing {expected:?} in:\n{describe}");
    }
    assert!(
        describe.contains("    Restart Count:  1\n")
            || describe.contains("    Restart Count:  2\n"),
        "{describe}"
    );

    let (code, previous, err) = home.exec(&["logs", "health1", "--previous"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = previous.lines().collect();
    assert_eq!(lines[0], "server starting...");
    // The prober connects from the node's address; the guest sees the real peer.
    assert!(
        lines[1..]
            .iter()
            .all(|l| *l == "Received request from 127.0.0.1"),
        "{previous}"
    );
    assert_eq!(lines.len(), 1 + 6, "3 successes + 3 failures:\n{previous}");

    let (code, table, err) = home.exec(&["get", "pods"]);
    assert_eq!(code, 0, "{err}");
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("health1   "),
        "{table}"
    );
    assert!(
        table.contains(" ago)"),
        "RESTARTS shows the last restart's age:\n{table}"
    );

    let (code, stdout, _) = run.terminate();
    assert_eq!(code, 0);
    let tail = stdout.rsplit("\n\n").next().unwrap();
    assert!(
        tail.starts_with("NAME      READY   STATUS"),
        "final table:\n{stdout}"
    );
    assert!(
        !home.path().join("run/api-server").exists(),
        "the discovery file is removed"
    );
}

const HEALTH2_FAST: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: health2
spec:
  containers:
  - image: httpd
    name: health2
    ports:
    - containerPort: 80
    livenessProbe:
      tcpSocket:
        port: 8080
      initialDelaySeconds: 1
      periodSeconds: 1
"#;

#[test]
fn health2_probe_is_refused_and_httpd_exits_cleanly() {
    let home = Home::new();
    let manifest = home.write("health2.yaml", HEALTH2_FAST);
    let run = home.run(&[manifest.to_str().unwrap()]);

    // httpd itself serves port 80 on the pod IP while it runs.
    let pod = wait_until(Duration::from_secs(30), "health2 to run", || {
        home.pod("health2")
            .filter(|pod| container_status(pod)["state"]["running"].is_object())
    });
    let pod_ip = pod["status"]["podIP"].as_str().unwrap().to_string();
    let (status, body) = wait_until(Duration::from_secs(10), "httpd to answer", || {
        http_get(&format!("{pod_ip}:80"), "/").ok()
    });
    assert_eq!(
        (status, body.as_str()),
        (200, "<html><body><h1>It works!</h1></body></html>\n")
    );

    let pod = wait_until(Duration::from_secs(60), "health2 to restart", || {
        home.pod("health2").filter(|pod| restart_count(pod) >= 1)
    });
    let last = &container_status(&pod)["lastState"]["terminated"];
    assert_eq!(last["reason"], "Completed");
    assert_eq!(last["exitCode"], 0);

    let refused =
        format!("Liveness probe failed: dial tcp {pod_ip}:8080: connect: connection refused");
    run.wait_for_output(&refused, Duration::from_secs(10));
    let (_, describe, _) = home.exec(&["describe", "pod", "health2"]);
    assert!(describe.contains("    Last State:     Terminated\n      Reason:       Completed\n      Exit Code:    0\n"), "{describe}");
    assert!(describe.contains("    Liveness:       tcp-socket :8080 delay=1s timeout=1s period=1s #success=1 #failure=3\n"), "{describe}");
    assert!(describe.contains(&refused), "{describe}");

    let (_, previous, _) = home.exec(&["logs", "health2", "-p"]);
    assert!(
        previous.contains("caught SIGTERM, shutting down"),
        "{previous}"
    );

    // `wasmpod delete pod` takes the same path as the end of `run`: Killing, stop, gone.
    wait_until(Duration::from_secs(30), "health2 running again", || {
        home.pod("health2")
            .filter(|pod| container_status(pod)["state"]["running"].is_object())
    });
    let (code, out, err) = home.exec(&["delete", "pod", "health2"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "pod \"health2\" deleted\n"),
        "{err}"
    );
    assert!(home.pod("health2").is_none());
    let (code, _, err) = home.exec(&["get", "pods", "health2"]);
    assert_eq!(code, 1);
    assert!(err.contains(r#"pods "health2" not found"#), "{err}");
    run.wait_for_output(
        "Killing     pod/health2   Stopping container health2",
        Duration::from_secs(5),
    );

    let (code, _, _) = run.terminate();
    assert_eq!(code, 0);
    // After deletion nothing listens on the pod's port any more.
    assert!(http_get(&format!("{pod_ip}:80"), "/").is_err());
}
