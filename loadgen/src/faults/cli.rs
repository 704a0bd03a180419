//! `loadgen faults run|slow-clients …`: the command line scripts/faults
//! drives.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::cli::{loopback_url, parse_duration};

/// The fault suite's load, its slow clients and its data checks. scripts/faults
/// runs them against a stack of its own; RELIABILITY.md says what they show.
#[derive(Debug, Parser)]
#[command(name = "loadgen faults")]
pub struct FaultsArgs {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A steady load of reservations and orders through the edge until
    /// SIGTERM; then each fault window's failures against its promise, and
    /// the data checks. Exits non-zero when a promise or a check fails.
    Run(Box<RunArgs>),
    /// Hundreds of connections to the edge that send half a request and
    /// wait; reports which ones the edge let go of.
    SlowClients(SlowArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// auth-svc's gRPC address (preparation only).
    #[arg(long, env = "AUTH_GRPC_URL", value_parser = loopback_url)]
    pub auth_url: String,
    /// reservation-svc's gRPC address (preparation only).
    #[arg(long, env = "RESERVATION_GRPC_URL", value_parser = loopback_url)]
    pub reservation_url: String,
    /// catalog-svc's gRPC address (preparation only).
    #[arg(long, env = "CATALOG_GRPC_URL", value_parser = loopback_url)]
    pub catalog_url: String,
    /// The edge, which every request of the load goes through.
    #[arg(long, env = "EDGE_URL", value_parser = loopback_url)]
    pub edge_url: String,
    #[arg(
        long,
        env = "BOOTSTRAP_ADMIN_EMAIL",
        default_value = "admin@kursi.local"
    )]
    pub admin_email: String,
    #[arg(long, env = "BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
    /// The stack's PostgreSQL server (no database), for the checks.
    #[arg(long, value_parser = loopback_server)]
    pub database_url: String,
    /// The stack's NATS, for the checks.
    #[arg(long, value_parser = loopback_server)]
    pub nats_url: String,
    /// The fault windows file the script marks (see `faults::windows`).
    #[arg(long)]
    pub windows: PathBuf,
    /// Created once the data is prepared and the load runs.
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
    /// The report as JSON, written here too.
    #[arg(long)]
    pub json_report: Option<PathBuf>,
    /// What the report's first line says was run (date, commit, build).
    #[arg(long, default_value = "")]
    pub label: String,
    /// Clients, each running its journeys one request at a time.
    #[arg(short, long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Customer accounts the clients act as.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub customers: u16,
    /// One attempt not answered within this counts as a TIMEOUT.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// How long a client retries one request before giving its journey up.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub patience: Duration,
    /// The load stops by itself after this, whether or not it is told to.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub cap: Duration,
    /// How long the relays get to publish what waits in the outbox before
    /// the checks.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub drain: Duration,
}

#[derive(Debug, Args)]
pub struct SlowArgs {
    #[arg(long, env = "EDGE_URL", value_parser = loopback_url)]
    pub edge_url: String,
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u16).range(1..=5000))]
    pub connections: u16,
    /// How long to wait for the edge to let go of them.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub hold: Duration,
    /// Appends the outcome to this fault windows file, as `info` (every
    /// connection let go of) or `fail`.
    #[arg(long)]
    pub windows: Option<PathBuf>,
    #[arg(long, default_value = "slow-clients")]
    pub fault: String,
}

/// A `scheme://[user@]host:port` server on this machine (PostgreSQL, NATS):
/// the checks, like the load, only go to loopback addresses.
pub fn loopback_server(text: &str) -> Result<String, String> {
    let (_, rest) = text
        .split_once("://")
        .ok_or_else(|| format!("{text:?} is not a URL"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let hostport = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = hostport
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?}: give the port"))?;
    port.parse::<u16>()
        .map_err(|_| format!("{text:?}: {port:?} is not a port"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(format!("{host:?} is not a loopback address"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_must_be_on_this_machine() {
        for ok in [
            "postgres://postgres@127.0.0.1:24432",
            "nats://127.0.0.1:24222",
            "postgres://u:p@localhost:5432/db",
            "nats://[::1]:4222",
        ] {
            assert!(loopback_server(ok).is_ok(), "{ok}");
        }
        for refused in [
            "postgres://postgres@10.0.0.1:5432",
            "nats://example.com:4222",
            "127.0.0.1:4222",
            "nats://127.0.0.1",
        ] {
            assert!(loopback_server(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn run_takes_its_stack_and_files() {
        let args = FaultsArgs::try_parse_from([
            "loadgen faults",
            "run",
            "--auth-url=http://127.0.0.1:1",
            "--reservation-url=http://127.0.0.1:2",
            "--catalog-url=http://127.0.0.1:3",
            "--edge-url=http://127.0.0.1:4",
            "--admin-password=x",
            "--database-url=postgres://postgres@127.0.0.1:5",
            "--nats-url=nats://127.0.0.1:6",
            "--windows=/tmp/w",
            "-c",
            "4",
        ])
        .unwrap();
        let Command::Run(run) = args.command else {
            panic!("not run");
        };
        assert_eq!(run.concurrency, 4);
        assert_eq!(run.patience, Duration::from_secs(60));
    }
}
