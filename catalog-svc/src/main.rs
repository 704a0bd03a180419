//! `catalog-svc [serve]`, `catalog-svc migrate`, `catalog-svc health [ADDR]`.

use std::process::ExitCode;

use catalog_svc::config::CatalogConfig;
use service_kit::cli::Binary;

const BINARY: Binary = Binary {
    name: "catalog-svc",
    default_listen_addr: catalog_svc::DEFAULT_LISTEN_ADDR,
    migrations: &catalog_svc::MIGRATIONS,
};

#[tokio::main]
async fn main() -> ExitCode {
    BINARY
        .main(
            CatalogConfig::from_env,
            |config| config.common.listen_addr,
            catalog_svc::app::run,
            |_, _| None,
        )
        .await
}
