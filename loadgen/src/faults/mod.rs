//! `loadgen faults …`: the Rust half of scripts/faults. `run` prepares
//! data, then keeps a steady load of reservations and orders going through
//! the edge, every request kept with its time and outcome, until the script
//! stops it (SIGTERM) after injecting its faults one at a time and marking
//! each one's window in a file. It then judges each window's failures
//! against what Kursi promises under that fault (`promise`), checks the
//! data by SQL, against JetStream and through the edge (`checks`), and
//! reports. `slow-clients` is the slow-client flood. RELIABILITY.md says
//! what the suite shows and how to run it.

pub mod checks;
pub mod cli;
pub mod journey;
pub mod ledger;
pub mod prepare;
pub mod promise;
pub mod report;
pub mod sending;
pub mod slow;
pub mod windows;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;

use self::cli::{Command, FaultsArgs, RunArgs, SlowArgs};
use self::journey::{Shared, Worker};
use self::ledger::{Ledger, now_us};
use self::report::SuiteReport;
use crate::client::RestClient;

/// `loadgen faults ARGS…` (`argv` starts at `faults`).
pub fn main(argv: Vec<OsString>) -> ExitCode {
    let args = FaultsArgs::parse_from(argv);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("loadgen faults: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match args.command {
        Command::Run(args) => runtime.block_on(run(&args)),
        Command::SlowClients(args) => runtime.block_on(slow_clients(&args)),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("loadgen faults: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The load, then the verdicts; `Ok(false)` when a promise or a check failed.
async fn run(args: &RunArgs) -> anyhow::Result<bool> {
    let workers = usize::from(args.concurrency);
    let setup = prepare::Setup {
        auth_url: args.auth_url.clone(),
        reservation_url: args.reservation_url.clone(),
        catalog_url: args.catalog_url.clone(),
        admin_email: args.admin_email.clone(),
        admin_password: args.admin_password.clone(),
        customers: usize::from(args.customers),
        workers,
    };
    eprintln!(
        "loadgen faults: preparing {} customers, tables and showtimes…",
        setup.customers
    );
    let shared = Arc::new(Shared {
        prepared: prepare::prepare(&setup).await?,
        workers,
        timeout: args.timeout,
        patience: args.patience,
        stop: AtomicBool::new(false),
    });
    let http = RestClient::bare(&args.edge_url, false, workers);
    let mut tasks = JoinSet::new();
    for index in 0..workers {
        tasks.spawn(Worker::new(shared.clone(), http.clone(), index).run());
    }
    if let Some(ready) = &args.ready_file {
        std::fs::write(ready, b"").with_context(|| format!("writing {}", ready.display()))?;
    }
    eprintln!(
        "loadgen faults: {workers} clients running until SIGTERM (at most {:?})",
        args.cap
    );
    wait_for_stop(args).await?;
    shared.stop.store(true, Ordering::Relaxed);
    let mut ledger = Ledger::default();
    while let Some(joined) = tasks.join_next().await {
        ledger.merge(joined.context("a client panicked")?);
    }
    let end_us = now_us();
    ledger.attempts.sort_by_key(|a| a.answered_us());
    eprintln!(
        "loadgen faults: {} requests sent; checking the data…",
        ledger.attempts.len()
    );

    let text = std::fs::read_to_string(&args.windows)
        .with_context(|| format!("reading the fault windows in {}", args.windows.display()))?;
    let windows = windows::parse(&text)?;
    let stores = checks::Stores {
        database_url: args.database_url.clone(),
        nats_url: args.nats_url.clone(),
        drain: args.drain,
    };
    let findings = checks::run(&stores, &http, &shared.prepared, &ledger).await?;
    let report = SuiteReport {
        label: args.label.clone(),
        concurrency: workers,
        sent: ledger.attempts.len() as u64,
        faults: report::faults(&windows, &ledger.attempts, end_us),
        checks: findings,
    };
    if let Some(path) = &args.json_report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    std::io::stdout()
        .lock()
        .write_all(report.text().as_bytes())?;
    let failures = report.failures();
    for failure in &failures {
        eprintln!("loadgen faults: {failure}");
    }
    Ok(failures.is_empty())
}

/// Until SIGTERM or SIGINT, or the cap.
async fn wait_for_stop(args: &RunArgs) -> anyhow::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        () = tokio::time::sleep(args.cap) => eprintln!("loadgen faults: stopping at the cap"),
    }
    Ok(())
}

async fn slow_clients(args: &SlowArgs) -> anyhow::Result<bool> {
    let addr = args
        .edge_url
        .split_once("://")
        .map_or(args.edge_url.as_str(), |(_, rest)| rest)
        .to_owned();
    let fates = slow::flood(&addr, usize::from(args.connections), args.hold).await;
    let freed = slow::freed(&fates);
    let line = slow::describe(&fates);
    std::io::stdout()
        .lock()
        .write_all(format!("{line}\n").as_bytes())?;
    if let Some(path) = &args.windows {
        let kind = if freed { "info" } else { "fail" };
        let mark = format!("{} {kind} {} {line}\n", now_us() / 1000, args.fault);
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        file.write_all(mark.as_bytes())?;
    }
    Ok(freed)
}
