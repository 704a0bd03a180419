//! RedeemTicket at the door: staff admit a ticket once, to a showing that
//! takes place.

use kursi_proto::order::v1::order_event::Event;
use kursi_proto::order::v1::*;
use order_svc::cancellations::Cancellations;
use service_kit::outbox::Outbox;
use tonic::Code;

use crate::{Env, code, instant, kind, violated_fields};

#[tokio::test]
async fn staff_admit_a_ticket_once_and_the_second_time_hear_when_it_was() {
    let env = Env::start().await;
    let showtime = env.showtime(5, 8).await;
    let paid = env.paid(&showtime, 2, "PAY-1").await;
    let ticket = &paid.tickets[0];

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
