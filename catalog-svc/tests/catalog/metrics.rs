//! catalog-svc's `/metrics` after real imports: how each ended and what it
//! did to the movies, counted exactly.

use testkit::metrics::{free_addr, sample, scrape};
use testkit::tmdb::{Fault, Route, Times};

use crate::Env;

#[tokio::test]
async fn imports_are_counted_by_how_they_ended_and_what_they_did() {
    let addr = free_addr().await;
    let env = Env::start_with(|config| config.common.metrics_addr = Some(addr)).await;
    let before = scrape(addr).await;

    env.import(1).await.unwrap();
    env.import(2).await.unwrap();
    env.tmdb
        .fail(Route::popular(1), Fault::Status(500), Times::Always);
    env.import(1).await.unwrap_err();

    let after = scrape(addr).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    let imports = |result: &str| {
        moved(
            "tmdb_imports_total",
            &[("trigger", "request"), ("result", result)],
        )
    };
    assert_eq!(imports("succeeded"), 2.0, "{after}");
    assert_eq!(imports("failed"), 1.0, "{after}");
    assert_eq!(imports("cancelled"), 0.0, "{after}");
    let movies = |change: &str| moved("tmdb_import_movies_total", &[("change", change)]);
    // One page made 20; two pages found those 20 unchanged and made 20 more.
    assert_eq!(movies("created"), 40.0, "{after}");
    assert_eq!(movies("unchanged"), 20.0, "{after}");
    assert_eq!(movies("updated"), 0.0, "{after}");
}
