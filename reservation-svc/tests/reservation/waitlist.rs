//! The waitlist: a place in line, offers made when tables free (held under
//! the same exclusion constraint as bookings), offers by hand, answers,
//! lapses and expiry by the sweeper, each with its history and event.

use chrono::{DateTime, Utc};
use kursi_proto::reservation::v1::*;
use reservation_svc::sweeper::Sweeper;
use service_kit::clock::Clock;
use service_kit::outbox::Outbox;
use testkit::{SignedIn, bearer};
use tonic::Code;

use crate::combined::combine;
use crate::{Env, booking, contact, local, ts, violated_fields};

fn joining(party: i32, earliest: DateTime<Utc>, latest: DateTime<Utc>) -> JoinWaitlistRequest {
    JoinWaitlistRequest {
        customer_id: String::new(),
        customer_email: String::new(),
        contact_info: Some(contact()),
        party_size: Some(party),
        earliest_start_time: Some(ts(earliest)),
        latest_start_time: Some(ts(latest)),
        duration_minutes: None,
        note: String::new(),
    }
}

async fn join(env: &Env, who: &SignedIn, request: JoinWaitlistRequest) -> WaitlistEntry {
    env.client()
        .await
        .join_waitlist(bearer(&who.access_token, request))
        .await
        .expect("join")
        .into_inner()
        .entry
        .expect("entry")
}

async fn entry(env: &Env, id: &str) -> WaitlistEntry {
    env.client()
        .await
        .get_waitlist_entry(bearer(
            &env.staff.access_token,
            GetWaitlistEntryRequest {
                waitlist_entry_id: id.into(),
            },
        ))
        .await
        .expect("get entry")
        .into_inner()
        .entry
        .expect("entry")
}

fn state(e: &WaitlistEntry) -> WaitlistState {
    WaitlistState::try_from(e.state).unwrap()
}

async fn events(env: &Env, kind: &str, entry: &WaitlistEntry) -> i64 {
    env.count(&format!(
        "SELECT count(*) FROM outbox WHERE event_type = '{kind}' AND aggregate_id = '{}'",
        entry.waitlist_entry_id
    ))
    .await
}

