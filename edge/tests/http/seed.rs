//! The restaurant seed's whole walk through the edge, as its document shows
//! it with curl: `POST /api/token` with a form, then every
//! `/api/reservations…` route and `/api/stats` with `Authorization: Bearer`,
//! against a real auth-svc and reservation-svc.

use chrono::{Days, NaiveTime, Utc};
use kursi_proto::access::v1::Role;
use reservation_svc::config::ReservationConfig;
use serde_json::json;
use testkit::{ADMIN_PASSWORD, TestAuth, TestDb, service_config};
use tonic::Code;

use crate::support::{Edge, upstream};

/// Two days ahead at noon in Jakarta: open, off-peak, so no deposit.
fn start_time() -> String {
    let day = Utc::now().date_naive() + Days::new(2);
    let noon_in_jakarta = NaiveTime::from_hms_opt(5, 0, 0).unwrap();
    day.and_time(noon_in_jakarta)
        .and_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[tokio::test]
async fn the_seed_walk_runs_through_the_edge() {
    let auth = TestAuth::start().await;
    let db = TestDb::new("reservation", &reservation_svc::MIGRATIONS).await;
    let config = ReservationConfig::with_defaults(service_config(db.url(), &auth.url()));
    let reservation = testkit::spawn(move |l, s| reservation_svc::app::run(config, l, s)).await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("reservation", reservation.url()),
    ])
    .await;
    let customer = auth.sign_up(Role::Customer).await;

    // 4.1 POST /api/token, form-encoded, as the seed's curl sends it.
    let token = edge
        .post("/api/token")
        .form(&format!("username=admin&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .expect(200);
    assert_eq!(token["token_type"], "bearer");
    let bearer = token["access_token"].as_str().unwrap().to_owned();

    // Kursi keeps tables, so assign-table has one to give.
    let table = edge
        .post("/api/tables")
        .bearer(&bearer)
        .json(&json!({"label": "T1", "capacity": 4, "area": "Indoor"}))
        .send()
        .await
        .expect(200);
    let table_id = table["table_id"].as_str().unwrap().to_owned();

    // 4.2 POST /api/reservations with the seed's body.
    let booking = json!({
        "customer_id": customer.user_id,
        "contact_info": {"name": "Budi Santoso", "phone": "08123456789", "email": "budi@example.com"},
        "start_time": start_time(),
        "duration_minutes": 90,
    });
    let created = edge
        .post("/api/reservations")
        .bearer(&bearer)
        .json(&booking)
        .send()
        .await
        .expect(200);
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["customer_details"]["id"], customer.user_id.as_str());
    assert_eq!(created["customer_details"]["name"], "Budi Santoso");
    assert_eq!(created["booking_info"]["duration_minutes"], 90);
    assert_eq!(created["booking_info"]["is_peak_hour"], false);
    assert_eq!(created["payment_info"]["currency"], "IDR");
    let id = created["reservation_id"].as_str().unwrap().to_owned();
    let the = |suffix: &str| format!("/api/reservations/{id}{suffix}");

    // 4.3 GET /api/reservations/{reservation_id}
    let fetched = edge.get(&the("")).bearer(&bearer).send().await.expect(200);
    assert_eq!(fetched["reservation_id"], id.as_str());
    assert_eq!(fetched["booking_info"], created["booking_info"]);

    // 4.4 confirm, 4.5 assign-table with the seed's body.
    let confirmed = edge
        .post(&the("/confirm"))
        .bearer(&bearer)
        .send()
        .await
        .expect(200);
    assert_eq!(confirmed["status"], "CONFIRMED");
    let seated = edge
        .post(&the("/assign-table"))
        .bearer(&bearer)
        .json(&json!({"table_id": table_id, "capacity": 4, "area": "Indoor"}))
        .send()
        .await
        .expect(200);
    assert_eq!(seated["table_area"], "Indoor");

    // 4.7 GET /api/reservations with skip, limit and a status filter: an array.
    let listed = edge
        .get("/api/reservations?skip=0&limit=10&status=CONFIRMED")
        .bearer(&bearer)
        .send()
        .await
        .expect(200);
    let listed = listed.as_array().expect("a bare JSON array");
    assert!(listed.iter().any(|r| r["reservation_id"] == id.as_str()));
    assert!(listed.iter().all(|r| r["status"] == "CONFIRMED"));

    // 4.8 check-in, 4.9 complete.
    let arrived = edge
        .post(&the("/check-in"))
        .bearer(&bearer)
        .send()
        .await
        .expect(200);
    assert_eq!(arrived["status"], "CHECKED_IN");
    let done = edge
        .post(&the("/complete"))
        .bearer(&bearer)
        .send()
        .await
        .expect(200);
    assert_eq!(done["status"], "COMPLETED");

    // 4.6 cancel: a COMPLETED reservation cannot be cancelled; another can.
    let reason = json!({"reason_code": "CUSTOMER_REQUEST", "description": "changed plans"});
    edge.post(&the("/cancel"))
        .bearer(&bearer)
        .json(&reason)
        .send()
        .await
        .expect_error(400, Code::FailedPrecondition);
    let second = edge
        .post("/api/reservations")
        .bearer(&bearer)
        .json(&booking)
        .send()
        .await
        .expect(200);
    let cancelled = edge
        .post(&format!(
            "/api/reservations/{}/cancel",
            second["reservation_id"].as_str().unwrap()
        ))
        .bearer(&bearer)
        .json(&reason)
        .send()
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["cancellation"]["reason_code"], "CUSTOMER_REQUEST");
    assert_eq!(cancelled["cancellation"]["description"], "changed plans");

    // 4.10 GET /api/stats with the seed's field names.
    let stats = edge
        .get("/api/stats")
        .bearer(&bearer)
        .send()
        .await
        .expect(200);
    assert_eq!(stats["total_reservations"], 2);
    assert_eq!(stats["completed_count"], 1);
    assert_eq!(stats["cancelled_count"], 1);
    assert_eq!(stats["pending_count"], 0);
    assert_eq!(stats["total_revenue"], 0);
    assert!(stats["generated_at"].is_string(), "{stats}");

    // Without the token, every one of these is refused at the door.
    for path in [
        the(""),
        "/api/reservations".to_owned(),
        "/api/stats".to_owned(),
    ] {
        let reply = edge.get(&path).send().await;
        reply.expect_error(401, Code::Unauthenticated);
        assert!(reply.header("www-authenticate").is_some());
    }
}

