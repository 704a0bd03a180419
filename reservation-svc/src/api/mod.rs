//! The gRPC face of reservation-svc: parse each request into domain values,
//! call the service layer, render the answer. No SQL and no rules live here.

mod parse;

use std::time::Duration;

use kursi_proto::reservation::v1::reservation_service_server::ReservationService;
use kursi_proto::reservation::v1::*;
use service_kit::ServiceError;
use service_kit::auth::{Actor, actor};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::db::reservations::Filter;
use crate::domain::values::{
    Area, Capacity, DurationMinutes, PartySize, PaymentReference, TableLabel, parse_id,
};
use crate::floor::{Floor, TableUpdate};
use crate::render;
use crate::reservations::{Action, Reservations};
use service_kit::outbox::Outbox;
use service_kit::pages::{self, PageSizes};
use service_kit::values::{Violations, parse_optional_id};
use tokio_stream::StreamExt;
use tonic::codegen::BoxStream;

pub struct ReservationApi {
    reservations: Reservations,
    floor: Floor,
    outbox: Outbox,
    shutdown: watch::Receiver<bool>,
    event_poll: Duration,
}

impl ReservationApi {
    pub fn new(
        reservations: Reservations,
        floor: Floor,
        outbox: Outbox,
        shutdown: watch::Receiver<bool>,
        event_poll: Duration,
    ) -> Self {
        Self {
            reservations,
            floor,
            outbox,
            shutdown,
            event_poll,
        }
    }

    /// Runs a command given the request's reservation id and renders the result.
    async fn act(&self, actor: Actor, id: &str, action: Action) -> Result<Reservation, Status> {
        let id = parse::id("reservation_id", id)?;
        let row = self.reservations.run(actor, id, action).await?;
        Ok(render::reservation(&row))
    }
}

/// An optional area filter; empty means every area.
fn area_filter(raw: &str) -> Result<Option<Area>, service_kit::FieldViolation> {
    match raw.trim() {
        "" => Ok(None),
        area => Area::parse(area).map(Some),
    }
}

/// AIP-158, as ListUsers: larger sizes are read as the largest.
const TABLE_PAGES: PageSizes = PageSizes {
    default: 50,
    max: 200,
};

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(message: T) -> Reply<T> {
    Ok(Response::new(message))
}

#[tonic::async_trait]
impl ReservationService for ReservationApi {
    async fn create_table(
        &self,
        request: Request<CreateTableRequest>,
    ) -> Reply<CreateTableResponse> {
        let r = request.get_ref();
        let mut v = Violations::default();
        let label = v.check(TableLabel::parse(&r.label));
        let capacity = v.check(Capacity::parse(r.capacity));
        let area = v.check(Area::parse(&r.area));
        let (label, capacity, area) =
            v.finish(label.zip(capacity).zip(area).map(|((l, c), a)| (l, c, a)))?;
        let table = self.floor.create(label, capacity, area).await?;
        reply(CreateTableResponse {
            table: Some(render::table(&table)),
        })
    }

    async fn list_tables(&self, request: Request<ListTablesRequest>) -> Reply<ListTablesResponse> {
        let r = request.get_ref();
        let size = TABLE_PAGES.get(r.page_size)?;
        let after = parse::table_token(&r.page_token)?;
        let area = area_filter(&r.area).map_err(|v| ServiceError::InvalidArgument(vec![v]))?;
        let area = area.as_ref().map(Area::as_str);
        let (tables, total_size, more) = self
            .floor
            .list(after, area, r.include_inactive, size)
            .await?;
        reply(ListTablesResponse {
            next_page_token: pages::next_token(&tables, more, parse::table_token_of),
            tables: tables.iter().map(render::table).collect(),
            total_size,
        })
    }

    async fn update_table(
        &self,
        request: Request<UpdateTableRequest>,
    ) -> Reply<UpdateTableResponse> {
        let r = request.get_ref();
        let mut v = Violations::default();
        let id = v.check(parse_id("table_id", &r.table_id));
        let update = TableUpdate {
            label: r
                .label
                .as_deref()
                .and_then(|l| v.check(TableLabel::parse(l))),
            capacity: r.capacity.and_then(|c| v.check(Capacity::parse(c))),
            area: r.area.as_deref().and_then(|a| v.check(Area::parse(a))),
            active: r.active,
        };
        let id = v.finish(id)?;
        let table = self.floor.update(id, update).await?;
        reply(UpdateTableResponse {
            table: Some(render::table(&table)),
        })
    }

