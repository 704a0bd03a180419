//! Kursi's load generator: one named scenario against a local stack, over
//! gRPC straight to a service or over REST through the edge, reported as
//! requests per second, latency percentiles and errors by code.

pub mod cli;
pub mod client;
pub mod fixture;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod watch;

use std::sync::Arc;

use crate::cli::{Args, Transport};
use crate::client::{Client, GrpcClient, Load, RestClient};
use crate::fixture::Setup;
use crate::run::Plan;
use crate::stats::{Report, Summary};
use crate::watch::Watch;

/// Prepares the data, then runs the scenario over each transport asked for,
/// gRPC first, on the same data.
pub async fn execute(args: &Args) -> anyhow::Result<Summary> {
    let admin = if args.scenario.needs_reservations() {
        Some((args.admin_email.clone(), args.admin_password()?))
    } else {
        None
    };
    let setup = Setup {
        auth_url: args.auth_url.clone(),
        reservation_url: args.reservation_url.clone(),
        admin,
        users: usize::from(args.users),
        reservations_per_user: usize::from(args.reservations_per_user),
    };
    eprintln!(
        "loadgen: preparing {} ({} users)…",
        args.scenario.name(),
        setup.users
    );
    let fixture = fixture::prepare(args.scenario, &setup).await?;
    let load = Arc::new(Load {
        scenario: args.scenario,
        fixture,
    });
    let plan = Plan {
        concurrency: usize::from(args.concurrency),
        duration: args.measure_for(),
        requests: args.requests,
        warmup: args.warmup,
        timeout: args.timeout,
    };
    // The load generator itself is watched too: on a shared machine its own
    // CPU is part of the picture.
    let mut watch_pids = args.watch_pids.clone();
    watch_pids.push(std::process::id());
    let mut runs = Vec::new();
    if matches!(args.transport, Transport::Grpc | Transport::Both) {
        let client =
            Client::Grpc(GrpcClient::connect(&args.auth_url, &args.reservation_url, &load).await?);
        let target = match args.scenario {
            scenario::Scenario::Login => args.auth_url.clone(),
            _ => args.reservation_url.clone(),
        };
        runs.push(measure(&plan, load.clone(), &client, target, &watch_pids).await);
    }
    if matches!(args.transport, Transport::Rest | Transport::Both) {
        let client = Client::Rest(RestClient::new(
            &args.edge_url,
            args.http2,
            plan.concurrency,
            &load,
        )?);
        let version = if args.http2 { "h2c" } else { "HTTP/1.1" };
        let target = format!("{} {version}", args.edge_url);
        runs.push(measure(&plan, load.clone(), &client, target, &watch_pids).await);
    }
    Ok(Summary::new(runs))
}

/// One run over one transport, with the watched processes' memory.
pub async fn measure(
    plan: &Plan,
    load: Arc<Load>,
    client: &Client,
    target: String,
    watch_pids: &[u32],
) -> Report {
    eprintln!(
        "loadgen: {} over {} for {:.1} s{}…",
        load.scenario.name(),
        client.transport(),
        plan.duration.as_secs_f64(),
        plan.requests
            .map(|n| format!(" or {n} requests"))
            .unwrap_or_default()
    );
    let watch = Watch::start(watch_pids, tokio::time::Instant::now() + plan.warmup);
    let measured = run::drive(plan, load.clone(), client).await;
    let processes = watch.finish().await;
    Report::new(
        load.scenario.name(),
        client.transport(),
        target,
        plan.concurrency,
        &measured.recorder,
        measured.elapsed,
        processes,
    )
}
