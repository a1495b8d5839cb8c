//! One conformance suite, run against every backend: each case is a generic async function in
//! `cases` taking a factory, and `conformance!` instantiates it per backend. With feature
//! `etcd` the cases whose semantics etcd shares also run against a real etcd member.

mod cases;
mod support;

macro_rules! conformance {
    ($backend:ident, $factory:path, [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case($factory).await;
                }
            )*
        }
    };
}

macro_rules! all_backends {
    ($($case:ident),* $(,)?) => {
        conformance!(memory, crate::support::memory_fixture, [$($case),*]);
        conformance!(redb, crate::support::redb_fixture, [$($case),*]);
    };
}

all_backends!(
    fresh_store_starts_at_revision_one,
    create_get_and_already_exists,
    update_is_compare_and_swap,
    delete_returns_last_value_and_checks_revision,
    list_filters_prefix_orders_and_pages,
    list_is_a_consistent_snapshot_under_concurrent_writes,
    watch_replays_history_then_live_events,
    watch_from_a_future_revision_skips_earlier_events,
    watch_has_no_gap_or_duplicate_with_concurrent_writers,
    compaction_makes_older_watches_fail,
    retention_keeps_the_last_n_revisions,
    retention_drops_history_older_than_max_age,
    ttl_keys_are_swept_as_ordinary_deletes,
    create_with_ttl_sets_expiry_from_now,
    slow_watcher_ends_with_too_slow_without_blocking_writers,
    dropping_the_store_ends_watch_streams,
);

// Not run against etcd, whose semantics differ by design:
// * `ttl_keys_are_swept_as_ordinary_deletes`, `create_with_ttl_sets_expiry_from_now`: etcd
//   expires leased keys by its own clock and `sweep_expired` is a no-op (tests/etcd_cluster.rs
//   checks that etcd deletes them as ordinary deletes instead);
// * `slow_watcher_ends_with_too_slow_without_blocking_writers`: a slow etcd watcher is slowed
//   down (etcd catches it up from its history), never dropped, so there is no WatchTooSlow.
#[cfg(feature = "etcd")]
conformance!(
    etcd,
    crate::support::etcd_fixture,
    [
        fresh_store_starts_at_revision_one,
        create_get_and_already_exists,
        update_is_compare_and_swap,
        delete_returns_last_value_and_checks_revision,
        list_filters_prefix_orders_and_pages,
        list_is_a_consistent_snapshot_under_concurrent_writes,
        watch_replays_history_then_live_events,
        watch_from_a_future_revision_skips_earlier_events,
        watch_has_no_gap_or_duplicate_with_concurrent_writers,
        compaction_makes_older_watches_fail,
        retention_keeps_the_last_n_revisions,
        retention_drops_history_older_than_max_age,
        dropping_the_store_ends_watch_streams,
    ]
);
