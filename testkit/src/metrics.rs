//! Reading a process's `/metrics` in tests: a free port to serve it on, and
//! the value of one sample.

use std::net::SocketAddr;

/// A loopback port nothing listens on right now, for `METRICS_ADDR`.
pub async fn free_addr() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("addr")
}

/// `GET /metrics` of `addr`, as text; waits a moment for the server to be up.
pub async fn scrape(addr: SocketAddr) -> String {
    let url = format!("http://{addr}/metrics");
    for _ in 0..100 {
        if let Ok(text) = get(addr).await {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("nothing served {url}");
}

/// Scrapes `addr` until `done` holds for the text (what background work
/// such as a relay or a sweeper counts arrives a moment later); the text then.
pub async fn scrape_until(addr: SocketAddr, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..400 {
        let text = scrape(addr).await;
        if done(&text) {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the metrics never got there:\n{}", scrape(addr).await);
}

async fn get(addr: SocketAddr) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    match answer.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_owned()),
        _ => Err(std::io::Error::other(format!("not a 200: {answer:.200}"))),
    }
}

/// The value of the sample `name{labels}` (labels in any order, all of
/// them given); 0 when there is none.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let found: Vec<(&str, &str)> = label_text
                .split(',')
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    Some((key, value.trim_matches('"')))
                })
                .collect();
            let all = labels.len() == found.len() && labels.iter().all(|l| found.contains(l));
            all.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn samples_are_found_by_name_and_labels() {
        let text =
            "# TYPE x_total counter\nx_total{a=\"1\",b=\"2\"} 3\nx_total{a=\"1\",b=\"3\"} 4\ny 5\n";
        assert_eq!(
            super::sample(text, "x_total", &[("b", "2"), ("a", "1")]),
            3.0
        );
        assert_eq!(super::sample(text, "x_total", &[("a", "1")]), 0.0);
        assert_eq!(super::sample(text, "y", &[]), 5.0);
    }
}
