//! A wake-up call between tasks of one process: cheap to ring, never lost
//! (a waiter that was busy sees that it rang since it last looked).

use std::sync::Arc;

use tokio::sync::watch;

/// Rings whenever something happened that waiters may want to look at.
#[derive(Clone)]
pub struct Signal(Arc<watch::Sender<u64>>);

impl Default for Signal {
    fn default() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }
}

impl Signal {
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}
