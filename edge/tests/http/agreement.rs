//! The contracts declare what each request field accepts
//! (`google.api.field_behavior` REQUIRED, `kursi.field.v1.rules`); the
//! OpenAPI document tells callers so, and the services enforce it by hand
//! in their `api/parse.rs` and value objects. This test holds the two to
//! each other, for every request message of every Kursi service: from a
//! valid baseline request per method, it breaks one declared rule at a time
//! and expects INVALID_ARGUMENT naming that field, and sends the values at
//! each declared bound and expects no refusal naming the field (a NOT_FOUND
//! for an id nobody has is fine). A method whose request declares rules but
//! has no baseline here fails the test, so a new contract cannot skip it.

use std::collections::BTreeMap;

use bytes::Bytes;
use edge::field_rules::{Declared, FieldRules, Format};
use kursi_proto::access::v1::Role;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MethodDescriptor};
use serde_json::{Value, json};
use testkit::raw::RawCodec;
use testkit::{TestAuth, TestDb, bearer, service_config, spawn};
use tonic::transport::Channel;

/// A UUID nobody has: ids in baselines are well-formed and name nothing.
const NOBODY: &str = "0192f0c1-7c4e-7b7a-9c1e-2f8e5d6a4b3c";

/// A valid request for every method whose request declares rules, as proto
/// JSON; several, as an array, where fields depend on one another: a value
/// on a bound is then to be accepted with one of them, a violation refused
/// with each. Times are computed from now: a start tomorrow at noon in Jakarta
/// (the restaurant's and the cinema's default clock) is open, bookable and
/// schedulable.
fn baselines() -> BTreeMap<&'static str, Value> {
    let tomorrow =
        (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive() + chrono::Duration::days(1);
    let noon = format!("{tomorrow}T05:00:00Z");
    let day = tomorrow.to_string();
    let contact = json!({"name": "Siti", "phone": "+62 812-3456-789", "email": "siti@example.com"});
    let movie = json!({"title": "Agak Laen", "genres": ["Comedy"], "duration_minutes": 119,
        "overview": "Empat sekawan.", "release_date": "2024-02-01",
        "poster_url": "https://image.example/p.jpg", "tmdb_id": 0});
    let mut update = movie.clone();
    update["movie_id"] = json!(NOBODY);
    let id = |name: &str| json!({ name: NOBODY });
    let with_note = |name: &str| json!({ name: NOBODY, "note": "ok" });
    BTreeMap::from([
        // auth-svc
        (
            "kursi.auth.v1.AuthService.Register",
            json!({"email": "agree@example.com",
            "password": "a good password", "display_name": "Agree", "username": "agree"}),
        ),
        (
            "kursi.auth.v1.AuthService.Login",
            json!({"username": "nobody@example.com",
            "password": "not the password", "grant_type": "password"}),
        ),
        (
            "kursi.auth.v1.AuthService.RefreshToken",
            json!({"refresh_token": "not-a-token"}),
        ),
        (
            "kursi.auth.v1.AuthService.Logout",
            json!({"refresh_token": "not-a-token"}),
        ),
        (
            "kursi.auth.v1.AuthService.ListUsers",
            json!({"page_size": 10}),
        ),
        ("kursi.auth.v1.AuthService.GetUser", id("user_id")),
        (
            "kursi.auth.v1.AuthService.LookupUser",
            json!({"email": "nobody@example.com"}),
        ),
        (
            "kursi.auth.v1.AuthService.SetUserRole",
            json!({"user_id": NOBODY, "role": "ROLE_STAFF"}),
        ),
        // catalog-svc
        ("kursi.catalog.v1.CatalogService.CreateMovie", movie),
        ("kursi.catalog.v1.CatalogService.GetMovie", id("movie_id")),
        (
            "kursi.catalog.v1.CatalogService.ListMovies",
            json!({"page_size": 5, "query": "laen", "genre": "Comedy"}),
        ),
        ("kursi.catalog.v1.CatalogService.UpdateMovie", update),
        (
            "kursi.catalog.v1.CatalogService.DeleteMovie",
            id("movie_id"),
        ),
        (
            "kursi.catalog.v1.CatalogService.ImportMovies",
            json!({"page_count": 1}),
        ),
        (
            "kursi.catalog.v1.CatalogService.CreateShowtime",
            json!({"movie_id": NOBODY,
            "auditorium": "Studio 1", "start_time": noon, "price": 50000,
            "seat_layout": {"rows": 5, "seats_per_row": 8}}),
        ),
        (
            "kursi.catalog.v1.CatalogService.GetShowtime",
            id("showtime_id"),
        ),
        (
            "kursi.catalog.v1.CatalogService.ListShowtimes",
            json!({"page_size": 5, "movie_id": NOBODY, "date": day}),
        ),
        (
            "kursi.catalog.v1.CatalogService.CancelShowtime",
            json!({"showtime_id": NOBODY, "reason": "rain"}),
        ),
        (
            "kursi.catalog.v1.CatalogService.WatchCatalogEvents",
            json!({"start_position": 0}),
        ),
        // google.longrunning.Operations, as catalog-svc serves it
        (
            "google.longrunning.Operations.ListOperations",
            json!({"name": "operations",
            "filter": "done=true", "page_size": 5}),
        ),
        (
            "google.longrunning.Operations.GetOperation",
            json!({"name": format!("operations/{NOBODY}")}),
        ),
        (
            "google.longrunning.Operations.WaitOperation",
            json!({"name": format!("operations/{NOBODY}"),
            "timeout": "0.1s"}),
        ),
        (
            "google.longrunning.Operations.CancelOperation",
            json!({"name": format!("operations/{NOBODY}")}),
        ),
        (
            "google.longrunning.Operations.DeleteOperation",
            json!({"name": format!("operations/{NOBODY}")}),
        ),
        // order-svc
        // Two baselines: a quantity of tickets, or seats with quantity 0
        // ("as many as the seats"), where a quantity must be their number.
        (
            "kursi.order.v1.OrderService.CreateOrder",
            json!([
                {"showtime_id": NOBODY, "quantity": 2, "idempotency_key": "agree-1"},
                {"showtime_id": NOBODY, "quantity": 0, "seats": ["C5", "C6"], "idempotency_key": "agree-2"},
            ]),
        ),
        ("kursi.order.v1.OrderService.GetOrder", id("order_id")),
        (
            "kursi.order.v1.OrderService.ListOrders",
            json!({"page_size": 5, "showtime_id": NOBODY, "customer_id": NOBODY}),
        ),
        (
            "kursi.order.v1.OrderService.PayOrder",
            json!({"order_id": NOBODY, "payment_reference": "QRIS-1"}),
        ),
        (
            "kursi.order.v1.OrderService.CancelOrder",
            json!({"order_id": NOBODY, "reason": "changed mind"}),
        ),
        ("kursi.order.v1.OrderService.GetSeatMap", id("showtime_id")),
        (
            "kursi.order.v1.OrderService.RedeemTicket",
            json!({"code": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}),
        ),
        (
            "kursi.order.v1.OrderService.WatchOrderEvents",
            json!({"start_position": 0}),
        ),
        // reservation-svc
        (
            "kursi.reservation.v1.ReservationService.CreateTable",
            json!({"label": "T1", "capacity": 4, "area": "Indoor"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.ListTables",
            json!({"page_size": 5, "area": "Indoor"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.UpdateTable",
            json!({"table_id": NOBODY,
            "label": "T2", "capacity": 2, "area": "Outdoor", "active": true}),
        ),
        (
            "kursi.reservation.v1.ReservationService.DeactivateTable",
            id("table_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.CreateReservation",
            json!({"contact_info": contact,
            "party_size": 2, "start_time": noon, "duration_minutes": 90, "note": "window seat",
            "idempotency_key": "agree-1"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.GetReservation",
            id("reservation_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.ListReservations",
            json!({"skip": 0, "limit": 10,
            "customer_id": NOBODY}),
        ),
        (
            "kursi.reservation.v1.ReservationService.GetReservationHistory",
            id("reservation_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.ConfirmReservation",
            with_note("reservation_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.AssignTable",
            json!({"reservation_id": NOBODY,
            "table_id": NOBODY, "capacity": 0, "note": "ok"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.GetWaitlistEntry",
            id("waitlist_entry_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.AcceptWaitlistOffer",
            id("waitlist_entry_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.LeaveWaitlist",
            with_note("waitlist_entry_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.DeclineWaitlistOffer",
            with_note("waitlist_entry_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.OfferWaitlistSlot",
            json!({"waitlist_entry_id": NOBODY, "start_time": noon,
            "table_ids": [NOBODY], "note": "ok"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.ListWaitlist",
            json!({"date": day, "customer_id": NOBODY, "page_size": 5}),
        ),
        (
            "kursi.reservation.v1.ReservationService.RescheduleReservation",
            json!({"reservation_id": NOBODY, "version": 1, "start_time": noon,
            "duration_minutes": 90, "party_size": 2, "note": "ok"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.JoinWaitlist",
            json!({"contact_info": contact, "party_size": 2,
            "earliest_start_time": noon, "latest_start_time": format!("{tomorrow}T06:00:00Z"),
            "duration_minutes": 90, "note": "ok"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.CheckInReservation",
            with_note("reservation_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.CompleteReservation",
            with_note("reservation_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.CancelReservation",
            json!({"reservation_id": NOBODY,
            "reason_code": "CANCELLATION_REASON_CUSTOMER_REQUEST", "description": "flu"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.MarkNoShow",
            with_note("reservation_id"),
        ),
        (
            "kursi.reservation.v1.ReservationService.PayDeposit",
            json!({"reservation_id": NOBODY,
            "payment_reference": "QRIS-1", "amount": 100000}),
        ),
        (
            "kursi.reservation.v1.ReservationService.SearchAvailability",
            json!({"party_size": 2,
            "date": day, "duration_minutes": 90, "area": "Indoor"}),
        ),
        (
            "kursi.reservation.v1.ReservationService.WatchReservationEvents",
            json!({"start_position": 0,
            "reservation_id": NOBODY}),
        ),
    ])
}

#[tokio::test]
async fn the_services_refuse_exactly_what_the_contracts_declare() {
    let pool = DescriptorPool::decode(kursi_proto::FILE_DESCRIPTOR_SET).unwrap();
    let stack = Stack::start().await;
    let baselines = baselines();
    let mut disagreements = Vec::new();
    let mut probes = 0;
    let mut covered = std::collections::BTreeSet::new();
    for service in pool.services() {
        for method in service.methods() {
            if upstream_of(&pool, &method).is_none() {
                continue;
            }
            let mut declared = Vec::new();
            declared_fields(&method.input(), "", &mut declared, 0);
            if declared.is_empty() {
                continue;
            }
            let Some(baselines) = baselines.get(method.full_name()) else {
                disagreements.push(format!(
                    "{}: its request declares rules but the test has no baseline for it",
                    method.full_name()
                ));
                continue;
            };
            covered.insert(service.full_name().to_owned());
            let baselines = match baselines {
                Value::Array(several) => several.clone(),
                one => vec![one.clone()],
            };
            for baseline in &baselines {
                // The baseline itself is refused for nothing.
                if let Err(status) = stack.call(&method, baseline).await
                    && status.code() == tonic::Code::InvalidArgument
                {
                    disagreements.push(format!(
                        "{}: the baseline {baseline} is refused: {status:?}",
                        method.full_name()
                    ));
                }
            }
            for (path, field, rules) in &declared {
                // The same probes from each baseline, side by side.
                let per_baseline: Vec<Vec<Probe>> = baselines
                    .iter()
                    .map(|baseline| probes_of(path, field, rules, baseline))
                    .collect();
                for i in 0..per_baseline[0].len() {
                    let mut answers = Vec::new();
                    for probes_of_one in &per_baseline {
                        probes += 1;
                        let result = stack.call(&method, &probes_of_one[i].request).await;
                        let named = match &result {
                            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                                testkit::violated_fields(status)
                                    .iter()
                                    .any(|f| names(f, path))
                            }
                            _ => false,
                        };
                        answers.push((named, result.err()));
                    }
                    let probe = &per_baseline[0][i];
                    let agrees = if probe.refused {
                        answers.iter().all(|(named, _)| *named)
                    } else {
                        answers.iter().any(|(named, _)| !*named)
                    };
                    if !agrees {
                        disagreements.push(format!(
                            "{} {path}: {} was {} ({:?})",
                            method.full_name(),
                            probe.what,
                            if probe.refused {
                                "not refused"
                            } else {
                                "refused"
                            },
                            answers.into_iter().map(|(_, e)| e).collect::<Vec<_>>()
                        ));
                    }
                }
            }
        }
    }
    assert!(probes > 200, "only {probes} probes");
    assert_eq!(
        covered.into_iter().collect::<Vec<_>>(),
        [
            "google.longrunning.Operations",
            "kursi.auth.v1.AuthService",
            "kursi.catalog.v1.CatalogService",
            "kursi.order.v1.OrderService",
            "kursi.reservation.v1.ReservationService",
        ]
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s) between the contracts and the services:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// The package of the Kursi service that serves `method`: its own, or for
/// a vendored method the package of the Kursi file declaring it
/// (`kursi.access.v1.external_method`); `None` for what Kursi does not serve.
fn upstream_of(pool: &DescriptorPool, method: &MethodDescriptor) -> Option<String> {
    let package = method.parent_service().package_name().to_owned();
    if package.starts_with("kursi.") {
        return Some(package);
    }
    let extension = pool.get_extension_by_name("kursi.access.v1.external_method")?;
    pool.files().find_map(|file| {
        let options = file.options();
        if !options.has_extension(&extension) {
            return None;
        }
        let prost_reflect::Value::List(entries) = options.get_extension(&extension).into_owned()
        else {
            return None;
        };
        entries
            .iter()
            .filter_map(|e| e.as_message())
            .any(|e| {
                e.get_field_by_name("selector")
                    .is_some_and(|s| s.as_str() == Some(method.full_name()))
            })
            .then(|| file.package_name().to_owned())
    })
}

/// A violation naming `field` (or an item or field inside it) names `path`.
fn names(field: &str, path: &str) -> bool {
    field == path
        || field
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
}

/// Every field of `message` (and of its singular message fields) that
/// declares something a request can break, with its dotted path.
fn declared_fields(
    message: &prost_reflect::MessageDescriptor,
    prefix: &str,
    out: &mut Vec<(String, FieldDescriptor, Declared)>,
    depth: usize,
) {
    for field in message.fields() {
        let path = if prefix.is_empty() {
            field.name().to_owned()
        } else {
            format!("{prefix}.{}", field.name())
        };
        let declared = Declared::of(&field);
        if declared.constrains_input() {
            out.push((path.clone(), field.clone(), declared));
        }
        if let Kind::Message(nested) = field.kind()
            && !field.is_list()
            && !field.is_map()
            && depth < 3
            && !nested.full_name().starts_with("google.protobuf.")
        {
            declared_fields(&nested, &path, out, depth + 1);
        }
    }
}

/// One request that breaks a rule (`refused`) or sits on a bound.
struct Probe {
    what: String,
    request: Value,
    refused: bool,
}

fn probes_of(
    path: &str,
    field: &FieldDescriptor,
    declared: &Declared,
    baseline: &Value,
) -> Vec<Probe> {
    let rules = &declared.rules;
    let mut out = Vec::new();
    let mut probe = |what: String, value: Option<Value>, refused: bool| {
        let mut request = baseline.clone();
        set(&mut request, path, value);
        out.push(Probe {
            what,
            request,
            refused,
        });
    };
    if declared.required {
        probe("left out".into(), None, true);
    }
    let list = field.is_list();
    let one = |value: Value| if list { json!([value]) } else { value };
    let kind = field.kind();
    match kind {
        Kind::String => {
            if let Some(bad) = bad_format(rules.format()) {
                probe(
                    format!("{bad:?} ({:?})", rules.format()),
                    Some(one(json!(bad))),
                    true,
                );
            }
            if !rules.pattern.is_empty() {
                let bad = off_pattern(rules);
                probe(
                    format!("{bad:?} (off its pattern)"),
                    Some(one(json!(bad))),
                    true,
                );
            }
            if let Some(min) = rules.min_len {
                let min = min as usize;
                probe(
                    format!("{min} characters"),
                    Some(one(json!(string_of(rules, min)))),
                    false,
                );
                // "" is "not given" where a field has no presence and is optional.
                if min > 1 || (min == 1 && (field.supports_presence() || list)) {
                    probe(
                        format!("{} characters", min - 1),
                        Some(one(json!(string_of(rules, min - 1)))),
                        true,
                    );
                }
            }
            if let Some(max) = rules.max_len {
                let max = max as usize;
                probe(
                    format!("{max} characters"),
                    Some(one(json!(string_of(rules, max)))),
                    false,
                );
                probe(
                    format!("{} characters", max + 1),
                    Some(one(json!(string_of(rules, max + 1)))),
                    true,
                );
            }
            if let Some(max) = rules.max_bytes {
                // Two-byte characters: within the length, beyond the bytes.
                let n = max as usize / 2 + 1;
                probe(
                    format!("{n} two-byte characters"),
                    Some(one(json!("é".repeat(n)))),
                    true,
                );
            }
        }
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 => {
            if let Some(min) = rules.min {
                probe(format!("{min}"), Some(json!(min)), false);
                probe(format!("{}", min - 1), Some(json!(min - 1)), true);
            }
            if let Some(max) = rules.max {
                probe(format!("{max}"), Some(json!(max)), false);
                probe(format!("{}", max + 1), Some(json!(max + 1)), true);
            }
        }
        Kind::Enum(ref descriptor) => {
            for number in &rules.not_in {
                let name = descriptor.get_value(*number).map(|v| v.name().to_owned());
                probe(format!("{name:?}"), name.map(Value::from), true);
            }
        }
        _ => {}
    }
    if list {
        let items = |n: usize| Value::Array((0..n).map(|i| json!(item_of(rules, i))).collect());
        if let Some(max) = rules.max_items {
            let max = max as usize;
            probe(format!("{max} items"), Some(items(max)), false);
            probe(format!("{} items", max + 1), Some(items(max + 1)), true);
        }
        if rules.unique_items {
            let twice = json!([item_of(rules, 0), item_of(rules, 0)]);
            probe("an item given twice".into(), Some(twice), true);
        }
        if let Some(min) = rules.min_items.filter(|min| *min > 0) {
            let min = min as usize;
            probe(format!("{min} items"), Some(items(min)), false);
            probe(format!("{} items", min - 1), Some(items(min - 1)), true);
        }
    }
    out
}

/// Sets (or with `None` removes) the field at a dotted path.
fn set(request: &mut Value, path: &str, value: Option<Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut at = request;
    for part in parts {
        at = at
            .as_object_mut()
            .unwrap()
            .entry(part)
            .or_insert_with(|| json!({}));
    }
    let object = at.as_object_mut().unwrap();
    match value {
        Some(value) => {
            object.insert(last.to_owned(), value);
        }
        None => {
            object.remove(last);
        }
    }
}

/// A value that breaks a format and nothing else a field declares.
fn bad_format(format: Format) -> Option<&'static str> {
    Some(match format {
        Format::Unspecified => return None,
        Format::Uuid => "not-a-uuid",
        Format::Email => "not-an-email",
        Format::Date => "31/12/2030",
        Format::HttpUrl => "ftp://example.com/x.jpg",
        Format::Line | Format::Text => "a\u{7}b",
    })
}

fn pattern(rules: &FieldRules) -> Option<regex::Regex> {
    (!rules.pattern.is_empty()).then(|| regex::Regex::new(&rules.pattern).unwrap())
}

/// A string off the field's pattern, of a length it accepts.
fn off_pattern(rules: &FieldRules) -> String {
    let regex = pattern(rules).unwrap();
    let len = (rules.min_len.unwrap_or(1) as usize).max(3);
    ['!', ' ', '@', 'é']
        .iter()
        .map(|c| {
            let mut s = "a".repeat(len - 1);
            s.insert(1, *c);
            s
        })
        .find(|s| !regex.is_match(s))
        .unwrap_or_else(|| panic!("no string breaks {}", rules.pattern))
}

/// A string of `len` characters that keeps every other rule of the field.
fn string_of(rules: &FieldRules, len: usize) -> String {
    match rules.format() {
        Format::Email => email_of(len),
        Format::HttpUrl => {
            let head = "https://example.com/";
            format!("{head}{}", "a".repeat(len.saturating_sub(head.len())))
        }
        _ => match pattern(rules) {
            Some(regex) => ['a', 'A', '7', '1']
                .iter()
                .map(|c| c.to_string().repeat(len))
                .find(|s| regex.is_match(s))
                .unwrap_or_else(|| panic!("{len} characters cannot match {}", rules.pattern)),
            // Characters, not bytes, unless bytes are bounded too.
            None if rules.max_bytes.is_some() => "a".repeat(len),
            None => "é".repeat(len),
        },
    }
}

/// A valid email address of exactly `len` characters (ends in ".com").
fn email_of(len: usize) -> String {
    let local = 64.min(len.saturating_sub(6)).max(1);
    let mut left = len - local - 1 - 4;
    let mut domain = String::new();
    while left > 0 {
        let mut take = left.min(63);
        if left - take == 1 {
            take -= 1;
        }
        domain.push_str(&"x".repeat(take));
        left -= take;
        if left > 0 {
            domain.push('.');
            left -= 1;
        }
    }
    format!("{}@{domain}.com", "s".repeat(local))
}

/// The `i`th of distinct valid items of a repeated field.
fn item_of(rules: &FieldRules, i: usize) -> String {
    let regex = pattern(rules);
    [format!("g{i}"), format!("A{}", i + 1)]
        .into_iter()
        .find(|s| regex.as_ref().is_none_or(|r| r.is_match(s)))
        .unwrap()
}

/// auth-svc, catalog-svc, order-svc and reservation-svc on port 0, each on
/// a database of its own, and an ADMIN's token.
struct Stack {
    _auth: TestAuth,
    admin: String,
    channels: BTreeMap<String, Channel>,
    _services: Vec<testkit::Spawned>,
    _dbs: Vec<TestDb>,
}

impl Stack {
    async fn start() -> Self {
        let auth = TestAuth::start().await;
        let admin = auth.sign_up(Role::Admin).await.access_token;
        let catalog_db = TestDb::new("catalog", &catalog_svc::MIGRATIONS).await;
        let config = catalog_svc::config::CatalogConfig::with_defaults(service_config(
            catalog_db.url(),
            &auth.url(),
        ));
        let catalog = spawn(move |l, s| catalog_svc::app::run(config, l, s)).await;
        let order_db = TestDb::new("order", &order_svc::MIGRATIONS).await;
        let config = order_svc::config::OrderConfig::with_defaults(
            service_config(order_db.url(), &auth.url()),
            catalog.url(),
        );
        let order = spawn(move |l, s| order_svc::app::run(config, l, s)).await;
        let reservation_db = TestDb::new("reservation", &reservation_svc::MIGRATIONS).await;
        let config = reservation_svc::config::ReservationConfig::with_defaults(service_config(
            reservation_db.url(),
            &auth.url(),
        ));
        let reservation = spawn(move |l, s| reservation_svc::app::run(config, l, s)).await;
        let channels = BTreeMap::from([
            (
                "kursi.auth.v1".to_owned(),
                testkit::channel(auth.addr()).await,
            ),
            (
                "kursi.catalog.v1".to_owned(),
                testkit::channel(catalog.addr).await,
            ),
            (
                "kursi.order.v1".to_owned(),
                testkit::channel(order.addr).await,
            ),
            (
                "kursi.reservation.v1".to_owned(),
                testkit::channel(reservation.addr).await,
            ),
        ]);
        Self {
            _auth: auth,
            admin,
            channels,
            _services: vec![catalog, order, reservation],
            _dbs: vec![catalog_db, order_db, reservation_db],
        }
    }

    /// Calls `method` as the admin with `request` (proto JSON); a stream
    /// that opens is a success.
    async fn call(&self, method: &MethodDescriptor, request: &Value) -> Result<(), tonic::Status> {
        let message = DynamicMessage::deserialize(method.input(), request)
            .unwrap_or_else(|err| panic!("{}: {request}: {err}", method.full_name()));
        let pool = method.parent_pool();
        let channel = self.channels[upstream_of(pool, method).unwrap().as_str()].clone();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let path: http::uri::PathAndQuery =
            format!("/{}/{}", method.parent_service().full_name(), method.name())
                .parse()
                .unwrap();
        let request = bearer(&self.admin, Bytes::from(message.encode_to_vec()));
        if method.is_server_streaming() {
            grpc.server_streaming(request, path, RawCodec)
                .await
                .map(drop)
        } else {
            grpc.unary(request, path, RawCodec).await.map(drop)
        }
    }
}
