//! Staff book for a guest, naming her by account id or email: the account
//! must exist in auth-svc, and the reservation is hers. Customers book for
//! themselves.

use kursi_proto::access::v1::Role;
use kursi_proto::reservation::v1::*;
use testkit::{SignedIn, bearer};
use tonic::Code;

use crate::{Client, Env, assert_key_reused, booking, code, local};

/// A booking at `hh`:00 in two days that names its customer.
fn naming(hh: u32, customer_id: &str, customer_email: &str) -> CreateReservationRequest {
    CreateReservationRequest {
        customer_id: customer_id.into(),
        customer_email: customer_email.into(),
        ..booking(local(2, hh, 0), 2)
    }
}

async fn listed_by(client: &mut Client, who: &SignedIn) -> Vec<Reservation> {
    client
        .list_reservations(bearer(
            &who.access_token,
            ListReservationsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .reservations
}

const WRITTEN: &str = "SELECT (SELECT count(*) FROM reservations) + \
    (SELECT count(*) FROM reservation_history) + (SELECT count(*) FROM outbox)";

#[tokio::test]
async fn staff_book_for_a_signed_up_guest_by_email_or_id_and_she_sees_it() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let siti = env.auth.sign_up(Role::Customer).await;

    let by_email = env.book(&env.staff, naming(12, "", &siti.email)).await;
    let by_id = env.book(&env.staff, naming(13, &siti.user_id, "")).await;
    for booked in [&by_email, &by_id] {
        assert_eq!(
            booked.customer_details.as_ref().unwrap().id,
            siti.user_id,
            "filed under her account, not the staff member's"
        );
    }
    let hers: Vec<String> = listed_by(&mut client, &siti)
        .await
        .into_iter()
        .map(|r| r.reservation_id)
        .collect();
    assert_eq!(hers, [by_email.reservation_id, by_id.reservation_id]);
    assert!(listed_by(&mut client, &env.customer).await.is_empty());

    // The history says who booked it: the staff member.
    let history = client
        .get_reservation_history(bearer(
            &siti.access_token,
            GetReservationHistoryRequest {
                reservation_id: hers[0].clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(history[0].actor_id, env.staff.user_id);
}

#[tokio::test]
async fn a_staff_key_names_the_booking_for_the_guest_it_resolves_to() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let siti = env.auth.sign_up(Role::Customer).await;
    let keyed = |id: &str, email: &str| CreateReservationRequest {
        idempotency_key: "host-stand-7".into(),
        ..naming(12, id, email)
    };
    let first = env.book(&env.staff, keyed("", &siti.email)).await;
    // Named by id this time: the same guest, so the same booking.
    let again = env.book(&env.staff, keyed(&siti.user_id, "")).await;
    assert_eq!(again.reservation_id, first.reservation_id);
    // The key for another guest is another request.
    let refused = client
        .create_reservation(bearer(
            &env.staff.access_token,
            keyed(&env.customer.user_id, ""),
        ))
        .await
        .unwrap_err();
    assert_key_reused(&refused, "idempotency_key", "host-stand-7");
    assert_eq!(env.count("SELECT count(*) FROM reservations").await, 1);
}

#[tokio::test]
async fn an_account_that_does_not_exist_is_not_found_naming_the_field() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let nobody = uuid::Uuid::now_v7().to_string();
    for (request, field) in [
        (naming(12, &nobody, ""), "customer_id"),
        (naming(12, "", "nobody@example.com"), "customer_email"),
    ] {
        let status = client
            .create_reservation(bearer(&env.staff.access_token, request))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(
            status.message().starts_with(field),
            "{field}: {}",
            status.message()
        );
    }
    assert_eq!(env.count(WRITTEN).await, 0);
}

#[tokio::test]
async fn with_auth_svc_down_a_named_guest_is_unavailable_and_nothing_is_written() {
    let mut env = Env::start().await;
    let mut client = env.client().await;
    let siti = env.auth.sign_up(Role::Customer).await;
    // Both tokens are verified once, so their keys are cached when auth-svc goes.
    listed_by(&mut client, &env.staff).await;
    listed_by(&mut client, &siti).await;
    env.auth.server.stop_ref().await;

    for request in [naming(12, "", &siti.email), naming(12, &siti.user_id, "")] {
        let status = client
            .create_reservation(bearer(&env.staff.access_token, request))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert!(
            status.message().contains("nothing was written"),
            "{}",
            status.message()
        );
    }
    assert_eq!(env.count(WRITTEN).await, 0);

    // Booking for oneself asks auth-svc nothing, even naming oneself by id.
    env.book(&env.staff, booking(local(2, 12, 0), 2)).await;
    let own = env.book(&siti, naming(13, &siti.user_id, "")).await;
    assert_eq!(own.customer_details.unwrap().id, siti.user_id);
}

#[tokio::test]
async fn customers_name_nobody_but_themselves_and_never_by_email() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let siti = env.auth.sign_up(Role::Customer).await;
    let me = &env.customer;
    for request in [
        naming(12, &siti.user_id, ""),
        naming(12, "", &siti.email),
        // Her own email too: the email is for staff at the host stand.
        naming(12, "", &me.email),
    ] {
        let refused = client
            .create_reservation(bearer(&me.access_token, request))
            .await;
        assert_eq!(code(&refused), Code::PermissionDenied);
        assert!(
            refused.unwrap_err().message().contains("for themselves"),
            "customers book for themselves"
        );
    }
    assert_eq!(env.count(WRITTEN).await, 0);
}
