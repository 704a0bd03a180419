//! `reservation-svc [serve]`, `reservation-svc migrate`, `reservation-svc health [ADDR]`.

use std::process::ExitCode;

use reservation_svc::config::ReservationConfig;
use service_kit::cli::Binary;

const BINARY: Binary = Binary {
    name: "reservation-svc",
    default_listen_addr: reservation_svc::DEFAULT_LISTEN_ADDR,
    migrations: &reservation_svc::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    BINARY
        .main(
            ReservationConfig::from_env,
            |config| config.common.listen_addr,
            reservation_svc::app::run,
            |_, _| None,
        )
        .await
}
