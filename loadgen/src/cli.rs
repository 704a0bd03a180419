//! The command line: what to run, against what, for how long.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::scenario::Scenario;

/// The longest run accepted: a bench is bounded, whatever it is asked.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The most requests one run sends.
pub const MAX_REQUESTS: u64 = 10_000_000;

/// Runs one scenario against a local Kursi stack and reports requests per
/// second, latency percentiles and errors by code.
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    after_help = "The fault suite's load and checks: `loadgen faults --help` (scripts/faults runs them)."
)]
pub struct Args {
    /// What every request does.
    #[arg(value_enum)]
    pub scenario: Scenario,

    /// gRPC straight to the service, REST through the edge, or both one
    /// after the other on the same prepared data (and their ratio).
    #[arg(short, long, value_enum, default_value_t = Transport::Grpc)]
    pub transport: Transport,

    /// Requests in flight at once (one closed-loop worker each).
    #[arg(short, long, default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,

    /// How long to measure (`500ms`, `10s`, `2m`). Default 10s, or 10m as a
    /// cap when --requests is given; for seat-rush, which ends when sold
    /// out, only a cap (default 10m).
    #[arg(short, long, value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Stop after this many measured requests (per transport).
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..=MAX_REQUESTS))]
    pub requests: Option<u64>,

    /// Requests sent but not measured first, so connections and caches are
    /// warm (not for seat-rush: every order counts there).
    #[arg(short, long, default_value = "0s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// A request not answered within this counts as a TIMEOUT error.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// auth-svc's gRPC address (preparation and the login scenario).
    #[arg(long, env = "AUTH_GRPC_URL", default_value = "http://127.0.0.1:50051",
          value_parser = loopback_url)]
    pub auth_url: String,

    /// reservation-svc's gRPC address.
    #[arg(long, env = "RESERVATION_GRPC_URL", default_value = "http://127.0.0.1:50052",
          value_parser = loopback_url)]
    pub reservation_url: String,

    /// catalog-svc's gRPC address (the movie and showtimes of the order
    /// scenarios).
    #[arg(long, env = "CATALOG_GRPC_URL", default_value = "http://127.0.0.1:50053",
          value_parser = loopback_url)]
    pub catalog_url: String,

    /// order-svc's gRPC address.
    #[arg(long, env = "ORDER_GRPC_URL", default_value = "http://127.0.0.1:50054",
          value_parser = loopback_url)]
    pub order_url: String,

    /// The edge's HTTP address.
    #[arg(long, env = "EDGE_URL", default_value = "http://127.0.0.1:8080",
          value_parser = loopback_url)]
    pub edge_url: String,

    /// REST over HTTP/2 (h2c) instead of HTTP/1.1 with one connection per worker.
    #[arg(long)]
    pub http2: bool,

    /// The bootstrap admin, who promotes the staff account that creates
    /// tables, and schedules the showtimes of the order scenarios.
    #[arg(
        long,
        env = "BOOTSTRAP_ADMIN_EMAIL",
        default_value = "admin@kursi.local"
    )]
    pub admin_email: String,

    /// Its password; read from --admin-password-file when not given.
    #[arg(long, env = "BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Where `scripts/stack up` writes the admin's password.
    #[arg(long, default_value = ".kursi/admin-password")]
    pub admin_password_file: PathBuf,

    /// Customer accounts to spread the requests over.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub users: u16,

    /// Reservations each customer books before a read scenario.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub reservations_per_user: u16,

    /// Rows of each prepared showtime ("A" to "Z").
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=26))]
    pub rows: u32,

    /// Seats in each row of a prepared showtime.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub seats_per_row: u32,

    /// Tickets each seat-rush client orders at a time; default: 1, 2, 3,
    /// 1, … by client.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub quantity: Option<u32>,

    /// Also report the memory and CPU of this process during the run
    /// (repeatable); the load generator always reports its own.
    #[arg(long = "watch-pid")]
    pub watch_pids: Vec<u32>,

    /// Worker threads of the load generator's own runtime (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    Grpc,
    Rest,
    Both,
}

