//! RedeemTicket at the door: staff admit a ticket once, to a showing that
//! takes place, from when its doors open until it ends.

use chrono::Duration;
use kursi_proto::order::v1::order_event::Event;
use kursi_proto::order::v1::*;
use order_svc::cancellations::Cancellations;
use service_kit::outbox::Outbox;
use tonic::Code;

use crate::{Env, Options, code, instant, kind, violated_fields};

#[tokio::test]
async fn staff_admit_a_ticket_once_and_the_second_time_hear_when_it_was() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 2, "PAY-1").await;
    let ticket = &paid.tickets[0];
    env.to_the_showing(&showtime);

    let admitted = env.redeem(&env.staff, &ticket.code).await.unwrap();
    let redeemed = admitted.ticket.clone().unwrap();
    assert_eq!(
        (redeemed.seat.as_str(), redeemed.code.as_str()),
        (ticket.seat.as_str(), ticket.code.as_str())
    );
    assert!(redeemed.redeem_time.is_some());
    assert_eq!(admitted.order_id, paid.order_id);
    assert_eq!(admitted.movie_title, "Pengabdi Setan 2");
    assert_eq!(admitted.auditorium, showtime.auditorium);
    assert_eq!(admitted.showtime_start_time, showtime.start_time);

    let at = instant(&redeemed.redeem_time).to_rfc3339();
    for who in [&env.staff, &env.admin] {
        let again = env.redeem(who, &ticket.code).await.unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition);
        assert!(
            again.message().contains("redeemed already") && again.message().contains(&at),
            "{again:?} should say {at}"
        );
    }
    // The order shows it; the other ticket still admits, to an admin too.
    let order = env.get(&env.customer, &paid.order_id).await.unwrap();
    assert_eq!(order.tickets[0].redeem_time, redeemed.redeem_time);
    assert_eq!(order.tickets[1].redeem_time, None);
    // A change of the order like any other: its version and update_time.
    assert_eq!(order.version, paid.version + 1);
    assert_eq!(order.update_time, redeemed.redeem_time);
    env.redeem(&env.admin, &paid.tickets[1].code).await.unwrap();
    let order = env.get(&env.customer, &paid.order_id).await.unwrap();
    assert_eq!(order.version, paid.version + 2);
}

#[tokio::test]
async fn customers_may_not_redeem_tickets_even_their_own() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    let refused = env.redeem(&env.customer, &paid.tickets[0].code).await;
    assert_eq!(code(&refused), Code::PermissionDenied);
    let order = env.get(&env.customer, &paid.order_id).await.unwrap();
    assert_eq!(order.tickets[0].redeem_time, None);
}

#[tokio::test]
async fn codes_are_read_in_any_case_unknown_ones_not_found_and_malformed_ones_invalid() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 1, "PAY-1").await;

    let unknown = "A".repeat(26);
    assert_eq!(
        code(&env.redeem(&env.staff, &unknown).await),
        Code::NotFound
    );
    for bad in [
        "",
        "nope",
        &"A".repeat(25),
        &"A".repeat(27),
        &"0".repeat(26),
        &"1".repeat(26),
        &format!("{}-", "A".repeat(25)),
    ] {
        let refused = env.redeem(&env.staff, bad).await.unwrap_err();
        assert_eq!(violated_fields(&refused), ["code"], "{bad:?}");
    }
    env.to_the_showing(&showtime);
    let lower = paid.tickets[0].code.to_lowercase();
    let admitted = env.redeem(&env.staff, &lower).await.unwrap();
    assert_eq!(admitted.ticket.unwrap().code, paid.tickets[0].code);
}

#[tokio::test]
async fn tickets_of_a_refunded_order_a_cancelled_or_an_ended_showtime_do_not_admit() {
    let env = Env::start().await;
    // Refunded: the catalog's cancellation, handled as its event would be.
    let called_off = env.showtime(5, 8).await;
    let refunded = env.paid(&called_off, 1, "PAY-1").await;
    let cancelled = env
        .cancel_showtime(&called_off, "the projector broke")
        .await;
    Cancellations::new(Outbox::new(env.pool()), env.config.common.clock.clone())
        .showtime_cancelled(&cancelled)
        .await
        .unwrap();
    let refused = env
        .redeem(&env.staff, &refunded.tickets[0].code)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("refunded"), "{refused:?}");

    // A showtime order-svc knows was cancelled, whatever its order says.
    let known = env.showtime(5, 8).await;
    let paid = env.paid(&known, 1, "PAY-2").await;
    env.exec(&format!(
        "UPDATE showtimes SET status = 'CANCELLED' WHERE id = '{}'",
        known.showtime_id
    ))
    .await;
    let refused = env
        .redeem(&env.staff, &paid.tickets[0].code)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("cancelled"), "{refused:?}");

    // A showing that has ended.
    let ended = env.showtime(5, 8).await;
    let paid = env.paid(&ended, 1, "PAY-3").await;
    env.exec(&format!(
        "UPDATE showtimes SET start_time = now() - interval '3 hours',
             end_time = now() - interval '1 hour' WHERE id = '{}'",
        ended.showtime_id
    ))
    .await;
    let refused = env
        .redeem(&env.staff, &paid.tickets[0].code)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("ended"), "{refused:?}");

    assert_eq!(
        env.count("SELECT count(*) FROM tickets WHERE redeemed_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'ticket_redeemed'")
            .await,
        0
    );
}