    async fn deactivate_table(
        &self,
        request: Request<DeactivateTableRequest>,
    ) -> Reply<DeactivateTableResponse> {
        let id = parse::id("table_id", &request.get_ref().table_id)?;
        let update = TableUpdate {
            active: Some(false),
            ..Default::default()
        };
        let table = self.floor.update(id, update).await?;
        reply(DeactivateTableResponse {
            table: Some(render::table(&table)),
        })
    }

    async fn create_reservation(
        &self,
        request: Request<CreateReservationRequest>,
    ) -> Reply<CreateReservationResponse> {
        let me = actor(&request)?;
        let policy = self.reservations.policy();
        let booking = parse::booking(&request, policy, self.reservations.now())?;
        let row = self.reservations.create(me, booking).await?;
        reply(CreateReservationResponse {
            reservation: Some(render::reservation(&row)),
        })
    }

    async fn get_reservation(
        &self,
        request: Request<GetReservationRequest>,
    ) -> Reply<GetReservationResponse> {
        let me = actor(&request)?;
        let id = parse::id("reservation_id", &request.get_ref().reservation_id)?;
        let row = self.reservations.get(me, id).await?;
        reply(GetReservationResponse {
            reservation: Some(render::reservation(&row)),
        })
    }

    async fn list_reservations(
        &self,
        request: Request<ListReservationsRequest>,
    ) -> Reply<ListReservationsResponse> {
        let me = actor(&request)?;
        let r = request.get_ref();
        let mut v = Violations::default();
        let paging = parse::skip_limit(&mut v, r.skip, r.limit);
        let status = v.check(parse::status_filter(r.status));
        let range = parse::time_range(&mut v, r.start_time_from.as_ref(), r.start_time_to.as_ref());
        let customer_id = v.check(parse_optional_id("customer_id", &r.customer_id));
        let ((skip, limit), status, (from, to), customer_id) = v.finish(
            paging
                .zip(status)
                .zip(range)
                .zip(customer_id)
                .map(|(((p, s), r), c)| (p, s, r, c)),
        )?;
        let filter = Filter {
            customer_id,
            status,
            start_from: from,
            start_to: to,
        };
        let (rows, total_size) = self.reservations.list(me, filter, skip, limit).await?;
        reply(ListReservationsResponse {
            reservations: rows.iter().map(render::reservation).collect(),
            total_size,
        })
    }

    async fn get_reservation_history(
        &self,
        request: Request<GetReservationHistoryRequest>,
    ) -> Reply<GetReservationHistoryResponse> {
        let me = actor(&request)?;
        let id = parse::id("reservation_id", &request.get_ref().reservation_id)?;
        let entries = self.reservations.history(me, id).await?;
        reply(GetReservationHistoryResponse {
            reservation_id: id.to_string(),
            entries: entries.iter().map(render::history_entry).collect(),
        })
    }

    async fn confirm_reservation(
        &self,
        request: Request<ConfirmReservationRequest>,
    ) -> Reply<ConfirmReservationResponse> {
        let r = request.get_ref();
        let action = Action::Confirm(parse::note("note", &r.note)?);
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(ConfirmReservationResponse {
            reservation: Some(reservation),
        })
    }

    async fn assign_table(
        &self,
        request: Request<AssignTableRequest>,
    ) -> Reply<AssignTableResponse> {
        let r = request.get_ref();
        let mut v = Violations::default();
        let table_id = v.check(parse_id("table_id", &r.table_id));
        let note = v.check(crate::domain::values::Note::parse("note", &r.note));
        if r.capacity < 0 {
            v.push(
                "capacity",
                "must be the table's capacity, or 0 to leave it out",
            );
        }
        let (table_id, note) = v.finish(table_id.zip(note))?;
        let action = Action::AssignTable {
            table_id,
            capacity: (r.capacity != 0).then_some(r.capacity),
            area: Some(r.area.trim().to_owned()).filter(|a| !a.is_empty()),
            note,
        };
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(AssignTableResponse {
            reservation: Some(reservation),
        })
    }

    async fn check_in_reservation(
        &self,
        request: Request<CheckInReservationRequest>,
    ) -> Reply<CheckInReservationResponse> {
        let r = request.get_ref();
        let action = Action::CheckIn(parse::note("note", &r.note)?);
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(CheckInReservationResponse {
            reservation: Some(reservation),
        })
    }

    async fn complete_reservation(
        &self,
        request: Request<CompleteReservationRequest>,
    ) -> Reply<CompleteReservationResponse> {
        let r = request.get_ref();
        let action = Action::Complete(parse::note("note", &r.note)?);
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(CompleteReservationResponse {
            reservation: Some(reservation),
        })
    }

