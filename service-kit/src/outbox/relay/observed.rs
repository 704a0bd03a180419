//! The relay as Prometheus sees it at each scrape: whether this replica
//! relays, whether it is failing, how far behind it is, and how many events
//! it has published. Read from the relay's own watches: a scrape costs no
//! query.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::ConstGauge;
use tokio::sync::watch;

use super::{Lag, RelayState};

#[derive(Debug)]
pub(super) struct RelayCollector {
    pub(super) state: watch::Receiver<RelayState>,
    pub(super) lag: watch::Receiver<Lag>,
    pub(super) published: Counter,
}

impl Collector for RelayCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let state = *self.state.borrow();
        let (leading, failing, position) = match state {
            RelayState::Relaying { position } => (true, false, position),
            RelayState::Failing { position } => (true, true, position),
            RelayState::Starting | RelayState::Standby => (false, false, 0),
        };
        // Only the replica holding the lease measures the backlog; the
        // others say nothing of it rather than something stale.
        let lag = if leading {
            *self.lag.borrow()
        } else {
            Lag::default()
        };
        let gauges = [
            (
                "outbox_relay_leading",
                "1 while this replica holds the relay's lease and publishes.",
                i64::from(leading),
            ),
            (
                "outbox_relay_failing",
                "1 while this replica cannot publish (NATS or the database refuses).",
                i64::from(failing),
            ),
            (
                "outbox_relay_position",
                "The outbox position published up to, on the replica that relays.",
                position,
            ),
            (
                "outbox_relay_backlog_events",
                "Events numbered in the outbox and not yet published, as last measured.",
                lag.events,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let seconds = ConstGauge::new(lag.seconds);
        seconds.encode(encoder.encode_descriptor(
            "outbox_relay_lag_seconds",
            "Age of the oldest event not yet published, as last measured.",
            None,
            seconds.metric_type(),
        )?)?;
        let published = ConstCounter::new(self.published.get());
        published.encode(encoder.encode_descriptor(
            "outbox_relay_published",
            "Events this replica has published to NATS JetStream.",
            None,
            published.metric_type(),
        )?)?;
        Ok(())
    }
}
