//! `reservation-svc [serve]`, `reservation-svc migrate`, `reservation-svc health [ADDR]`.

use std::process::ExitCode;

use service_kit::cli::Binary;
use service_kit::config::CommonConfig;

const BINARY: Binary = Binary {
    name: "reservation-svc",
    default_listen_addr: reservation_svc::DEFAULT_LISTEN_ADDR,
    migrations: &reservation_svc::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    BINARY
        .main(
            || CommonConfig::from_env(reservation_svc::DEFAULT_LISTEN_ADDR),
            |config| config.listen_addr,
            reservation_svc::app::run,
            |_, _| None,
        )
        .await
}
