//! The gRPC face of reservation-svc: each RPC is the actor, `parse::*`, a
//! command of `bookings`, `reservations` or `floor`, and `render::*`. No SQL and no
//! rules live here.

mod parse;

use std::time::Duration;

use kursi_proto::reservation::v1::reservation_service_server::ReservationService;
use kursi_proto::reservation::v1::*;
use service_kit::ServiceError;
use service_kit::auth::{Actor, actor, caller};
use service_kit::outbox::Outbox;
use service_kit::pages::{self, PageSizes};
use tokio::sync::watch;
use tokio_stream::StreamExt;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

use crate::bookings::Bookings;
use crate::domain::WaitCommand;
use crate::domain::values::Area;
use crate::floor::{Floor, TableUpdate};
use crate::render;
use crate::reservations::{Action, Reservations};
use crate::waitlist::Waitlist;

pub struct ReservationApi {
    bookings: Bookings,
    reservations: Reservations,
    floor: Floor,
    outbox: Outbox,
    shutdown: watch::Receiver<bool>,
    event_poll: Duration,
}

impl ReservationApi {
    pub fn new(
        bookings: Bookings,
        reservations: Reservations,
        floor: Floor,
        outbox: Outbox,
        shutdown: watch::Receiver<bool>,
        event_poll: Duration,
    ) -> Self {
        Self {
            bookings,
            reservations,
            floor,
            outbox,
            shutdown,
            event_poll,
        }
    }

    /// Runs `action` on the reservation `id` names, as the request's actor,
    /// and renders the result.
    async fn act<T>(
        &self,
        request: &Request<T>,
        id: &str,
        action: Action,
    ) -> Result<Option<Reservation>, Status> {
        let me = actor(request)?;
        let id = parse::id("reservation_id", id)?;
        let seated = self.reservations.run(me, id, action).await?;
        Ok(Some(seated.render()))
    }

    fn waitlist(&self) -> &Waitlist {
        self.reservations.waitlist()
    }

    /// Ends or answers the entry `id` names (leave, decline).
    async fn end_entry<T>(
        &self,
        request: &Request<T>,
        id: &str,
        command: WaitCommand,
        note: &str,
    ) -> Result<Option<WaitlistEntry>, Status> {
        let me = actor(request)?;
        let id = parse::id("waitlist_entry_id", id)?;
        let note = parse::note("note", note)?;
        let shown = self.waitlist().end(me, id, command, note).await?;
        Ok(Some(shown.render()))
    }
}

