//! The process's own metrics, with the names the Prometheus clients of
//! other languages use (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, …), read from /proc at each scrape.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

#[derive(Debug, Default)]
pub(super) struct ProcessCollector;

/// What /proc/self says; `None` where it cannot be read (not Linux).
#[derive(Debug, Default, PartialEq)]
struct Reading {
    cpu_seconds: f64,
    resident_bytes: i64,
    virtual_bytes: i64,
    threads: i64,
    start_time_seconds: f64,
    open_fds: i64,
}

/// The kernel's clock tick and page size, fixed on Linux x86-64 and arm64.
const TICKS_PER_SECOND: f64 = 100.0;
const PAGE_BYTES: i64 = 4096;

fn read() -> Option<Reading> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field n (1-based, proc(5)) is fields[n - 3] here.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<f64>().ok());
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse::<f64>()
        .ok()?;
    let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as i64);
    Some(Reading {
        cpu_seconds: (field(14)? + field(15)?) / TICKS_PER_SECOND,
        threads: field(20)? as i64,
        start_time_seconds: boot + field(22)? / TICKS_PER_SECOND,
        virtual_bytes: field(23)? as i64,
        resident_bytes: field(24)? as i64 * PAGE_BYTES,
        open_fds,
    })
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(now) = read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(now.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds.",
            None,
            cpu.metric_type(),
        )?)?;
        for (name, help, value) in [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                now.resident_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                now.virtual_bytes,
            ),
            ("process_open_fds", "Open file descriptors.", now.open_fds),
            ("process_threads", "OS threads.", now.threads),
        ] {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let start = ConstGauge::new(now.start_time_seconds);
        start.encode(encoder.encode_descriptor(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds.",
            None,
            start.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn proc_self_is_read() {
        let now = super::read().expect("/proc/self");
        assert!(
            now.resident_bytes > 0 && now.threads >= 1 && now.open_fds > 0,
            "{now:?}"
        );
        assert!(now.start_time_seconds > 1.5e9, "{now:?}");
    }
}
