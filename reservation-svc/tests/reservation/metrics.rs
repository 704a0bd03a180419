//! reservation-svc's `/metrics` after real work: the relay's progress and
//! backlog, and what the sweeper changed, counted exactly.

use std::time::Duration;

use kursi_proto::reservation::v1::*;
use service_kit::outbox::relay::RelayConfig;
use testkit::metrics::{free_addr, sample, scrape_until};
use testkit::{TestNats, bearer};

use crate::{Env, booking, local};

fn changes(text: &str, change: &str) -> f64 {
    sample(text, "sweeper_changes_total", &[("change", change)])
}

#[tokio::test]
async fn the_relay_and_the_sweeper_are_counted_exactly() {
    let nats = TestNats::start().await;
    let addr = free_addr().await;
    let url = nats.url();
    let env = Env::start_with(move |config| {
        config.common.metrics_addr = Some(addr);
        config.event_poll_interval = Duration::from_millis(50);
        config.relay = Some(RelayConfig {
            lease: Duration::from_secs(3),
            ..RelayConfig::new(url)
        });
        config.sweeper_interval = Duration::from_millis(100);
    })
    .await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let mut ids = Vec::new();
    for minute in [0, 15, 30] {
        ids.push(
            env.book(&env.customer, booking(local(2, 12, minute), 2))
                .await
                .reservation_id,
        );
    }
    for id in &ids[..2] {
        client
            .confirm_reservation(bearer(
                staff,
                ConfirmReservationRequest {
                    reservation_id: id.clone(),
                    note: String::new(),
                },
            ))
            .await
            .unwrap();
    }
    // Three created, two confirmed: five events, all published.
    let published = |text: &str| sample(text, "outbox_relay_published_total", &[]);
    let text = scrape_until(addr, |text| published(text) >= 5.0).await;
    assert_eq!(published(&text), 5.0, "{text}");
    assert_eq!(sample(&text, "outbox_relay_leading", &[]), 1.0);
    assert_eq!(sample(&text, "outbox_relay_failing", &[]), 0.0);
    assert_eq!(sample(&text, "outbox_relay_backlog_events", &[]), 0.0);
    assert_eq!(sample(&text, "outbox_relay_position", &[]), 5.0);
    assert_eq!(changes(&text, "no_show"), 0.0, "nothing overdue yet");

    // All three started an hour ago: the two confirmed are no-shows, the
    // pending one expires; three more events.
    env.db
        .client()
        .await
        .execute(
            "UPDATE reservations SET start_time = now() - interval '1 hour', \
             end_time = now() - interval '1 hour' + make_interval(mins => duration_minutes)",
            &[],
        )
        .await
        .unwrap();
    let text = scrape_until(addr, |text| {
        changes(text, "no_show") + changes(text, "reservation_expired") >= 3.0
            && published(text) >= 8.0
    })
    .await;
    assert_eq!(changes(&text, "no_show"), 2.0, "{text}");
    assert_eq!(changes(&text, "reservation_expired"), 1.0, "{text}");
    assert_eq!(published(&text), 8.0, "{text}");
    assert!(sample(&text, "sweeper_runs_total", &[("result", "ok")]) >= 1.0);
    assert_eq!(
        sample(&text, "sweeper_runs_total", &[("result", "failed")]),
        0.0
    );
}