/// AIP-158 for the waitlist, as for tables.
const WAITLIST_PAGES: PageSizes = PageSizes {
    default: 50,
    max: 200,
};

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
        let (label, capacity, area) = parse::new_table(request.get_ref())?;
        let table = self.floor.create(label, capacity, area).await?;
        reply(CreateTableResponse {
            table: Some(render::table(&table)),
        })
    }

    async fn list_tables(&self, request: Request<ListTablesRequest>) -> Reply<ListTablesResponse> {
        let r = request.get_ref();
        let size = TABLE_PAGES.get(r.page_size)?;
        let after = parse::table_token(&r.page_token)?;
        let area =
            parse::area_filter(&r.area).map_err(|v| ServiceError::InvalidArgument(vec![v]))?;
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
        let (id, update) = parse::table_update(request.get_ref())?;
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
        let caller = caller(&request)?;
        let policy = self.bookings.policy();
        let booking = parse::booking(&request, policy, self.bookings.now())?;
        let row = self
            .bookings
            .create(Actor::from(caller), caller.bearer_token(), booking)
            .await?;
        reply(CreateReservationResponse {
            reservation: Some(render::reservation(&row, &[])),
        })
    }

    async fn get_reservation(
        &self,
        request: Request<GetReservationRequest>,
    ) -> Reply<GetReservationResponse> {
        let me = actor(&request)?;
        let id = parse::id("reservation_id", &request.get_ref().reservation_id)?;
        let seated = self.reservations.get(me, id).await?;
        reply(GetReservationResponse {
            reservation: Some(seated.render()),
        })
    }

    async fn list_reservations(
        &self,
        request: Request<ListReservationsRequest>,
    ) -> Reply<ListReservationsResponse> {
        let me = actor(&request)?;
        let (filter, skip, limit) = parse::reservation_list(request.get_ref())?;
        let (rows, tables, total_size) = self.reservations.list(me, filter, skip, limit).await?;
        reply(ListReservationsResponse {
            reservations: rows
                .iter()
                .map(|row| render::reservation(row, &tables))
                .collect(),
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
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(ConfirmReservationResponse { reservation })
    }

    async fn assign_table(
        &self,
        request: Request<AssignTableRequest>,
    ) -> Reply<AssignTableResponse> {
        let r = request.get_ref();
        let action = parse::assignment(r)?;
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(AssignTableResponse { reservation })
    }

    async fn check_in_reservation(
        &self,
        request: Request<CheckInReservationRequest>,
    ) -> Reply<CheckInReservationResponse> {
        let r = request.get_ref();
        let action = Action::CheckIn(parse::note("note", &r.note)?);
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(CheckInReservationResponse { reservation })
    }

    async fn complete_reservation(
        &self,
        request: Request<CompleteReservationRequest>,
    ) -> Reply<CompleteReservationResponse> {
        let r = request.get_ref();
        let action = Action::Complete(parse::note("note", &r.note)?);
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(CompleteReservationResponse { reservation })
    }

    async fn cancel_reservation(
        &self,
        request: Request<CancelReservationRequest>,
    ) -> Reply<CancelReservationResponse> {
        let r = request.get_ref();
        let action = parse::cancellation(r)?;
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(CancelReservationResponse { reservation })
    }

    async fn mark_no_show(&self, request: Request<MarkNoShowRequest>) -> Reply<MarkNoShowResponse> {
        let r = request.get_ref();
        let action = Action::MarkNoShow(parse::note("note", &r.note)?);
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(MarkNoShowResponse { reservation })
    }

    async fn pay_deposit(&self, request: Request<PayDepositRequest>) -> Reply<PayDepositResponse> {
        let r = request.get_ref();
        let action = parse::payment(r)?;
        let reservation = self.act(&request, &r.reservation_id, action).await?;
        reply(PayDepositResponse { reservation })
    }

    async fn reschedule_reservation(
        &self,
        request: Request<RescheduleReservationRequest>,
    ) -> Reply<RescheduleReservationResponse> {
        let to = parse::reschedule(
            &request,
            self.reservations.policy(),
            self.reservations.now(),
        )?;
        let id = request.get_ref().reservation_id.clone();
        let reservation = self.act(&request, &id, Action::Reschedule(to)).await?;
        reply(RescheduleReservationResponse { reservation })
    }

    async fn join_waitlist(
        &self,
        request: Request<JoinWaitlistRequest>,
    ) -> Reply<JoinWaitlistResponse> {
        let caller = caller(&request)?;
        let policy = self.reservations.policy();
        let (named, joining) = parse::joining(&request, policy, self.reservations.now())?;
        let me = Actor::from(caller);
        let customer = self
            .bookings
            .customer_for(
                me,
                caller.bearer_token(),
                named.as_ref(),
                "join the waitlist",
            )
            .await?;
        let shown = self.waitlist().join(me, customer, joining).await?;
        reply(JoinWaitlistResponse {
            entry: Some(shown.render()),
        })
    }

    async fn get_waitlist_entry(
        &self,
        request: Request<GetWaitlistEntryRequest>,
    ) -> Reply<GetWaitlistEntryResponse> {
        let me = actor(&request)?;
        let id = parse::id("waitlist_entry_id", &request.get_ref().waitlist_entry_id)?;
        let (shown, history) = self.waitlist().get(me, id).await?;
        reply(GetWaitlistEntryResponse {
            entry: Some(shown.render()),
            history: history
                .iter()
                .map(render::waitlist::history_entry)
                .collect(),
        })
    }

    async fn list_waitlist(
        &self,
        request: Request<ListWaitlistRequest>,
    ) -> Reply<ListWaitlistResponse> {
        let me = actor(&request)?;
        let r = request.get_ref();
        let size = WAITLIST_PAGES.get(r.page_size)?;
        let (filter, after) = parse::waitlist_list(r)?;
        let (entries, more) = self.waitlist().list(me, filter, after, size).await?;
        reply(ListWaitlistResponse {
            next_page_token: pages::next_token(&entries, more, parse::waitlist_token_of),
            entries: entries.iter().map(|shown| shown.render()).collect(),
        })
    }

    async fn leave_waitlist(
        &self,
        request: Request<LeaveWaitlistRequest>,
    ) -> Reply<LeaveWaitlistResponse> {
        let r = request.get_ref();
        let entry = self
            .end_entry(&request, &r.waitlist_entry_id, WaitCommand::Leave, &r.note)
            .await?;
        reply(LeaveWaitlistResponse { entry })
    }

    async fn offer_waitlist_slot(
        &self,
        request: Request<OfferWaitlistSlotRequest>,
    ) -> Reply<OfferWaitlistSlotResponse> {
        let me = actor(&request)?;
        let policy = self.reservations.policy();
        let (id, start, tables, note) =
            parse::slot_offer(&request, policy, self.reservations.now())?;
        let shown = self.waitlist().offer(me, id, start, tables, note).await?;
        reply(OfferWaitlistSlotResponse {
            entry: Some(shown.render()),
        })
    }

    async fn accept_waitlist_offer(
        &self,
        request: Request<AcceptWaitlistOfferRequest>,
    ) -> Reply<AcceptWaitlistOfferResponse> {
        let me = actor(&request)?;
        let id = parse::id("waitlist_entry_id", &request.get_ref().waitlist_entry_id)?;
        let (shown, seated) = self.waitlist().accept(me, id).await?;
        reply(AcceptWaitlistOfferResponse {
            entry: Some(shown.render()),
            reservation: Some(seated.render()),
        })
    }

    async fn decline_waitlist_offer(
        &self,
        request: Request<DeclineWaitlistOfferRequest>,
    ) -> Reply<DeclineWaitlistOfferResponse> {
        let r = request.get_ref();
        let entry = self
            .end_entry(
                &request,
                &r.waitlist_entry_id,
                WaitCommand::Decline,
                &r.note,
            )
            .await?;
        reply(DeclineWaitlistOfferResponse { entry })
    }

    async fn search_availability(
        &self,
        request: Request<SearchAvailabilityRequest>,
    ) -> Reply<SearchAvailabilityResponse> {
        let policy = self.reservations.policy();
        let query = parse::availability(request.get_ref(), policy, self.reservations.now())?;
        let area = query.area.as_ref().map(Area::as_str);
        let slots = self
            .floor
            .availability(policy, query.date, query.party, query.duration, area)
            .await?;
        reply(render::availability(query.date, policy, &slots))
    }

    async fn get_stats(&self, request: Request<GetStatsRequest>) -> Reply<GetStatsResponse> {
        let (from, to) = parse::stats_range(request.get_ref())?;
        let stats = self.reservations.stats(from, to).await?;
        reply(render::stats(&stats))
    }

    async fn watch_reservation_events(
        &self,
        request: Request<WatchReservationEventsRequest>,
    ) -> Reply<BoxStream<WatchReservationEventsResponse>> {
        let (start, reservation_id) = parse::watch(request.get_ref())?;
        let events = self.outbox.follow::<ReservationEvent>(
            start,
            reservation_id,
            self.shutdown.clone(),
            self.event_poll,
        );
        reply(Box::pin(events.map(|event| {
            event.map(|event| WatchReservationEventsResponse { event: Some(event) })
        })))
    }
}