#[tokio::test]
async fn admitting_a_ticket_writes_a_ticket_redeemed_event_by_the_usher() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 2, "PAY-1").await;
    env.to_the_showing(&showtime);
    let admitted = env.redeem(&env.staff, &paid.tickets[1].code).await.unwrap();

    let events = env.events(0, 3).await;
    let kinds: Vec<&str> = events.iter().map(kind).collect();
    assert_eq!(kinds, ["created", "paid", "ticket_redeemed"]);
    let event = &events[2];
    assert_eq!(event.order_id, paid.order_id);
    assert_eq!(event.actor_id, env.staff.user_id);
    assert_eq!(event.status, OrderStatus::Paid as i32);
    assert_eq!(event.version, events[1].version + 1);
    let Some(Event::TicketRedeemed(redeemed)) = &event.event else {
        unreachable!()
    };
    assert_eq!(redeemed.seat, paid.tickets[1].seat);
    assert_eq!(redeemed.redeem_time, admitted.ticket.unwrap().redeem_time);
}

/// A refund in flight (its transaction holds the order, as the catalog's
/// cancellation does) and a redeem of one of the order's tickets: the
/// redeem waits for the refund and then refuses, rather than admitting a
/// ticket of an order that is being refunded.
#[tokio::test]
async fn a_ticket_whose_order_is_being_refunded_waits_and_does_not_admit() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    let refund = env.db.client().await;
    refund
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM orders WHERE id = '{}' FOR UPDATE",
            paid.order_id
        ))
        .await
        .unwrap();

    let redeem = tokio::spawn({
        let mut client = env.client().await;
        let request = testkit::bearer(
            &env.staff.access_token,
            RedeemTicketRequest {
                code: paid.tickets[0].code.clone(),
            },
        );
        async move { client.redeem_ticket(request).await }
    });
    // Until the redeem either waits on the order or has answered.
    crate::eventually("the redeem waits or answers", || async {
        let waiting = env
            .count(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await;
        (waiting > 0 || redeem.is_finished()).then_some(())
    })
    .await;
    refund
        .batch_execute(&format!(
            "UPDATE orders SET status = 'REFUNDED', closed_at = now(),
                 close_reason = 'the showtime was cancelled', version = version + 1
             WHERE id = '{}';
             COMMIT",
            paid.order_id
        ))
        .await
        .unwrap();
    let refused = redeem.await.unwrap().unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(refused.message().contains("refunded"), "{refused:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM tickets WHERE redeemed_at IS NOT NULL")
            .await,
        0
    );
}

/// A ticket for a showing tomorrow is not admitted today: from
/// DOORS_OPEN_MINUTES (30) before the start until the end, and the
/// refusals say when the doors open or when the showing ended, on the
/// cinema's clock. Nothing is written when refused.
#[tokio::test]
async fn a_ticket_admits_only_from_when_the_doors_open_until_the_showing_ends() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 2, "PAY-1").await;
    let (start, end) = (instant(&showtime.start_time), instant(&showtime.end_time));
    let jakarta = chrono_tz::Asia::Jakarta;
    let open = (start - Duration::minutes(30))
        .with_timezone(&jakarta)
        .to_rfc3339();
    assert!(open.ends_with("+07:00"), "{open}");
    let before = env.written().await;

    let code = &paid.tickets[0].code;
    let early = env.redeem(&env.staff, code).await.unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    assert!(
        early
            .message()
            .contains(&format!("the doors open at {open}")),
        "{early:?} should say {open}"
    );
    env.move_clock_to(start - Duration::minutes(31));
    let still_early = env.redeem(&env.staff, code).await.unwrap_err();
    assert_eq!(still_early.message(), early.message());
    assert_eq!(env.written().await, before, "nothing is written");

    env.move_clock_to(start - Duration::minutes(29));
    env.redeem(&env.staff, code).await.unwrap();

    env.move_clock_to(end + Duration::seconds(1));
    let late = env
        .redeem(&env.staff, &paid.tickets[1].code)
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition, "{late:?}");
    let ended = end.with_timezone(&jakarta).to_rfc3339();
    assert!(
        late.message()
            .contains(&format!("the showing ended at {ended}")),
        "{late:?} should say {ended}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM tickets WHERE redeemed_at IS NOT NULL")
            .await,
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE event_type = 'ticket_redeemed'")
            .await,
        1
    );
}

/// DOORS_OPEN_MINUTES and CINEMA_TIME_ZONE are settings.
#[tokio::test]
async fn the_doors_open_as_set_and_their_time_is_told_on_the_cinemas_clock() {
    let tokyo = chrono_tz::Asia::Tokyo;
    let env = Env::start_with(Options { nats: false }, |config| {
        config.doors_open = Duration::minutes(90);
        config.time_zone = tokyo;
    })
    .await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 1, "PAY-1").await;
    let start = instant(&showtime.start_time);
    let open = (start - Duration::minutes(90))
        .with_timezone(&tokyo)
        .to_rfc3339();
    assert!(open.ends_with("+09:00"), "{open}");
    let early = env
        .redeem(&env.staff, &paid.tickets[0].code)
        .await
        .unwrap_err();
    assert!(
        early
            .message()
            .contains(&format!("the doors open at {open} (90 minutes before")),
        "{early:?}"
    );
    env.move_clock_to(start - Duration::minutes(80));
    env.redeem(&env.staff, &paid.tickets[0].code).await.unwrap();
}
