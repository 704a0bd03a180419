//! Other processes during a run, from `/proc`: the largest resident set
//! (VmRSS) sampled while the load runs, the kernel's own peak (VmHWM) at the
//! end, and the CPU time they used meanwhile (so a run can say how much CPU
//! each request cost the edge or a service).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

/// How often the processes are sampled.
const EVERY: Duration = Duration::from_millis(100);

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, 100 a second on
/// every Linux architecture's ABI.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessUsage {
    pub pid: u32,
    pub name: String,
    /// The largest VmRSS seen during the run, KiB.
    pub max_rss_kib: u64,
    /// VmHWM at the end: the peak RSS since the process started, KiB.
    pub peak_rss_kib: u64,
    /// User and system CPU time used between the first and last sample.
    pub cpu_seconds: f64,
    pub samples: u64,
}

impl ProcessUsage {
    pub fn describe(&self) -> String {
        let mib = |kib: u64| kib as f64 / 1024.0;
        if self.samples == 0 {
            return format!("pid {}: not readable (gone?)", self.pid);
        }
        format!(
            "{} (pid {}): RSS max {:.1} MiB during the run, VmHWM {:.1} MiB, CPU {:.2} s",
            self.name,
            self.pid,
            mib(self.max_rss_kib),
            mib(self.peak_rss_kib),
            self.cpu_seconds
        )
    }
}

/// What `/proc/<pid>/status` says about memory.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub name: String,
    pub rss_kib: Option<u64>,
    pub hwm_kib: Option<u64>,
}

pub fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let kib = || value.trim_end_matches("kB").trim().parse::<u64>().ok();
        match key {
            "Name" => status.name = value.to_owned(),
            "VmRSS" => status.rss_kib = kib(),
            "VmHWM" => status.hwm_kib = kib(),
            _ => {}
        }
    }
    status
}

/// User plus system CPU ticks from `/proc/<pid>/stat`: fields 14 and 15,
/// counted after the command name, which may itself hold spaces or `)`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

fn read(pid: u32) -> Option<(Status, Option<u64>)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| parse_cpu_ticks(&stat));
    Some((parse_status(&status), ticks))
}

/// Sampling in the background until [`Watch::finish`].
pub struct Watch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<ProcessUsage>>,
}

impl Watch {
    /// Samples `pids` from `from` on: the end of the warm-up, so the CPU
    /// time matches the requests counted.
    pub fn start(pids: &[u32], from: tokio::time::Instant) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut seen: Vec<ProcessUsage> = pids
            .iter()
            .map(|&pid| ProcessUsage {
                pid,
                name: String::new(),
                max_rss_kib: 0,
                peak_rss_kib: 0,
                cpu_seconds: 0.0,
                samples: 0,
            })
            .collect();
        let mut first_ticks: Vec<Option<u64>> = vec![None; pids.len()];
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep_until(from).await;
            let mut ticks = tokio::time::interval(EVERY);
            loop {
                ticks.tick().await;
                let last = flag.load(Ordering::Relaxed);
                for (process, first) in seen.iter_mut().zip(&mut first_ticks) {
                    if let Some((status, ticks)) = read(process.pid) {
                        process.name = status.name;
                        process.max_rss_kib = process.max_rss_kib.max(status.rss_kib.unwrap_or(0));
                        process.peak_rss_kib = status.hwm_kib.unwrap_or(0);
                        process.samples += 1;
                        if let Some(ticks) = ticks {
                            let start = *first.get_or_insert(ticks);
                            process.cpu_seconds =
                                ticks.saturating_sub(start) as f64 / TICKS_PER_SECOND;
                        }
                    }
                }
                if last {
                    return seen;
                }
            }
        });
        Self { stop, task }
    }

    /// Takes one last sample and returns what was seen.
    pub async fn finish(self) -> Vec<ProcessUsage> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_rss_and_peak() {
        let text = "Name:\tedge\nUmask:\t0022\nVmPeak:\t  900000 kB\n\
                    VmHWM:\t   30720 kB\nVmRSS:\t   20480 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status(text),
            Status {
                name: "edge".into(),
                rss_kib: Some(20_480),
                hwm_kib: Some(30_720),
            }
        );
        assert_eq!(parse_status("Name:\tkthreadd\n").rss_kib, None);
    }

    #[test]
    fn reads_cpu_ticks_after_an_awkward_name() {
        let stat = "4242 (my) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 50 0 0 20 0 3 0 12345 1000000 500";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
        assert_eq!(parse_cpu_ticks("4242 (short) S 1"), None);
    }

    #[tokio::test]
    async fn samples_this_very_process() {
        let watch = Watch::start(&[std::process::id(), u32::MAX], tokio::time::Instant::now());
        let seen = watch.finish().await;
        assert!(seen[0].samples >= 1);
        assert!(seen[0].max_rss_kib > 0);
        // The kernel's RSS counters are approximate, so VmHWM read at the end
        // can trail the largest VmRSS sampled by a little: only check it is there.
        assert!(seen[0].peak_rss_kib > 0);
        assert_eq!(seen[1].samples, 0, "no such process");
        assert!(seen[1].describe().contains("not readable"));
    }
}
