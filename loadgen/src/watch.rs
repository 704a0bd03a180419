//! The memory of other processes during a run, read from
//! `/proc/<pid>/status`: the largest resident set (VmRSS) sampled while the
//! load runs, and the kernel's own peak (VmHWM) at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

/// How often the processes are sampled.
const EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessMemory {
    pub pid: u32,
    pub name: String,
    /// The largest VmRSS seen during the run, KiB.
    pub max_rss_kib: u64,
    /// VmHWM at the end: the peak RSS since the process started, KiB.
    pub peak_rss_kib: u64,
    pub samples: u64,
}

impl ProcessMemory {
    pub fn describe(&self) -> String {
        let mib = |kib: u64| kib as f64 / 1024.0;
        if self.samples == 0 {
            return format!("pid {}: not readable (gone?)", self.pid);
        }
        format!(
            "{} (pid {}): RSS max {:.1} MiB during the run, VmHWM {:.1} MiB",
            self.name,
            self.pid,
            mib(self.max_rss_kib),
            mib(self.peak_rss_kib)
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

fn read(pid: u32) -> Option<Status> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .map(|text| parse_status(&text))
}

/// Sampling in the background until [`Watch::finish`].
pub struct Watch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<ProcessMemory>>,
}

impl Watch {
    pub fn start(pids: &[u32]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut seen: Vec<ProcessMemory> = pids
            .iter()
            .map(|&pid| ProcessMemory {
                pid,
                name: String::new(),
                max_rss_kib: 0,
                peak_rss_kib: 0,
                samples: 0,
            })
            .collect();
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(EVERY);
            loop {
                ticks.tick().await;
                let last = flag.load(Ordering::Relaxed);
                for process in &mut seen {
                    if let Some(status) = read(process.pid) {
                        process.name = status.name;
                        process.max_rss_kib = process.max_rss_kib.max(status.rss_kib.unwrap_or(0));
                        process.peak_rss_kib = status.hwm_kib.unwrap_or(0);
                        process.samples += 1;
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
    pub async fn finish(self) -> Vec<ProcessMemory> {
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

    #[tokio::test]
    async fn samples_this_very_process() {
        let watch = Watch::start(&[std::process::id(), u32::MAX]);
        let seen = watch.finish().await;
        assert!(seen[0].samples >= 1);
        assert!(seen[0].max_rss_kib > 0);
        assert!(seen[0].peak_rss_kib >= seen[0].max_rss_kib);
        assert_eq!(seen[1].samples, 0, "no such process");
        assert!(seen[1].describe().contains("not readable"));
    }
}
