//! `catalog-svc [serve]`, `catalog-svc migrate`, `catalog-svc health [ADDR]`.

use std::process::ExitCode;

use service_kit::cli::Binary;
use service_kit::config::CommonConfig;

const BINARY: Binary = Binary {
    name: "catalog-svc",
    default_listen_addr: catalog_svc::DEFAULT_LISTEN_ADDR,
    migrations: &catalog_svc::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    BINARY
        .main(
            || CommonConfig::from_env(catalog_svc::DEFAULT_LISTEN_ADDR),
            |config| config.listen_addr,
            catalog_svc::app::run,
            |_, _| None,
        )
        .await
}