impl Args {
    /// The measuring window: asked for, else 10 s; with a request count and
    /// no duration, a 10-minute cap so the run still ends by itself. A seat
    /// rush ends when the showtime is sold out, so it too has only a cap.
    pub fn measure_for(&self) -> Duration {
        match (self.duration, self.requests) {
            (Some(duration), _) => duration,
            (None, Some(_)) => Duration::from_secs(600),
            (None, None) if self.scenario == Scenario::SeatRush => Duration::from_secs(600),
            (None, None) => Duration::from_secs(10),
        }
    }

    /// The admin's password, from the flag or environment, else the file.
    pub fn admin_password(&self) -> anyhow::Result<String> {
        if let Some(password) = &self.admin_password {
            return Ok(password.clone());
        }
        let text = std::fs::read_to_string(&self.admin_password_file).map_err(|err| {
            anyhow::anyhow!(
                "the {} scenario needs the bootstrap admin's password: pass \
                 --admin-password, set BOOTSTRAP_ADMIN_PASSWORD, or point \
                 --admin-password-file at it ({}: {err})",
                self.scenario.name(),
                self.admin_password_file.display()
            )
        })?;
        Ok(text.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `750ms`, `10s`, `2m` or a bare number of seconds, at most an hour.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 10s or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?}: use ms, s or m")),
    };
    if !seconds.is_finite() || seconds > MAX_DURATION.as_secs_f64() {
        return Err(format!("{text:?} is longer than an hour"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// An `http://` URL on this machine. Load goes to loopback addresses only:
/// anything else is refused before a request is sent.
pub fn loopback_url(text: &str) -> Result<String, String> {
    let uri: http::Uri = text
        .parse()
        .map_err(|err| format!("{text:?} is not a URL: {err}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{text:?}: only plain http:// is supported"));
    }
    let host = uri.host().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(format!(
            "{host:?} is not a loopback address: loadgen only targets this machine"
        ));
    }
    if uri.port_u16().is_none() {
        return Err(format!("{text:?}: give the port"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_ms_s_and_m() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("61m").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:50051",
            "http://127.3.2.1:8080/",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            loopback_url("http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        for refused in [
            "http://10.0.0.5:8080",
            "http://192.168.1.2:50051",
            "http://example.com:80",
            "https://127.0.0.1:8080",
            "http://127.0.0.1",
            "127.0.0.1:8080",
        ] {
            assert!(loopback_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn arguments_parse_with_defaults_and_bounds() {
        let args = Args::try_parse_from(["loadgen", "get-reservation"]).unwrap();
        assert_eq!(args.scenario, Scenario::GetReservation);
        assert_eq!(args.transport, Transport::Grpc);
        assert_eq!(args.concurrency, 16);
        assert_eq!(args.measure_for(), Duration::from_secs(10));

        let args = Args::try_parse_from([
            "loadgen",
            "login",
            "-t",
            "both",
            "-c",
            "64",
            "-n",
            "20",
            "--watch-pid",
            "1",
            "--watch-pid",
            "2",
            "--json",
        ])
        .unwrap();
        assert_eq!(args.transport, Transport::Both);
        assert_eq!(args.requests, Some(20));
        assert_eq!(args.measure_for(), Duration::from_secs(600));
        assert_eq!(args.watch_pids, vec![1, 2]);
        assert!(args.json);

        let args = Args::try_parse_from([
            "loadgen",
            "seat-rush",
            "--rows",
            "2",
            "--seats-per-row",
            "5",
            "--quantity",
            "3",
        ])
        .unwrap();
        assert_eq!((args.rows, args.seats_per_row), (2, 5));
        assert_eq!(args.quantity, Some(3));
        assert_eq!(args.measure_for(), Duration::from_secs(600), "a cap only");
        for refused in [
            ["--rows", "27"],
            ["--seats-per-row", "51"],
            ["--quantity", "0"],
            ["--quantity", "11"],
        ] {
            let argv = ["loadgen", "seat-rush", refused[0], refused[1]];
            assert!(Args::try_parse_from(argv).is_err(), "{refused:?}");
        }

        assert!(Args::try_parse_from(["loadgen", "teleport"]).is_err());
        assert!(Args::try_parse_from(["loadgen", "login", "-c", "0"]).is_err());
        assert!(Args::try_parse_from(["loadgen", "login", "-n", "0"]).is_err());
        assert!(
            Args::try_parse_from(["loadgen", "login", "--edge-url", "http://10.1.1.1:80"]).is_err()
        );
    }
}
