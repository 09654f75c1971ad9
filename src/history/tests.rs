use super::*;
use crate::store::{self, Store, no_routing};
use std::sync::atomic::{AtomicI64, Ordering};

const HOUR: i64 = 3_600_000;

/// A clock the test sets by hand.
#[derive(Default)]
struct ManualClock(AtomicI64);

impl ManualClock {
    fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[test]
fn a_slot_starts_at_the_last_multiple_of_the_interval() {
    assert_eq!(slot(0, HOUR), 0);
    assert_eq!(slot(HOUR - 1, HOUR), 0);
    assert_eq!(slot(HOUR, HOUR), HOUR);
    assert_eq!(slot(10 * HOUR + 1_234, HOUR), 10 * HOUR);
    // 2024-03-05T14:37:12.345Z falls in the 14:00 slot.
    assert_eq!(slot(1_709_649_432_345, HOUR), 1_709_647_200_000);
    assert_eq!(slot(1_709_649_432_345, 1_000), 1_709_649_432_000);
}

#[test]
fn the_wait_runs_to_the_next_slot_and_never_is_zero() {
    assert_eq!(until_next_slot(0, HOUR), Duration::from_millis(3_600_000));
    assert_eq!(until_next_slot(HOUR - 1, HOUR), Duration::from_millis(1));
    assert_eq!(
        until_next_slot(1_709_649_432_345, 1_000),
        Duration::from_millis(655)
    );
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Arc<SqlStore> {
    let url = format!("sqlite://{}", dir.path().join("history.db").display());
    store::open(&url.into(), no_routing()).await.unwrap()
}

#[tokio::test]
async fn each_slot_is_recorded_once_however_often_it_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let clock = Arc::new(ManualClock::default());
    let snapshotter = Snapshotter::new(store.clone(), Duration::from_secs(3600), clock.clone());
    let base = 1_709_647_200_000; // 2024-03-05T14:00:00Z
    let mut recorded = Vec::new();
    for offset in [0, 1_000, HOUR - 1, HOUR, HOUR + 59_000, 3 * HOUR + 7] {
        clock.set(base + offset);
        recorded.push(snapshotter.tick(clock.now_millis()).await.unwrap());
    }
    assert_eq!(
        recorded,
        [
            (base, true),
            (base, false),
            (base, false),
            (base + HOUR, true),
            (base + HOUR, false),
            (base + 3 * HOUR, true),
        ]
    );
    let points: Vec<i64> = store
        .history("homepage_cta")
        .await
        .unwrap()
        .iter()
        .map(|p| p.at_millis)
        .collect();
    assert_eq!(points, [base, base + HOUR, base + 3 * HOUR]);
}

#[tokio::test]
async fn a_lifecycle_point_keeps_its_exact_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(&dir).await;
    let at = 1_709_649_432_345;
    assert!(record_point(&store, at).await.unwrap());
    assert!(!record_point(&store, at).await.unwrap());
    let points = store.history("homepage_cta").await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].at_millis, at);
    assert!(points[0].counts.is_empty());
}
