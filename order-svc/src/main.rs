//! `order-svc [serve]`, `order-svc migrate`, `order-svc health [ADDR]`.

use std::process::ExitCode;

use service_kit::cli::Binary;
use service_kit::config::CommonConfig;

const BINARY: Binary = Binary {
    name: "order-svc",
    default_listen_addr: order_svc::DEFAULT_LISTEN_ADDR,
    migrations: &order_svc::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    BINARY
        .main(
            || CommonConfig::from_env(order_svc::DEFAULT_LISTEN_ADDR),
            |config| config.listen_addr,
            order_svc::app::run,
            |_, _| None,
        )
        .await
}
