//! `order-svc [serve]`, `order-svc migrate`, `order-svc health [ADDR]`.

use std::process::ExitCode;

use order_svc::config::OrderConfig;
use service_kit::cli::Binary;

const BINARY: Binary = Binary {
    name: "order-svc",
    default_listen_addr: order_svc::DEFAULT_LISTEN_ADDR,
    migrations: &order_svc::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    BINARY
        .main(
            OrderConfig::from_env,
            |config| config.common.listen_addr,
            order_svc::app::run,
            |_, _| None,
        )
        .await
}