/// The earlier FastAPI system took a start time without an offset as the
/// restaurant's; so does Kursi, for that field and no other.
#[tokio::test]
async fn a_start_time_without_an_offset_is_read_on_the_restaurants_clock() {
    let auth = TestAuth::start().await;
    let db = TestDb::new("reservation", &reservation_svc::MIGRATIONS).await;
    let config = ReservationConfig::with_defaults(service_config(db.url(), &auth.url()));
    let reservation = testkit::spawn(move |l, s| reservation_svc::app::run(config, l, s)).await;
    let edge = Edge::start(vec![
        upstream("auth", auth.url()),
        upstream("reservation", reservation.url()),
    ])
    .await;
    let customer = auth.sign_up(Role::Customer).await;
    let day = Utc::now().date_naive() + Days::new(2);
    let booking = |start: String| {
        json!({
            "contact_info": {"name": "Budi", "phone": "08123456789", "email": "budi@example.com"},
            "start_time": start,
        })
    };

    // 12:00 in Jakarta (UTC+7) is 05:00 UTC.
    let reply = edge
        .post("/api/reservations")
        .bearer(&customer.access_token)
        .json(&booking(format!("{day}T12:00:00")))
        .send()
        .await
        .expect(200);
    assert_eq!(
        reply["booking_info"]["start_time"],
        format!("{day}T05:00:00Z"),
        "{reply}"
    );
    // With an offset it means what it says.
    let reply = edge
        .post("/api/reservations")
        .bearer(&customer.access_token)
        .json(&booking(format!("{day}T13:00:00+07:00")))
        .send()
        .await
        .expect(200);
    assert_eq!(
        reply["booking_info"]["start_time"],
        format!("{day}T06:00:00Z")
    );
    // Every other timestamp stays strict.
    let strict = edge
        .get(&format!("/api/reservations?start_time_from={day}T00:00:00"))
        .bearer(&customer.access_token)
        .send()
        .await;
    assert_eq!(strict.status, 400, "{}", strict.text());
    assert!(
        strict.text().contains("start_time_from"),
        "{}",
        strict.text()
    );
}
