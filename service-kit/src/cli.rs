//! The command line every service binary shares: `serve` (the default),
//! `migrate`, and `health [ADDR]` for readiness probes; a service may add its
//! own subcommands.

use std::process::ExitCode;
use std::time::Duration;

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
