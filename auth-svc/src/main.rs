//! `auth-svc [serve]`, `auth-svc migrate`, `auth-svc health [ADDR]`,
//! `auth-svc generate-key PATH`.

use std::io::Write;
use std::process::ExitCode;

use auth_svc::config::{AuthConfig, DEFAULT_LISTEN_ADDR};
use service_kit::cli::{self, Command};
use service_kit::{config, db, server, telemetry};

const BINARY: &str = "auth-svc";

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    match Command::from_args() {
        Command::Serve => serve().await,
        Command::Migrate => migrate().await,
        Command::Health(addr) => match addr.map_or_else(
            || config::listen_addr_or(DEFAULT_LISTEN_ADDR).map(|a| a.to_string()),
            Ok,
        ) {
            Ok(addr) => cli::check_health(&addr).await,
            Err(err) => cli::fail(BINARY, err),
        },
        Command::Other(name, args) if name == "generate-key" => generate_key(&args),
        Command::Other(name, _) => cli::fail(
            BINARY,
            format!(
                "unknown command {name:?}; use serve, migrate, health [ADDR] or generate-key PATH"
            ),
        ),
    }
}

async fn serve() -> ExitCode {
    let config = match AuthConfig::from_env() {
        Ok(config) => config,
        Err(err) => return cli::fail(BINARY, err),
    };
    let listener = match server::bind(config.common.listen_addr).await {
        Ok(listener) => listener,
        Err(err) => return cli::fail(BINARY, err),
    };
    match auth_svc::app::run(config, listener, cli::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => cli::fail(BINARY, err),
    }
}

async fn migrate() -> ExitCode {
    let url = match config::required("DATABASE_URL") {
        Ok(url) => url,
        Err(err) => return cli::fail(BINARY, err),
    };
    match db::prepare(&url, &auth_svc::db::MIGRATIONS).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => cli::fail(BINARY, err),
    }
}

/// Writes a new Ed25519 key readable by its owner only; never overwrites.
fn generate_key(args: &[String]) -> ExitCode {
    let [path] = args else {
        return cli::fail(BINARY, "usage: auth-svc generate-key PATH");
    };
    let pem = match auth_svc::keys::generate_pem() {
        Ok(pem) => pem,
        Err(err) => return cli::fail(BINARY, err),
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(path)
        .and_then(|mut file| file.write_all(pem.as_bytes()));
    match written {
        Ok(()) => {
            eprintln!("{BINARY}: wrote a new Ed25519 signing key to {path}");
            ExitCode::SUCCESS
        }
        Err(err) => cli::fail(BINARY, format!("cannot write {path}: {err}")),
    }
}
