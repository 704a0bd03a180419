//! The database pool at each scrape: its connections, idle and in use, and
//! how often and how long requests waited for one (bb8's statistics).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::db::Pool;

pub(super) struct PoolCollector {
    pool: Pool,
}

impl std::fmt::Debug for PoolCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolCollector")
    }
}

impl PoolCollector {
    pub(super) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let state = self.pool.state();
        let stats = &state.statistics;
        let gauges = [
            (
                "db_pool_connections",
                "Connections the pool holds, idle or in use.",
                i64::from(state.connections),
            ),
            (
                "db_pool_idle_connections",
                "Connections idle in the pool.",
                i64::from(state.idle_connections),
            ),
            (
                "db_pool_in_use_connections",
                "Connections handed out to requests.",
                i64::from(state.connections.saturating_sub(state.idle_connections)),
            ),
            (
                "db_pool_max_connections",
                "The most connections the pool opens (DATABASE_POOL_SIZE).",
                i64::from(self.pool.config().max_size),
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let counters = [
            (
                "db_pool_gets_direct",
                "Connections handed out without waiting.",
                stats.get_direct,
            ),
            (
                "db_pool_gets_waited",
                "Connections handed out after a wait.",
                stats.get_waited,
            ),
            (
                "db_pool_gets_timed_out",
                "Waits for a connection that ran past DATABASE_CONNECT_TIMEOUT_SECONDS (a busy pool is then waited for again; an empty one refused).",
                stats.get_timed_out,
            ),
            (
                "db_pool_connections_created",
                "Connections opened.",
                stats.connections_created,
            ),
            (
                "db_pool_connections_closed_broken",
                "Connections dropped as broken (closed by the server, lost).",
                stats.connections_closed_broken,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let waited = ConstCounter::new(stats.get_wait_time.as_secs_f64());
        waited.encode(encoder.encode_descriptor(
            "db_pool_wait_seconds",
            "Time requests spent waiting for a connection, in seconds.",
            None,
            waited.metric_type(),
        )?)?;
        Ok(())
    }
}
