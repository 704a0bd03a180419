//! Kursi's load generator: one named scenario against a local stack, over
//! gRPC straight to a service or over REST through the edge, reported as
//! requests per second, latency percentiles and errors by code.

pub mod cinema;
pub mod cli;
pub mod client;
pub mod faults;
pub mod fixture;
pub mod orders;
pub mod run;
pub mod rush;
pub mod scenario;
pub mod seat_check;
pub mod stats;
pub mod watch;

use std::sync::Arc;

use anyhow::{anyhow, bail};

use crate::cinema::Layout;
use crate::cli::{Args, Transport};
use crate::client::{Client, GrpcClient, Load, RestClient};
use crate::fixture::Setup;
use crate::run::Plan;
use crate::scenario::Scenario;
use crate::seat_check::{RushReport, SeatCheck};
use crate::stats::{Report, Summary};
use crate::watch::Watch;

/// create-order spreads its workers over at most this many showtimes, one
/// each up to there.
const MAX_ORDER_SHOWTIMES: usize = 64;

/// Prepares the data, then runs the scenario over each transport asked for,
/// gRPC first, on the same data (a seat rush on a fresh showtime each).
pub async fn execute(args: &Args) -> anyhow::Result<Summary> {
    let concurrency = usize::from(args.concurrency);
    if args.scenario == Scenario::SeatRush && (args.requests.is_some() || !args.warmup.is_zero()) {
        bail!("seat-rush runs until the showtime is sold out: -n and -w do not apply (-d caps it)");
    }
    let layout = Layout {
        rows: args.rows,
        seats_per_row: args.seats_per_row,
    };
    let showtimes = if args.scenario == Scenario::CreateOrder {
        let showtimes = concurrency.min(MAX_ORDER_SHOWTIMES);
        // Each worker holds at most one order of 2 at a time.
        let held = 2 * concurrency.div_ceil(showtimes);
        if (layout.capacity() as usize) < held {
            bail!(
                "create-order needs showtimes of at least {held} seats at -c {concurrency}; \
                 raise --rows or --seats-per-row"
            );
        }
        showtimes
    } else {
        0
    };
    let admin = if args.scenario.signs_in() {
        Some((args.admin_email.clone(), args.admin_password()?))
    } else {
        None
    };
    let setup = Setup {
        auth_url: args.auth_url.clone(),
        reservation_url: args.reservation_url.clone(),
        catalog_url: args.catalog_url.clone(),
        order_url: args.order_url.clone(),
        admin,
        users: usize::from(args.users),
        reservations_per_user: usize::from(args.reservations_per_user),
        layout,
        showtimes,
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
        concurrency,
        duration: args.measure_for(),
        requests: args.requests,
        warmup: args.warmup,
        timeout: args.timeout,
    };
    // The load generator itself is watched too: on a shared machine its own
    // CPU is part of the picture.
    let mut watch_pids = args.watch_pids.clone();
    watch_pids.push(std::process::id());
    let mut clients = Vec::new();
    if matches!(args.transport, Transport::Grpc | Transport::Both) {
        let client = Client::Grpc(GrpcClient::connect(&setup, &load).await?);
        let target = match args.scenario {
            Scenario::Login => args.auth_url.clone(),
            Scenario::CreateOrder | Scenario::SeatRush => args.order_url.clone(),
            _ => args.reservation_url.clone(),
        };
        clients.push((client, target));
    }
    if matches!(args.transport, Transport::Rest | Transport::Both) {
        let client = Client::Rest(RestClient::new(
            &args.edge_url,
            args.http2,
            plan.concurrency,
            &load,
        )?);
        let version = if args.http2 { "h2c" } else { "HTTP/1.1" };
        clients.push((client, format!("{} {version}", args.edge_url)));
    }
    let mut runs = Vec::new();
    for (client, target) in clients {
        let report = if args.scenario == Scenario::SeatRush {
            rush(
                &plan,
                load.clone(),
                &client,
                target,
                &watch_pids,
                &setup,
                args.quantity,
            )
            .await?
        } else {
            measure(&plan, load.clone(), &client, target, &watch_pids).await
        };
        runs.push(report);
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

/// One seat rush over one transport, on a showtime scheduled for it, with
/// the seat map read back and checked at the end.
pub async fn rush(
    plan: &Plan,
    load: Arc<Load>,
    client: &Client,
    target: String,
    watch_pids: &[u32],
    setup: &Setup,
    quantity: Option<u32>,
) -> anyhow::Result<Report> {
    let cinema = load
        .fixture
        .cinema
        .as_ref()
        .ok_or_else(|| anyhow!("seat-rush was prepared without a cinema"))?;
    let showtime_id = cinema.schedule().await?;
    let layout = cinema.layout;
    eprintln!(
        "loadgen: seat-rush over {} for {} seats, at most {:.1} s…",
        client.transport(),
        layout.capacity(),
        plan.duration.as_secs_f64()
    );
    let watch = Watch::start(watch_pids, tokio::time::Instant::now());
    let rushed = rush::drive(plan, load.clone(), client, &showtime_id, quantity).await;
    let processes = watch.finish().await;
    let token = load
        .fixture
        .users
        .first()
        .map(|user| user.access_token.as_str())
        .unwrap_or_default();
    let map = seat_check::read_back(&setup.order_url, token, &showtime_id).await?;
    let check = SeatCheck::new(&map, &rushed.orders);
    let recorder = &rushed.measured.recorder;
    let mut report = Report::new(
        load.scenario.name(),
        client.transport(),
        target,
        plan.concurrency,
        recorder,
        rushed.measured.elapsed,
        processes,
    );
    report.rush = Some(RushReport {
        showtime_id,
        layout,
        capacity: layout.capacity(),
        quantity: quantity.map_or_else(|| "1, 2, 3 by client".to_owned(), |q| q.to_string()),
        sold_out: rushed.time_to_sell_out.is_some(),
        time_to_sell_out_seconds: rushed.time_to_sell_out.map(|d| d.as_secs_f64()),
        orders_won: recorder.ok(),
        orders_refused: recorder.refused().values().sum(),
        errors: recorder.errors().values().sum(),
        seats_sold: check.in_orders,
        seats_left: map.free,
        oversold: check.line(),
        check,
    });
    Ok(report)
}