async fn history(env: &Env, entry: &WaitlistEntry) -> Vec<String> {
    env.client()
        .await
        .get_waitlist_entry(bearer(
            &env.staff.access_token,
            GetWaitlistEntryRequest {
                waitlist_entry_id: entry.waitlist_entry_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .history
        .iter()
        .map(|h| {
            WaitlistAction::try_from(h.action)
                .unwrap()
                .as_str_name()
                .trim_start_matches("WAITLIST_ACTION_")
                .to_owned()
        })
        .collect()
}

/// A reservation on `table` at `start`, for two.
async fn seated(env: &Env, start: DateTime<Utc>, table: &Table) -> Reservation {
    let r = env.book(&env.staff, booking(start, 2)).await;
    env.client()
        .await
        .assign_table(combine(
            &env.staff.access_token,
            &r.reservation_id,
            &[&table.table_id],
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap()
}

async fn cancel(env: &Env, r: &Reservation) {
    env.client()
        .await
        .cancel_reservation(bearer(
            &env.staff.access_token,
            CancelReservationRequest {
                reservation_id: r.reservation_id.clone(),
                reason_code: CancellationReason::CustomerRequest as i32,
                description: String::new(),
            },
        ))
        .await
        .unwrap();
}

fn sweeper(env: &Env) -> Sweeper {
    Sweeper::new(
        Outbox::new(env.pool()),
        env.config.policy.clone(),
        env.config.common.clock.clone(),
    )
}

#[tokio::test]
async fn joining_gives_a_place_in_line_and_customers_see_only_their_own() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let (from, to) = (local(2, 18, 0), local(2, 20, 0));
    let mine = join(&env, &env.customer, joining(2, from, to)).await;
    assert_eq!(state(&mine), WaitlistState::Waiting);
    assert_eq!(mine.position, 1);
    assert_eq!(
        mine.customer_details.as_ref().unwrap().id,
        env.customer.user_id
    );
    // Staff add a walk-in (filed under their own account), then a caller
    // named by her account.
    let walk_in = join(&env, &env.staff, joining(3, from, to)).await;
    assert_eq!(walk_in.position, 2);
    let mut for_her = joining(4, from, to);
    for_her.customer_id = env.customer.user_id.clone();
    let hers = join(&env, &env.staff, for_her).await;
    assert_eq!(hers.position, 3);
    assert_eq!(
        hers.customer_details.as_ref().unwrap().id,
        env.customer.user_id
    );

    let list = |token: &str| {
        bearer(
            token,
            ListWaitlistRequest {
                date: mine.date.clone(),
                state: 0,
                customer_id: String::new(),
                page_size: 2,
                page_token: String::new(),
            },
        )
    };
    let own = client
        .list_waitlist(list(&env.customer.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.entries.len(), 2);
    let page = client
        .list_waitlist(list(&env.staff.access_token))
        .await
        .unwrap()
        .into_inner();
    let mut next = list(&env.staff.access_token);
    next.get_mut().page_token = page.next_page_token.clone();
    let rest = client.list_waitlist(next).await.unwrap().into_inner();
    let order: Vec<_> = page
        .entries
        .iter()
        .chain(&rest.entries)
        .map(|e| e.waitlist_entry_id.clone())
        .collect();
    assert_eq!(
        order,
        [&mine, &walk_in, &hers].map(|e| e.waitlist_entry_id.clone())
    );
    assert!(rest.next_page_token.is_empty());

    let other = env
        .auth
        .sign_up(kursi_proto::access::v1::Role::Customer)
        .await;
    let hidden = client
        .get_waitlist_entry(bearer(
            &other.access_token,
            GetWaitlistEntryRequest {
                waitlist_entry_id: mine.waitlist_entry_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let leave = |token: &str, id: &str| {
        bearer(
            token,
            LeaveWaitlistRequest {
                waitlist_entry_id: id.into(),
                note: "found another place".into(),
            },
        )
    };
    let err = client
        .leave_waitlist(leave(&other.access_token, &mine.waitlist_entry_id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let left = client
        .leave_waitlist(leave(&env.customer.access_token, &mine.waitlist_entry_id))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(state(&left), WaitlistState::Left);
    assert_eq!(left.position, 0);
    assert_eq!(entry(&env, &walk_in.waitlist_entry_id).await.position, 1);
    // Leaving again answers the entry as it is.
    let again = client
        .leave_waitlist(leave(&env.customer.access_token, &mine.waitlist_entry_id))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(again.version, left.version);
    assert_eq!(history(&env, &mine).await, ["JOINED", "LEFT"]);
    assert_eq!(events(&env, "waitlist_joined", &mine).await, 1);
    assert_eq!(events(&env, "waitlist_left", &mine).await, 1);
}

#[tokio::test]
async fn bad_input_names_its_field_and_writes_nothing() {
    let env = Env::start().await;
    let table = env.table("T4", 4, "Indoor").await;
    let mut client = env.client().await;
    let token = &env.customer.access_token;
    let (from, to) = (local(2, 18, 0), local(2, 20, 0));
    let cases: Vec<(JoinWaitlistRequest, &[&str])> = vec![
        (joining(2, to, from), &["latest_start_time"]),
        (joining(0, from, to), &["party_size"]),
        (joining(500, from, to), &["party_size"]),
        (
            joining(2, local(-1, 12, 0), local(-1, 13, 0)),
            &["latest_start_time"],
        ),
        (joining(2, from, local(3, 12, 0)), &["latest_start_time"]),
        (joining(2, local(2, 3, 0), to), &["earliest_start_time"]),
        (
            JoinWaitlistRequest {
                contact_info: None,
                earliest_start_time: None,
                ..joining(2, from, to)
            },
            &["contact_info", "earliest_start_time"],
        ),
    ];
    for (request, fields) in cases {
        let err = client
            .join_waitlist(bearer(token, request.clone()))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), fields, "{request:?}: {err:?}");
    }
    assert_eq!(env.count("SELECT count(*) FROM waitlist_entries").await, 0);

    // An offer by hand naming a table twice, or one that does not exist.
    let e = join(&env, &env.customer, joining(2, from, to)).await;
    assert_eq!(state(&e), WaitlistState::Offered, "T4 was free");
    let offer = |tables: Vec<String>| {
        bearer(
            &env.staff.access_token,
            OfferWaitlistSlotRequest {
                waitlist_entry_id: e.waitlist_entry_id.clone(),
                start_time: Some(ts(local(2, 15, 0))),
                table_ids: tables,
                note: String::new(),
            },
        )
    };
    let twice = client
        .offer_waitlist_slot(offer(vec![table.table_id.clone(), table.table_id.clone()]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&twice), ["table_ids"]);
    let none = client.offer_waitlist_slot(offer(vec![])).await.unwrap_err();
    assert_eq!(violated_fields(&none), ["table_ids"]);
    let unknown = client
        .offer_waitlist_slot(offer(vec![uuid::Uuid::now_v7().to_string()]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["table_ids"], "{unknown:?}");
}

/// T4 is held 12:00-13:30 by a booking; a party of six (nothing seats it)
/// and two parties of two wait for 11:30-12:30.
async fn a_full_noon(env: &Env) -> (Reservation, [WaitlistEntry; 3]) {
    let t4 = env.table("T4", 4, "Indoor").await;
    let booked = seated(env, local(2, 12, 0), &t4).await;
    let (from, to) = (local(2, 11, 30), local(2, 12, 30));
    let six = join(env, &env.staff, joining(6, from, to)).await;
    let first = join(env, &env.customer, joining(2, from, to)).await;
    let second = join(env, &env.staff, joining(2, from, to)).await;
    for waiting in [&six, &first, &second] {
        assert_eq!(state(waiting), WaitlistState::Waiting);
    }
    (booked, [six, first, second])
}

#[tokio::test]
async fn a_table_freed_by_a_cancellation_is_offered_to_the_first_entry_it_seats_and_held() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let (booked, [six, first, second]) = a_full_noon(&env).await;
    cancel(&env, &booked).await;

    let offered = entry(&env, &first.waitlist_entry_id).await;
    assert_eq!(state(&offered), WaitlistState::Offered);
    let offer = offered.offer.clone().unwrap();
    assert_eq!(offer.start_time, Some(ts(local(2, 11, 30))));
    assert_eq!(offer.tables[0].label, "T4");
    assert_eq!(offered.position, 2, "still in line, after the party of six");
    assert_eq!(
        state(&entry(&env, &six.waitlist_entry_id).await),
        WaitlistState::Waiting
    );
    assert_eq!(
        state(&entry(&env, &second.waitlist_entry_id).await),
        WaitlistState::Waiting
    );
    assert_eq!(events(&env, "waitlist_offered", &first).await, 1);
    assert_eq!(history(&env, &first).await, ["JOINED", "OFFERED"]);

    // The offered slot is held like a booking: no one else gets T4 then.
    let rival = env.book(&env.staff, booking(local(2, 12, 0), 2)).await;
    let err = client
        .assign_table(combine(
            &env.staff.access_token,
            &rival.reservation_id,
            &[&offer.tables[0].table_id],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let date = first.date.clone();
    let free = client
        .search_availability(bearer(
            &env.customer.access_token,
            SearchAvailabilityRequest {
                party_size: Some(2),
                date,
                duration_minutes: None,
                area: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        free.slots
            .iter()
            .all(|slot| slot.start_time != Some(ts(local(2, 12, 0)))),
        "T4 is not offered at noon while the offer stands"
    );
    // And by the database itself, whatever the code checks.
    let raw = env
        .db
        .client()
        .await
        .execute(
            "INSERT INTO table_holds (table_id, reservation_id, label, capacity, area, start_time, \
             end_time, holding, assigned_at) \
             SELECT table_id, $1::text::uuid, label, capacity, area, start_time, end_time, true, now() \
             FROM table_holds WHERE holding",
            &[&rival.reservation_id],
        )
        .await
        .unwrap_err();
    assert_eq!(
        raw.code(),
        Some(&tokio_postgres::error::SqlState::EXCLUSION_VIOLATION)
    );
}

#[tokio::test]
async fn an_offer_not_answered_in_time_lapses_to_the_next_in_line() {
    let (clock, hand) = Clock::adjustable();
    let env = Env::start_with(|config| config.common.clock = clock).await;
    let mut client = env.client().await;
    let (booked, [six, first, second]) = a_full_noon(&env).await;
    cancel(&env, &booked).await;
    assert_eq!(
        state(&entry(&env, &first.waitlist_entry_id).await),
        WaitlistState::Offered
    );

    let sweeper = sweeper(&env);
    assert_eq!(sweeper.sweep_waitlist().await.unwrap().lapsed, 0);
    hand.advance(chrono::Duration::minutes(16));
    assert_eq!(sweeper.sweep_waitlist().await.unwrap().lapsed, 1);

    let lapsed = entry(&env, &first.waitlist_entry_id).await;
    assert_eq!(state(&lapsed), WaitlistState::Lapsed);
    assert_eq!(lapsed.position, 0);
    let next = entry(&env, &second.waitlist_entry_id).await;
    assert_eq!(state(&next), WaitlistState::Offered);
    assert_eq!(
        state(&entry(&env, &six.waitlist_entry_id).await),
        WaitlistState::Waiting
    );
    assert_eq!(
        history(&env, &first).await,
        ["JOINED", "OFFERED", "OFFER_LAPSED"]
    );
    assert_eq!(events(&env, "waitlist_offer_lapsed", &first).await, 1);
    assert_eq!(events(&env, "waitlist_offered", &second).await, 1);
    // Too late to accept.
    let late = client
        .accept_waitlist_offer(bearer(
            &env.customer.access_token,
            AcceptWaitlistOfferRequest {
                waitlist_entry_id: first.waitlist_entry_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert_eq!(
        env.count("SELECT count(*) FROM table_holds WHERE holding")
            .await,
        1,
        "only the new offer holds T4"
    );
}

#[tokio::test]
async fn declining_passes_the_slot_on_and_accepting_books_it_confirmed() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let (booked, [_, first, second]) = a_full_noon(&env).await;
    cancel(&env, &booked).await;

    let declined = client
        .decline_waitlist_offer(bearer(
            &env.customer.access_token,
            DeclineWaitlistOfferRequest {
                waitlist_entry_id: first.waitlist_entry_id.clone(),
                note: "too early for us".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(state(&declined), WaitlistState::Declined);
    assert_eq!(events(&env, "waitlist_declined", &first).await, 1);
    let next = entry(&env, &second.waitlist_entry_id).await;
    assert_eq!(state(&next), WaitlistState::Offered);

    // A customer cannot answer someone else's offer.
    let err = client
        .accept_waitlist_offer(bearer(
            &env.customer.access_token,
            AcceptWaitlistOfferRequest {
                waitlist_entry_id: second.waitlist_entry_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let accepted = client
        .accept_waitlist_offer(bearer(
            &env.staff.access_token,
            AcceptWaitlistOfferRequest {
                waitlist_entry_id: second.waitlist_entry_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let (done, reservation) = (accepted.entry.unwrap(), accepted.reservation.unwrap());
    assert_eq!(state(&done), WaitlistState::Accepted);
    assert_eq!(done.reservation_id, reservation.reservation_id);
    // Off-peak, two guests: no deposit, so CONFIRMED at once, on T4.
    assert_eq!(reservation.status, ReservationStatus::Confirmed as i32);
    assert_eq!(reservation.tables[0].label, "T4");
    assert_eq!(reservation.table_area, "Indoor");
    assert_eq!(
        reservation.booking_info.unwrap().start_time,
        next.offer.unwrap().start_time
    );
    assert_eq!(events(&env, "waitlist_accepted", &second).await, 1);
    assert_eq!(
        env.count(&format!(
            "SELECT count(*) FROM outbox WHERE event_type = 'created' AND aggregate_id = '{}'",
            reservation.reservation_id
        ))
        .await,
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM table_holds WHERE holding")
            .await,
        1,
        "the reservation holds T4, the offer no longer"
    );
}

#[tokio::test]
async fn staff_offer_a_slot_by_hand_and_a_new_table_is_offered_at_once() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let (_, [six, first, second]) = a_full_noon(&env).await;
    let t4 = env
        .db
        .client()
        .await
        .query_one("SELECT id::text FROM restaurant_tables", &[])
        .await
        .unwrap()
        .get::<_, String>(0);
    let offer = |id: &str| {
        bearer(
            &env.staff.access_token,
            OfferWaitlistSlotRequest {
                waitlist_entry_id: id.into(),
                start_time: Some(ts(local(2, 15, 0))),
                table_ids: vec![t4.clone()],
                note: "three o'clock?".into(),
            },
        )
    };
    let offered = client
        .offer_waitlist_slot(offer(&first.waitlist_entry_id))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(state(&offered), WaitlistState::Offered);
    assert_eq!(offered.offer.unwrap().start_time, Some(ts(local(2, 15, 0))));
    // The same slot for someone else: taken. An offered entry again: refused.
    for id in [&second.waitlist_entry_id, &first.waitlist_entry_id] {
        let err = client.offer_waitlist_slot(offer(id)).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    }
    // Customers do not offer.
    let mut by_customer = offer(&second.waitlist_entry_id);
    by_customer.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", env.customer.access_token)
            .parse()
            .unwrap(),
    );
    assert_eq!(
        client
            .offer_waitlist_slot(by_customer)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // A new table that seats the party of six: offered to it at once.
    env.table("T8", 8, "Indoor").await;
    let six = entry(&env, &six.waitlist_entry_id).await;
    assert_eq!(state(&six), WaitlistState::Offered);
    assert_eq!(six.offer.unwrap().tables[0].label, "T8");
}

#[tokio::test]
async fn entries_of_a_day_that_has_passed_expire() {
    let env = Env::start().await;
    let e = join(
        &env,
        &env.customer,
        joining(2, local(2, 18, 0), local(2, 20, 0)),
    )
    .await;
    let sweeper = sweeper(&env);
    assert_eq!(sweeper.sweep_waitlist().await.unwrap().expired, 0);
    env.db
        .client()
        .await
        .execute(
            "UPDATE waitlist_entries SET day = day - 3, earliest_start = earliest_start - interval '3 days', \
             latest_start = latest_start - interval '3 days'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(sweeper.sweep_waitlist().await.unwrap().expired, 1);
    let expired = entry(&env, &e.waitlist_entry_id).await;
    assert_eq!(state(&expired), WaitlistState::Expired);
    assert_eq!(history(&env, &e).await, ["JOINED", "EXPIRED"]);
    assert_eq!(events(&env, "waitlist_expired", &e).await, 1);
    assert_eq!(sweeper.sweep_waitlist().await.unwrap().expired, 0);
}

/// Six tables freed at once by six cancellations while rivals race to
/// assign the same tables and eight parties wait: each table ends held by
/// exactly one holder (a rival or an offer), no entry holds two offers, and
/// nobody hears INTERNAL.
#[tokio::test]
async fn tables_freed_at_once_while_rivals_race_for_them_are_held_once_each() {
    let env = Env::start().await;
    let mut tables = Vec::new();
    let mut booked = Vec::new();
    let mut rivals = Vec::new();
    for i in 0..6 {
        let table = env.table(&format!("T{i}"), 2, "Indoor").await;
        booked.push(seated(&env, local(2, 12, 0), &table).await);
        rivals.push(env.book(&env.staff, booking(local(2, 12, 0), 2)).await);
        tables.push(table);
    }
    let mut entries = Vec::new();
    for _ in 0..8 {
        entries.push(
            join(
                &env,
                &env.customer,
                joining(2, local(2, 11, 30), local(2, 12, 30)),
            )
            .await,
        );
    }
    let mut tasks = Vec::new();
    for ((r, rival), table) in booked.iter().zip(&rivals).zip(&tables) {
        let (mut a, mut b) = (env.client().await, env.client().await);
        let token = env.staff.access_token.clone();
        let cancel = bearer(
            &token,
            CancelReservationRequest {
                reservation_id: r.reservation_id.clone(),
                reason_code: CancellationReason::RestaurantRequest as i32,
                description: String::new(),
            },
        );
        let assign = combine(&token, &rival.reservation_id, &[&table.table_id]);
        tasks.push(tokio::spawn(async move {
            a.cancel_reservation(cancel).await.map(drop)
        }));
        tasks.push(tokio::spawn(async move {
            b.assign_table(assign).await.map(drop)
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(match task.await.unwrap() {
            Ok(()) => Code::Ok,
            Err(status) => status.code(),
        });
    }
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Code::Ok | Code::FailedPrecondition | Code::Aborted)),
        "{codes:?}"
    );
    // Whatever a matching lost to a race, the sweeper's round offers.
    sweeper(&env).sweep_waitlist().await.unwrap();
    assert_eq!(
        env.count(
            "SELECT count(*) FROM table_holds a JOIN table_holds b \
             ON a.table_id = b.table_id AND a.id < b.id AND a.holding AND b.holding \
             AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)"
        )
        .await,
        0
    );
    assert_eq!(
        env.count("SELECT count(DISTINCT table_id) FROM table_holds WHERE holding")
            .await,
        6,
        "every freed table is held again, by a rival or an offer"
    );
    let mut offered = 0;
    for e in &entries {
        let e = entry(&env, &e.waitlist_entry_id).await;
        if state(&e) == WaitlistState::Offered {
            offered += 1;
            assert_eq!(e.offer.unwrap().tables.len(), 1);
        }
    }
    let seated_rivals = env
        .count("SELECT count(*) FROM table_holds WHERE holding AND reservation_id IS NOT NULL")
        .await;
    assert_eq!(offered + seated_rivals, 6, "{codes:?}");
}

#[tokio::test]
async fn other_bad_waitlist_and_reschedule_requests_are_invalid_never_internal() {
    let env = Env::start().await;
    let mut client = env.client().await;
    let staff = &env.staff.access_token;
    let e = join(
        &env,
        &env.customer,
        joining(2, local(2, 18, 0), local(2, 20, 0)),
    )
    .await;

    let err = client
        .get_waitlist_entry(bearer(
            staff,
            GetWaitlistEntryRequest {
                waitlist_entry_id: "entry-1".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["waitlist_entry_id"]);
    let err = client
        .accept_waitlist_offer(bearer(
            staff,
            AcceptWaitlistOfferRequest {
                waitlist_entry_id: uuid::Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // Accepting what was never offered names the state.
    let err = client
        .accept_waitlist_offer(bearer(
            staff,
            AcceptWaitlistOfferRequest {
                waitlist_entry_id: e.waitlist_entry_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("WAITING"), "{}", err.message());
    let err = client
        .decline_waitlist_offer(bearer(
            staff,
            DeclineWaitlistOfferRequest {
                waitlist_entry_id: e.waitlist_entry_id.clone(),
                note: "nul\u{0}".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["note"]);
    for (request, fields) in [
        (
            ListWaitlistRequest {
                date: "tomorrow".into(),
                state: 99,
                customer_id: "me".into(),
                page_size: -1,
                page_token: String::new(),
            },
            vec!["page_size"],
        ),
        (
            ListWaitlistRequest {
                date: "tomorrow".into(),
                state: 99,
                customer_id: "me".into(),
                page_size: 0,
                page_token: "%%%".into(),
            },
            vec!["date", "state", "customer_id", "page_token"],
        ),
        (
            ListWaitlistRequest {
                page_token: service_kit::pages::encode(&["2030-01-01", "not a time", "x"]),
                ..Default::default()
            },
            vec!["page_token"],
        ),
    ] {
        let err = client
            .list_waitlist(bearer(staff, request))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&err), fields, "{err:?}");
    }
    let err = client
        .offer_waitlist_slot(bearer(
            staff,
            OfferWaitlistSlotRequest {
                waitlist_entry_id: e.waitlist_entry_id.clone(),
                start_time: Some(ts(local(-1, 12, 0))),
                table_ids: vec!["t".into(); 9],
                note: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["start_time", "table_ids"]);
    let err = client
        .reschedule_reservation(bearer(
            staff,
            RescheduleReservationRequest {
                reservation_id: uuid::Uuid::now_v7().to_string(),
                version: 1,
                duration_minutes: Some(10_000),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["duration_minutes"]);
    let err = client
        .reschedule_reservation(bearer(
            staff,
            RescheduleReservationRequest {
                reservation_id: uuid::Uuid::now_v7().to_string(),
                version: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), ["start_time"], "nothing to move");
    let err = client
        .reschedule_reservation(bearer(
            staff,
            RescheduleReservationRequest {
                reservation_id: uuid::Uuid::now_v7().to_string(),
                version: 1,
                party_size: Some(3),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        env.count("SELECT count(*) FROM waitlist_history").await,
        1,
        "only the joining"
    );
}

#[tokio::test]
async fn a_no_show_marked_by_the_sweeper_frees_its_table_for_the_line() {
    let (clock, hand) = Clock::adjustable();
    let env = Env::start_with(|config| config.common.clock = clock).await;
    let t4 = env.table("T4", 4, "Indoor").await;
    let booked = seated(&env, local(2, 12, 0), &t4).await;
    env.client()
        .await
        .confirm_reservation(bearer(
            &env.staff.access_token,
            ConfirmReservationRequest {
                reservation_id: booked.reservation_id.clone(),
                note: String::new(),
            },
        ))
        .await
        .unwrap();
    let e = join(
        &env,
        &env.customer,
        joining(2, local(2, 12, 0), local(2, 13, 0)),
    )
    .await;
    assert_eq!(state(&e), WaitlistState::Waiting);

    // 12:20 that day: the party is 20 minutes late, past the 15 of grace.
    hand.advance(local(2, 12, 20) - env.config.common.clock.now());
    let swept = sweeper(&env).sweep().await.unwrap();
    assert_eq!(swept.no_shows, 1);
    let offered = entry(&env, &e.waitlist_entry_id).await;
    assert_eq!(state(&offered), WaitlistState::Offered);
    // The next start on the grid that is not past.
    assert_eq!(
        offered.offer.unwrap().start_time,
        Some(ts(local(2, 12, 30)))
    );
}
