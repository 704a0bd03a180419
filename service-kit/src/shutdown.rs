//! Background work that stops when the service does: the sweepers, the
//! outbox's sequencer and relay, event streams.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Resolves once shutdown has begun (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await.map(drop);
}

/// A shutdown signal that background tasks can watch: the returned future
/// resolves when `shutdown` does, after turning the receiver true.
pub fn watched(
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (
    impl Future<Output = ()> + Send + 'static,
    watch::Receiver<bool>,
) {
    let (tx, rx) = watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = tx.send(true);
    };
    (signal, rx)
}

/// Runs `task` every `interval` (the first time one interval from now)
/// until `shutdown` turns true. A slow run delays the next one instead of
/// piling runs up.
pub async fn every<F, Fut>(interval: Duration, mut shutdown: watch::Receiver<bool>, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = stopped(&mut shutdown) => return,
        }
        task().await;
    }
}