    async fn cancel_reservation(
        &self,
        request: Request<CancelReservationRequest>,
    ) -> Reply<CancelReservationResponse> {
        let r = request.get_ref();
        let mut v = Violations::default();
        let reason = v.check(parse::cancel_reason(r.reason_code));
        let description = v.check(crate::domain::values::Note::parse(
            "description",
            &r.description,
        ));
        let (reason, description) = v.finish(reason.zip(description))?;
        let action = Action::Cancel(reason, description);
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(CancelReservationResponse {
            reservation: Some(reservation),
        })
    }

    async fn mark_no_show(&self, request: Request<MarkNoShowRequest>) -> Reply<MarkNoShowResponse> {
        let r = request.get_ref();
        let action = Action::MarkNoShow(parse::note("note", &r.note)?);
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(MarkNoShowResponse {
            reservation: Some(reservation),
        })
    }

    async fn pay_deposit(&self, request: Request<PayDepositRequest>) -> Reply<PayDepositResponse> {
        let r = request.get_ref();
        let mut v = Violations::default();
        let reference = v.check(PaymentReference::parse(&r.payment_reference));
        if r.amount <= 0 {
            v.push("amount", "must be the deposit due, in whole rupiah");
        }
        let reference = v.finish(reference)?;
        let action = Action::PayDeposit(reference, r.amount);
        let reservation = self
            .act(actor(&request)?, &r.reservation_id, action)
            .await?;
        reply(PayDepositResponse {
            reservation: Some(reservation),
        })
    }

    async fn search_availability(
        &self,
        request: Request<SearchAvailabilityRequest>,
    ) -> Reply<SearchAvailabilityResponse> {
        let r = request.get_ref();
        let policy = self.reservations.policy();
        let mut v = Violations::default();
        let party = v.check(PartySize::parse(r.party_size));
        let date = v.check(parse::date(&r.date, policy, self.reservations.now()));
        let duration = match r.duration_minutes {
            Some(minutes) => v.check(DurationMinutes::parse(minutes)),
            None => party.map(|party| policy.turn_times.for_party(party)),
        };
        let area = v.check(area_filter(&r.area));
        let (((party, date), duration), area) =
            v.finish(party.zip(date).zip(duration).zip(area))?;
        let area = area.as_ref().map(Area::as_str);
        let slots = self
            .floor
            .availability(policy, date, party, duration, area)
            .await?;
        reply(SearchAvailabilityResponse {
            date: date.format("%Y-%m-%d").to_string(),
            time_zone: policy.time_zone.name().to_owned(),
            slots: slots
                .iter()
                .map(|slot| AvailabilitySlot {
                    start_time: Some(service_kit::values::timestamp(slot.start)),
                    end_time: Some(service_kit::values::timestamp(slot.end)),
                    is_peak_hour: slot.is_peak_hour,
                    deposit_amount: slot.deposit,
                    tables: slot.tables.iter().map(render::table).collect(),
                })
                .collect(),
        })
    }

    async fn get_stats(&self, request: Request<GetStatsRequest>) -> Reply<GetStatsResponse> {
        let r = request.get_ref();
        let mut v = Violations::default();
        let range = parse::time_range(&mut v, r.start_time_from.as_ref(), r.start_time_to.as_ref());
        let (from, to) = v.finish(range)?;
        let stats = self.reservations.stats(from, to).await?;
        reply(GetStatsResponse {
            total_reservations: stats.total_reservations,
            pending_count: stats.pending_count,
            confirmed_count: stats.confirmed_count,
            checked_in_count: stats.checked_in_count,
            completed_count: stats.completed_count,
            cancelled_count: stats.cancelled_count,
            total_revenue: stats.total_revenue,
            generated_at: Some(service_kit::values::timestamp(stats.generated_at)),
            no_show_count: stats.no_show_count,
            covers: stats.covers,
            currency: render::CURRENCY.into(),
        })
    }

    async fn watch_reservation_events(
        &self,
        request: Request<WatchReservationEventsRequest>,
    ) -> Reply<BoxStream<WatchReservationEventsResponse>> {
        let r = request.get_ref();
        let mut v = Violations::default();
        if r.start_position < 0 {
            v.push("start_position", "must be 0 or more");
        }
        let reservation_id = match r.reservation_id.trim() {
            "" => Some(None),
            raw => v.check(parse_id("reservation_id", raw)).map(Some),
        };
        let reservation_id = v.finish(reservation_id)?;
        let events = self.outbox.follow::<ReservationEvent>(
            r.start_position,
            reservation_id,
            self.shutdown.clone(),
            self.event_poll,
        );
        reply(Box::pin(events.map(|event| {
            event.map(|event| WatchReservationEventsResponse { event: Some(event) })
        })))
    }
}
