//! The gRPC face of order-svc: parse each request into domain values, call
//! the service layer, render the answer. No SQL and no rules live here.

mod parse;

use std::time::Duration;

use kursi_proto::order::v1::order_service_server::OrderService;
use kursi_proto::order::v1::*;
use service_kit::ServiceError;
use service_kit::auth::{Actor, actor, caller};
use service_kit::outbox::Outbox;
use service_kit::pages::{self, PageSizes};
use service_kit::values::id;
use tokio::sync::watch;
use tokio_stream::StreamExt;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::Command;
use crate::orders::Orders;
use crate::render;

const ORDER_PAGES: PageSizes = PageSizes {
    default: 20,
    max: 100,
};

pub struct OrderApi {
    orders: Orders,
    outbox: Outbox,
    max_tickets: i32,
    shutdown: watch::Receiver<bool>,
    event_poll: Duration,
}

impl OrderApi {
    pub fn new(
        orders: Orders,
        outbox: Outbox,
        max_tickets: i32,
        shutdown: watch::Receiver<bool>,
        event_poll: Duration,
    ) -> Self {
        Self {
            orders,
            outbox,
            max_tickets,
            shutdown,
            event_poll,
        }
    }

    async fn command(
        &self,
        actor: Actor,
        order_id: Uuid,
        command: Command,
    ) -> Result<Order, Status> {
        let (row, tickets) = self.orders.run(actor, order_id, command).await?;
        Ok(render::order(&row, &tickets))
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(message: T) -> Reply<T> {
    Ok(Response::new(message))
}

#[tonic::async_trait]
impl OrderService for OrderApi {
    async fn create_order(
        &self,
        request: Request<CreateOrderRequest>,
    ) -> Reply<CreateOrderResponse> {
        let me = caller(&request)?;
        let draft = parse::order(&request, self.max_tickets)?;
        let (row, tickets) = self
            .orders
            .create(Actor::from(me), me.bearer_token(), draft)
            .await?;
        reply(CreateOrderResponse {
            order: Some(render::order(&row, &tickets)),
        })
    }

    async fn get_order(&self, request: Request<GetOrderRequest>) -> Reply<GetOrderResponse> {
        let actor = actor(&request)?;
        let order_id = id("order_id", &request.get_ref().order_id)?;
        let (row, tickets) = self.orders.get(actor, order_id).await?;
        reply(GetOrderResponse {
            order: Some(render::order(&row, &tickets)),
        })
    }

    async fn list_orders(&self, request: Request<ListOrdersRequest>) -> Reply<ListOrdersResponse> {
        let actor = actor(&request)?;
        let r = request.get_ref();
        let size = ORDER_PAGES.get(r.page_size)?;
        let before = parse::token(&r.page_token)?;
        let filter = parse::filter(r)?;
        let (rows, tickets, total_size, more) =
            self.orders.list(actor, filter, before, size).await?;
        reply(ListOrdersResponse {
            next_page_token: pages::next_token(&rows, more, parse::token_of),
            orders: rows
                .iter()
                .map(|row| render::order(row, &tickets))
                .collect(),
            total_size,
        })
    }

    async fn pay_order(&self, request: Request<PayOrderRequest>) -> Reply<PayOrderResponse> {
        let actor = actor(&request)?;
        let (order_id, command) = parse::payment(request.get_ref())?;
        let order = self.command(actor, order_id, command).await?;
        reply(PayOrderResponse { order: Some(order) })
    }

    async fn cancel_order(
        &self,
        request: Request<CancelOrderRequest>,
    ) -> Reply<CancelOrderResponse> {
        let actor = actor(&request)?;
        let (order_id, command) = parse::cancellation(request.get_ref())?;
        let order = self.command(actor, order_id, command).await?;
        reply(CancelOrderResponse { order: Some(order) })
    }

    async fn get_seat_map(&self, request: Request<GetSeatMapRequest>) -> Reply<GetSeatMapResponse> {
        let me = caller(&request)?;
        let showtime_id = id("showtime_id", &request.get_ref().showtime_id)?;
        reply(self.orders.seat_map(showtime_id, me.bearer_token()).await?)
    }

    async fn redeem_ticket(
        &self,
        request: Request<RedeemTicketRequest>,
    ) -> Reply<RedeemTicketResponse> {
        let actor = actor(&request)?;
        let code = parse::code(&request.get_ref().code)?;
        let (ticket, order) = self.orders.redeem(actor, &code).await?;
        reply(RedeemTicketResponse {
            ticket: Some(render::ticket(&ticket)),
            order_id: order.id.to_string(),
            movie_title: order.movie_title,
            auditorium: order.auditorium,
            showtime_start_time: Some(service_kit::values::timestamp(order.showtime_start)),
        })
    }

    async fn watch_order_events(
        &self,
        request: Request<WatchOrderEventsRequest>,
    ) -> Reply<BoxStream<WatchOrderEventsResponse>> {
        let start = request.get_ref().start_position;
        if start < 0 {
            return Err(ServiceError::invalid("start_position", "must be 0 or more").into());
        }
        let events =
            self.outbox
                .follow::<OrderEvent>(start, None, self.shutdown.clone(), self.event_poll);
        reply(Box::pin(events.map(|event| {
            event.map(|event| WatchOrderEventsResponse { event: Some(event) })
        })))
    }
}
