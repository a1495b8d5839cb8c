//! Election failover on a 3-member cluster: by resignation (Leadership dropped) and by lease
//! expiry (the leader's node is cut off).

use std::time::{Duration, Instant};

use wasmpod_storage::election::{Elector, EtcdElector};

use crate::support::{cluster, options};

const LEASE_TTL: Duration = Duration::from_secs(2);
const ELECTION: &str = "controllers";

async fn elector(endpoints: &[String]) -> EtcdElector {
    EtcdElector::connect(endpoints, options(), LEASE_TTL)
        .await
        .expect("elector")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn leadership_fails_over_on_lease_expiry_and_on_resignation() {
    let mut cluster = cluster(3).await;
    let endpoints = cluster.endpoints();
    // node-a talks to one follower only, so killing that member cuts node-a off (like its
    // node dying) without a raft election, which would refresh every lease.
    let raft_leader = cluster.leader_index().await.unwrap().expect("raft leader");
    let isolated = (raft_leader + 1) % endpoints.len();
    let others: Vec<String> = (0..endpoints.len())
        .filter(|&i| i != isolated)
        .map(|i| endpoints[i].clone())
        .collect();
    let node_a = elector(&endpoints[isolated..=isolated]).await;
    let node_b = elector(&others).await;
    let observer = elector(&others).await;

    assert_eq!(observer.leader(ELECTION).await.unwrap(), None);
    let mut leadership_a =
        tokio::time::timeout(Duration::from_secs(10), node_a.campaign(ELECTION, "node-a"))
            .await
            .expect("first candidate wins at once")
            .unwrap();
    assert_eq!(
        observer.leader(ELECTION).await.unwrap().as_deref(),
        Some("node-a")
    );
    let campaign_b = tokio::spawn(async move {
        let leadership = node_b.campaign(ELECTION, "node-b").await;
        (leadership, Instant::now())
    });
    // node-b must keep waiting while node-a's lease is kept alive (several TTLs' worth of
    // keep-alives would have lapsed otherwise).
    tokio::time::sleep(LEASE_TTL + Duration::from_secs(1)).await;
    assert!(!campaign_b.is_finished(), "node-b won while node-a leads");
    assert!(!leadership_a.is_lost());

    let cut_off_at = Instant::now();
    cluster.kill_member(isolated).unwrap();
    tokio::time::timeout(LEASE_TTL + Duration::from_millis(500), leadership_a.lost())
        .await
        .expect("node-a notices the loss within its TTL");
    let noticed = cut_off_at.elapsed();
    let (leadership_b, won_at) =
        tokio::time::timeout(LEASE_TTL + Duration::from_secs(1), campaign_b)
            .await
            .expect("node-b wins within TTL + 1 s")
            .unwrap();
    let leadership_b = leadership_b.unwrap();
    let expiry_failover = won_at - cut_off_at;
    assert!(expiry_failover <= LEASE_TTL + Duration::from_secs(1));
    assert_eq!(
        observer.leader(ELECTION).await.unwrap().as_deref(),
        Some("node-b")
    );
    drop(leadership_a);

    // Resignation: dropping the Leadership lets the next candidate win at once.
    let node_c = elector(&others).await;
    let campaign_c = tokio::spawn(async move {
        let leadership = node_c.campaign(ELECTION, "node-c").await;
        (leadership, Instant::now())
    });
    // Wait until node-c's candidacy is registered: it then shows up behind node-b.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!campaign_c.is_finished());
    let resigned_at = Instant::now();
    drop(leadership_b);
    let (leadership_c, won_at) = tokio::time::timeout(Duration::from_secs(1), campaign_c)
        .await
        .expect("node-c wins within 1 s of node-b's resignation")
        .unwrap();
    let leadership_c = leadership_c.unwrap();
    let resign_failover = won_at - resigned_at;
    assert_eq!(
        observer.leader(ELECTION).await.unwrap().as_deref(),
        Some("node-c")
    );
    leadership_c.resign().await;
    assert_eq!(observer.leader(ELECTION).await.unwrap(), None);
    println!(
        "election (TTL {LEASE_TTL:?}): leader noticed loss after {noticed:?}; \
         lease-expiry failover {expiry_failover:?}; resignation failover {resign_failover:?}"
    );
}
