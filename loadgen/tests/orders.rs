//! The order scenarios end to end, as the command line runs them, against a
//! real auth-svc, catalog-svc and order-svc (each on its own database) and a
//! real edge, all on port 0: every request counted once, and a seat rush
//! that sells every seat exactly once. No timing is asserted.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use catalog_svc::config::CatalogConfig;
use clap::Parser;
use edge::config::{EdgeConfig, Upstream};
use kursi_proto::order::v1::order_service_client::OrderServiceClient;
use kursi_proto::order::v1::{ListOrdersRequest, OrderStatus};
use loadgen::cli::Args;
use loadgen::stats::{Report, Summary};
use order_svc::config::OrderConfig;
use testkit::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Spawned, TestAuth, TestDb, bearer, channel, service_config, spawn,
};

/// The services and an edge in front of them.
struct Stack {
    auth: TestAuth,
    _catalog_db: TestDb,
    catalog: Spawned,
    _order_db: TestDb,
    order: Spawned,
    edge_url: String,
    stop_edge: Option<tokio::sync::oneshot::Sender<()>>,
    edge: Option<tokio::task::JoinHandle<Result<(), edge::app::EdgeError>>>,
}

impl Stack {
    async fn start() -> Self {
        let auth = TestAuth::start().await;
        let catalog_db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
        let config = CatalogConfig::with_defaults(service_config(catalog_db.url(), &auth.url()));
        let catalog = spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
        let order_db = TestDb::new("order", &order_svc::MIGRATIONS).await;
        let mut config =
            OrderConfig::with_defaults(service_config(order_db.url(), &auth.url()), catalog.url());
        config.common.database_pool_size = 10;
        let order = spawn(move |l, s| order_svc::app::run(config, l, s)).await;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = EdgeConfig::new(
            addr,
            vec![
                Upstream::new("auth", auth.url()),
                Upstream::new("catalog", catalog.url()),
                Upstream::new("order", order.url()),
            ],
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let edge = tokio::spawn(edge::app::run(config, listener, async {
            let _ = stopped.await;
        }));
        Self {
            auth,
            _catalog_db: catalog_db,
            catalog,
            _order_db: order_db,
            order,
            edge_url: format!("http://{addr}"),
            stop_edge: Some(stop),
            edge: Some(edge),
        }
    }

    /// `loadgen SCENARIO ARGS…` against this stack, as the admin.
    async fn loadgen(&self, scenario: &str, args: &[&str]) -> anyhow::Result<Summary> {
        let (auth, catalog, order) = (self.auth.url(), self.catalog.url(), self.order.url());
        let mut argv = vec![
            "loadgen",
            scenario,
            "--auth-url",
            &auth,
            "--catalog-url",
            &catalog,
            "--order-url",
            &order,
            "--edge-url",
            &self.edge_url,
            "--admin-email",
            ADMIN_EMAIL,
            "--admin-password",
            ADMIN_PASSWORD,
            "--users",
            "3",
        ];
        argv.extend_from_slice(args);
        let summary = loadgen::execute(&Args::try_parse_from(argv).unwrap()).await?;
        // The report as the command prints it, for reading with --no-capture.
        eprint!("{}", summary.text());
        Ok(summary)
    }

    /// How many orders order-svc has in `status`, as the admin sees them.
    async fn orders(&self, status: OrderStatus) -> i64 {
        let admin = self.auth.admin().await;
        OrderServiceClient::new(channel(self.order.addr).await)
            .list_orders(bearer(
                &admin.access_token,
                ListOrdersRequest {
                    status: status as i32,
                    page_size: 1,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .total_size
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop_edge.take() {
            let _ = stop.send(());
        }
        if let Some(edge) = self.edge.take() {
            edge.await.unwrap().unwrap();
        }
    }
}

fn errors(run: &Report) -> u64 {
    run.errors.values().sum()
}

#[tokio::test]
async fn create_order_orders_and_cancels_once_per_request_over_both_transports() {
    let stack = Stack::start().await;
    let summary = stack
        .loadgen("create-order", &["-t", "both", "-c", "4", "-n", "12"])
        .await
        .unwrap();
    assert_eq!(summary.runs.len(), 2);
    for run in &summary.runs {
        assert_eq!(run.requests, 12, "{}: {:?}", run.transport, run.errors);
        assert_eq!(run.ok, 12, "{}: {:?}", run.transport, run.errors);
        assert_eq!(errors(run), 0, "{:?}", run.errors);
        assert!(run.refused.is_empty());
        assert!(run.rush.is_none());
    }
    // Every request was an order and its cancellation: nothing left holding seats.
    assert_eq!(stack.orders(OrderStatus::Cancelled).await, 24);
    assert_eq!(stack.orders(OrderStatus::Pending).await, 0);
    assert!(
        summary
            .text()
            .contains("an order of 2 tickets and its cancellation")
    );
    assert!(summary.failures().is_empty());
    stack.stop().await;
}

#[tokio::test]
async fn a_seat_rush_sells_every_seat_once_over_both_transports() {
    let stack = Stack::start().await;
    let args = [
        "-t",
        "both",
        "-c",
        "8",
        "--rows",
        "2",
        "--seats-per-row",
        "5",
    ];
    let summary = stack.loadgen("seat-rush", &args).await.unwrap();
    assert_eq!(summary.runs.len(), 2);
    let mut showtimes = Vec::new();
    for run in &summary.runs {
        let rush = run.rush.as_ref().expect("a rush report");
        let check = rush.check;
        assert_eq!(rush.capacity, 10);
        assert!(rush.sold_out, "{}: {rush:?}", run.transport);
        assert!(rush.time_to_sell_out_seconds.is_some_and(|s| s > 0.0));
        assert_eq!(rush.seats_sold, 10, "{}: {rush:?}", run.transport);
        assert_eq!(rush.seats_left, 0);
        assert_eq!(check.taken_in_map, 10);
        assert_eq!(check.in_orders, 10);
        assert_eq!(check.duplicates, 0);
        assert_eq!(check.won_but_free, 0);
        assert!(check.holds());
        assert_eq!(
            rush.oversold,
            "oversold: no (10 seats, 10 in orders, 0 duplicates)"
        );
        // Eight clients and ten seats: some of them are turned away.
        assert!(rush.orders_refused > 0, "{rush:?}");
        assert_eq!(rush.errors, 0, "{:?}", run.errors);
        assert_eq!(errors(run), 0, "{:?}", run.errors);
        assert_eq!(rush.orders_won, run.ok);
        assert_eq!(run.requests, run.ok + rush.orders_refused);
        let label = if run.transport == "grpc" {
            "FAILED_PRECONDITION"
        } else {
            "HTTP 400"
        };
        assert_eq!(run.refused.get(label), Some(&rush.orders_refused));
        showtimes.push(rush.showtime_id.clone());
    }
    assert_ne!(showtimes[0], showtimes[1], "a fresh showtime per transport");
    // The orders won stay PENDING.
    let won: u64 = summary.runs.iter().map(|run| run.ok).sum();
    assert_eq!(stack.orders(OrderStatus::Pending).await, won as i64);
    assert!(summary.failures().is_empty());
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["runs"][0]["rush"]["check"]["duplicates"], 0);
    assert_eq!(json["runs"][1]["rush"]["seats_sold"], 10);
    stack.stop().await;
}

#[tokio::test]
async fn a_rush_of_threes_ends_when_fewer_than_three_are_left() {
    let stack = Stack::start().await;
    let args = [
        "-c",
        "6",
        "--rows",
        "2",
        "--seats-per-row",
        "5",
        "--quantity",
        "3",
    ];
    let summary = stack.loadgen("seat-rush", &args).await.unwrap();
    let run = &summary.runs[0];
    let rush = run.rush.as_ref().unwrap();
    // 3 orders of 3 fit in 10 seats; the tenth seat is nobody's.
    assert!(rush.sold_out, "{rush:?}");
    assert_eq!(
        (rush.orders_won, rush.seats_sold, rush.seats_left),
        (3, 9, 1)
    );
    assert!(rush.check.holds(), "{rush:?}");
    // Each client stops at its first refusal, or at once when another's
    // refusal showed the sell-out.
    assert!((1..=6).contains(&rush.orders_refused), "{rush:?}");
    stack.stop().await;
}

#[tokio::test]
async fn a_seat_rush_takes_no_request_count_or_warm_up() {
    // Refused before anything is prepared: nothing listens at these addresses.
    for extra in [["-n", "5"], ["-w", "1s"]] {
        let mut argv = vec!["loadgen", "seat-rush", "--auth-url", "http://127.0.0.1:1"];
        argv.extend_from_slice(&extra);
        let err = loadgen::execute(&Args::try_parse_from(argv).unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("-n and -w do not apply"), "{err}");
    }
}
