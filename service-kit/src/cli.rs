//! The command line every service binary shares: `serve` (the default),
//! `migrate`, and `health [ADDR]` for readiness probes; a service may add its
//! own subcommands.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// What the binary was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve,
    Migrate,
    /// Check the health of the server at this address (or LISTEN_ADDR).
    Health(Option<String>),
    /// A subcommand of the service's own, with its arguments.
    Other(String, Vec<String>),
}

impl Command {
    pub fn from_args() -> Self {
        Self::parse(std::env::args().skip(1).collect())
    }

    pub fn parse(mut args: Vec<String>) -> Self {
        if args.is_empty() {
            return Command::Serve;
        }
        let name = args.remove(0);
        match name.as_str() {
            "serve" => Command::Serve,
            "migrate" => Command::Migrate,
            "health" => Command::Health(args.into_iter().next()),
            _ => Command::Other(name, args),
        }
    }
}

/// What a service binary is: its name, default address and migrations.
pub struct Binary {
    pub name: &'static str,
    pub default_listen_addr: &'static str,
    pub migrations: &'static crate::db::Migrations,
}

/// A shutdown signal handed to a service's `run`.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

impl Binary {
    /// The whole `main` of a service: `serve` loads the configuration with
    /// `load` and runs `serve`; `migrate` and `health` are handled here;
    /// other subcommands go to `other`, which returns `None` for unknown ones.
    pub async fn main<C, Fut>(
        &self,
        load: impl FnOnce() -> Result<C, crate::config::ConfigError>,
        listen_addr: impl FnOnce(&C) -> SocketAddr,
        serve: impl FnOnce(C, TcpListener, Shutdown) -> Fut,
        other: impl FnOnce(&str, &[String]) -> Option<ExitCode>,
    ) -> ExitCode
    where
        Fut: Future<Output = Result<(), crate::server::ServeError>>,
    {
        crate::telemetry::init(self.name);
        match Command::from_args() {
            Command::Serve => {
                let config = match load() {
                    Ok(config) => config,
                    Err(err) => return fail(self.name, err),
                };
                let listener = match crate::server::bind(listen_addr(&config)).await {
                    Ok(listener) => listener,
                    Err(err) => return fail(self.name, err),
                };
                let served = serve(config, listener, Box::pin(shutdown_signal())).await;
                crate::telemetry::shutdown();
                match served {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(err) => fail(self.name, err),
                }
            }
            Command::Migrate => match crate::config::required("DATABASE_URL") {
                Ok(url) => match crate::db::prepare(&url, self.migrations).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(err) => fail(self.name, err),
                },
                Err(err) => fail(self.name, err),
            },
            Command::Health(addr) => {
                let addr = match addr {
                    Some(addr) => addr,
                    None => match crate::config::listen_addr_or(self.default_listen_addr) {
                        Ok(addr) => addr.to_string(),
                        Err(err) => return fail(self.name, err),
                    },
                };
                check_health(&addr).await
            }
            Command::Other(name, args) => other(&name, &args).unwrap_or_else(|| {
                fail(
                    self.name,
                    format!("unknown command {name:?}; use serve, migrate or health [ADDR]"),
                )
            }),
        }
    }
}

/// Asks the gRPC server at `addr` (`HOST:PORT` or a URL) whether it is
/// SERVING; exit code 0 when it is.
pub async fn check_health(addr: &str) -> ExitCode {
    let url = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    let result = async {
        let channel = tonic::transport::Endpoint::from_shared(url.clone())
            .map_err(|err| err.to_string())?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(3))
            .connect()
            .await
            .map_err(|err| err.to_string())?;
        let response = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map_err(|status| status.message().to_owned())?;
        Ok::<_, String>(response.into_inner().status)
    }
    .await;
    match result {
        Ok(status)
            if status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32 =>
        {
            ExitCode::SUCCESS
        }
        Ok(_) => {
            eprintln!("{url}: NOT_SERVING");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("{url}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Prints why the binary is stopping and turns it into a failing exit code.
pub fn fail(binary: &str, err: impl std::fmt::Display) -> ExitCode {
    eprintln!("{binary}: {err}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(Command::parse(vec![]), Command::Serve);
        assert_eq!(Command::parse(args(&["serve"])), Command::Serve);
    }

    #[test]
    fn subcommands_keep_their_arguments() {
        assert_eq!(Command::parse(args(&["migrate"])), Command::Migrate);
        assert_eq!(
            Command::parse(args(&["health", "127.0.0.1:1"])),
            Command::Health(Some("127.0.0.1:1".into()))
        );
        assert_eq!(
            Command::parse(args(&["generate-key", "k.pem"])),
            Command::Other("generate-key".into(), args(&["k.pem"]))
        );
    }
}
