//! order-svc's `/metrics` after real work: the orders the sweeper expired
//! and the events the relay published, counted exactly.

use std::time::Duration;

use testkit::metrics::{free_addr, sample, scrape_until};

use crate::{Env, Options, by_seats};

#[tokio::test]
async fn the_sweeper_and_the_relay_are_counted_exactly() {
    let addr = free_addr().await;
    let env = Env::start_with(Options { nats: true }, |config| {
        config.common.metrics_addr = Some(addr);
        config.sweep_interval = Duration::from_millis(100);
    })
    .await;
    let showtime = env.showtime(5, 8).await;
    for seats in [["A1", "A2"], ["B1", "B2"]] {
        env.order(&env.customer, by_seats(&showtime, &seats))
            .await
            .unwrap();
    }
    let published = |text: &str| sample(text, "outbox_relay_published_total", &[]);
    let expired = |text: &str| {
        sample(
            text,
            "sweeper_changes_total",
            &[("change", "order_expired")],
        )
    };
    let text = scrape_until(addr, |text| published(text) >= 2.0).await;
    assert_eq!(published(&text), 2.0, "two orders, two events: {text}");
    assert_eq!(expired(&text), 0.0, "nothing overdue yet");

    env.exec("UPDATE orders SET expire_at = now() - interval '1 second'")
        .await;
    let text = scrape_until(addr, |text| expired(text) >= 2.0 && published(text) >= 4.0).await;
    assert_eq!(expired(&text), 2.0, "{text}");
    assert_eq!(published(&text), 4.0, "{text}");
    assert_eq!(sample(&text, "outbox_relay_backlog_events", &[]), 0.0);
    assert_eq!(
        sample(&text, "sweeper_runs_total", &[("result", "failed")]),
        0.0
    );
}
