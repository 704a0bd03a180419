//! The slow-client flood: hundreds of connections to the edge, each sending
//! half a request and then nothing: half of them headers without their
//! final blank line, half a `Content-Length: 100` body with 10 bytes sent.
//! The edge should answer 408 or close each one within its header and body
//! timeouts (EDGE_HEADER_READ_TIMEOUT_SECONDS, EDGE_BODY_IDLE_TIMEOUT_SECONDS),
//! freeing its slot, while the normal load goes on.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

const HALF_HEADERS: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: kursi\r\nUser-Agent: loadgen-slow\r\n";
/// To a route anyone may call, so the edge reads the body before it can
/// answer (a route that needs a token is answered 401 at once).
const HALF_BODY: &[u8] = b"POST /api/login HTTP/1.1\r\nHost: kursi\r\n\
    Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"userna";

/// What became of one slow connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// The edge answered, with this status line's code.
    Answered(u16),
    /// The edge closed it without an answer.
    Closed,
    /// Still open when the flood ended.
    Held,
    /// No connection was made.
    NotConnected,
}

impl Fate {
    fn label(&self) -> String {
        match self {
            Self::Answered(status) => format!("answered {status}"),
            Self::Closed => "closed without an answer".into(),
            Self::Held => "still open at the end".into(),
            Self::NotConnected => "not connected".into(),
        }
    }
}

/// Opens `connections` slow connections to `addr` (`host:port`) and waits
/// at most `hold` for the edge to let go of each.
pub async fn flood(addr: &str, connections: usize, hold: Duration) -> BTreeMap<Fate, usize> {
    let deadline = Instant::now() + hold;
    let mut tasks = JoinSet::new();
    for n in 0..connections {
        let addr = addr.to_owned();
        let half = if n % 2 == 0 { HALF_HEADERS } else { HALF_BODY };
        tasks.spawn(async move { one(&addr, half, deadline).await });
    }
    let mut fates = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let fate = joined.unwrap_or(Fate::NotConnected);
        *fates.entry(fate).or_default() += 1;
    }
    fates
}

async fn one(addr: &str, half: &[u8], deadline: Instant) -> Fate {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return Fate::NotConnected;
    };
    if stream.write_all(half).await.is_err() {
        return Fate::Closed;
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Fate::Held,
            Ok(Ok(0)) | Ok(Err(_)) => {
                return status_of(&answer).map_or(Fate::Closed, Fate::Answered);
            }
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                if let Some(status) = status_of(&answer) {
                    return Fate::Answered(status);
                }
            }
        }
    }
}

/// The code of an HTTP/1.1 status line, once it has arrived whole.
fn status_of(answer: &[u8]) -> Option<u16> {
    let line_end = answer.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&answer[..line_end]).ok()?;
    line.split(' ').nth(1)?.parse().ok()
}

/// "500 connections: answered 408 250, closed without an answer 250".
pub fn describe(fates: &BTreeMap<Fate, usize>) -> String {
    let total: usize = fates.values().sum();
    let parts: Vec<String> = fates
        .iter()
        .map(|(f, n)| format!("{} {n}", f.label()))
        .collect();
    format!("{total} slow connections: {}", parts.join(", "))
}

/// The edge let go of every one of them, none with a 5xx.
pub fn freed(fates: &BTreeMap<Fate, usize>) -> bool {
    fates.keys().all(|fate| match fate {
        Fate::Answered(status) => *status < 500,
        Fate::Closed => true,
        Fate::Held | Fate::NotConnected => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_line_is_read_once_whole() {
        assert_eq!(status_of(b"HTTP/1.1 408 Request Timeout\r\n"), Some(408));
        assert_eq!(status_of(b"HTTP/1.1 40"), None);
        assert_eq!(status_of(b""), None);
    }

    #[test]
    fn the_edge_must_let_go_of_every_slow_client() {
        let mut fates = BTreeMap::new();
        fates.insert(Fate::Answered(408), 2);
        fates.insert(Fate::Closed, 1);
        assert!(freed(&fates));
        assert_eq!(
            describe(&fates),
            "3 slow connections: answered 408 2, closed without an answer 1"
        );
        fates.insert(Fate::Held, 1);
        assert!(!freed(&fates));
    }
}
