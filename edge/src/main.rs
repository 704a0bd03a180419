//! `edge [serve]`, `edge health [ADDR]`.

use std::process::ExitCode;
use std::time::Duration;

use edge::config::{DEFAULT_LISTEN_ADDR, EdgeConfig};
use service_kit::cli::{self, Command};
use service_kit::{config, server, telemetry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BINARY: &str = "edge";

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init(BINARY);
    match Command::from_args() {
        Command::Serve => serve().await,
        Command::Health(addr) => {
            match addr.map_or_else(
                || config::listen_addr_or(DEFAULT_LISTEN_ADDR).map(|a| a.to_string()),
                Ok,
            ) {
                Ok(addr) => check_health(&addr).await,
                Err(err) => cli::fail(BINARY, err),
            }
        }
        Command::Migrate => cli::fail(BINARY, "the edge has no database to migrate"),
        Command::Other(name, _) => cli::fail(
            BINARY,
            format!("unknown command {name:?}; use serve or health [ADDR]"),
        ),
    }
}

async fn serve() -> ExitCode {
    let config = match EdgeConfig::from_env() {
        Ok(config) => config,
        Err(err) => return cli::fail(BINARY, err),
    };
    let listener = match server::bind(config.listen_addr).await {
        Ok(listener) => listener,
        Err(err) => return cli::fail(BINARY, err),
    };
    let served = edge::app::run(config, listener, cli::shutdown_signal()).await;
    telemetry::shutdown();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => cli::fail(BINARY, err),
    }
}

/// `GET /healthz` over plain HTTP/1.1; success only on 200.
async fn check_health(addr: &str) -> ExitCode {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    match tokio::time::timeout(Duration::from_secs(5), probe).await {
        Ok(Ok(response)) if response.starts_with("HTTP/1.1 200") => ExitCode::SUCCESS,
        Ok(Ok(response)) => cli::fail(BINARY, response.lines().last().unwrap_or_default()),
        Ok(Err(err)) => cli::fail(BINARY, format!("{addr}: {err}")),
        Err(_) => cli::fail(BINARY, format!("{addr}: no answer within 5 seconds")),
    }
}
