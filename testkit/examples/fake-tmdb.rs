//! The fake TheMovieDB the tests use, as a program: try the catalog's
//! import without a TheMovieDB account.
//!
//! ```sh
//! cargo run -p kursi-testkit --example fake-tmdb -- 8099 --rate-limit-popular 8
//! # then run catalog-svc with TMDB_BASE_URL=http://127.0.0.1:8099/3 TMDB_API_TOKEN=fake-tmdb
//! ```
//!
//! Arguments: the port (default 8099); `--rate-limit-popular SECS` answers
//! the first `/movie/popular` with 429 and `Retry-After: SECS`, as
//! TheMovieDB does when a client asks too fast.

#![allow(clippy::expect_used, clippy::print_stdout)]

use testkit::tmdb::{Catalog, FakeTmdb, Route, Times};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args
        .first()
        .filter(|a| !a.starts_with("--"))
        .map(|p| p.parse().expect("a port number"))
        .unwrap_or(8099);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free");
    let fake = FakeTmdb::serve(listener, Catalog::generated(60), "fake-tmdb".into());
    if let Some(at) = args.iter().position(|a| a == "--rate-limit-popular") {
        let secs = args
            .get(at + 1)
            .and_then(|s| s.parse().ok())
            .expect("--rate-limit-popular SECS");
        fake.rate_limit(Route::popular(1), secs, Times::Next(1));
    }
    println!(
        "fake TheMovieDB at TMDB_BASE_URL={} with TMDB_API_TOKEN={}",
        fake.url(),
        fake.token()
    );
    tokio::signal::ctrl_c().await.expect("ctrl-c");
}
