//! The gRPC face of catalog-svc: parse each request into domain values,
//! call the service layer, render the answer. No SQL and no rules live here.
//! `operations` serves `google.longrunning.Operations` for the imports.

mod operations;
mod parse;

use std::time::Duration;

use kursi_proto::catalog::v1::catalog_service_server::CatalogService;
use kursi_proto::catalog::v1::*;
use kursi_proto::google::longrunning::Operation;
use service_kit::ServiceError;
use service_kit::auth::actor;
use service_kit::clock::Clock;
use service_kit::outbox::Outbox;
use service_kit::values::id;
use tokio::sync::watch;
use tokio_stream::StreamExt;
use tonic::codegen::BoxStream;
use tonic::{Request, Response, Status};

pub use self::operations::OperationsApi;
use crate::import::{Importer, Started, Trigger};
use crate::movies::Movies;
use crate::render;
use crate::showtimes::Showtimes;

/// The handlers' state, built by [`crate::app::run`].
pub struct CatalogApi {
    pub movies: Movies,
    pub showtimes: Showtimes,
    pub importer: Importer,
    /// The event stream: followed until `shutdown`, polled every
    /// `event_poll` for other replicas' events.
    pub outbox: Outbox,
    pub shutdown: watch::Receiver<bool>,
    pub event_poll: Duration,
    /// The time a new showtime's start and ListShowtimes' "still to end"
    /// are judged by.
    pub clock: Clock,
}

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(message: T) -> Reply<T> {
    Ok(Response::new(message))
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn create_movie(
        &self,
        request: Request<CreateMovieRequest>,
    ) -> Reply<CreateMovieResponse> {
        let actor = actor(&request)?;
        let content = parse::new_movie(request.get_ref())?;
        let row = self.movies.create(actor, content).await?;
        reply(CreateMovieResponse {
            movie: Some(render::movie(&row)),
        })
    }

    async fn get_movie(&self, request: Request<GetMovieRequest>) -> Reply<GetMovieResponse> {
        let movie_id = id("movie_id", &request.get_ref().movie_id)?;
        let row = self.movies.get(movie_id).await?;
        reply(GetMovieResponse {
            movie: Some(render::movie(&row)),
        })
    }

    async fn list_movies(&self, request: Request<ListMoviesRequest>) -> Reply<ListMoviesResponse> {
        let list = parse::movie_list(request.get_ref())?;
        let page = self.movies.list(&list).await?;
        reply(render::movie_page(&page))
    }

    async fn update_movie(
        &self,
        request: Request<UpdateMovieRequest>,
    ) -> Reply<UpdateMovieResponse> {
        let actor = actor(&request)?;
        let (movie_id, edit) = parse::movie_edit(request.get_ref())?;
        let row = self.movies.update(actor, movie_id, edit).await?;
        reply(UpdateMovieResponse {
            movie: Some(render::movie(&row)),
        })
    }

    async fn delete_movie(
        &self,
        request: Request<DeleteMovieRequest>,
    ) -> Reply<DeleteMovieResponse> {
        let actor = actor(&request)?;
        let movie_id = id("movie_id", &request.get_ref().movie_id)?;
        self.movies.delete(actor, movie_id).await?;
        reply(DeleteMovieResponse {})
    }

    async fn import_movies(&self, request: Request<ImportMoviesRequest>) -> Reply<Operation> {
        let actor = actor(&request)?;
        let pages = parse::import_pages(request.get_ref().page_count)?;
        let operation = match self.importer.start(Trigger::Request(actor), pages).await? {
            Started::New { operation, .. } | Started::Running(operation) => operation,
            Started::Skipped => {
                return Err(ServiceError::internal("an import on request was skipped").into());
            }
        };
        reply(render::operation(&operation, self.clock.now()))
    }

    async fn create_showtime(
        &self,
        request: Request<CreateShowtimeRequest>,
    ) -> Reply<CreateShowtimeResponse> {
        let actor = actor(&request)?;
        let draft = parse::new_showtime(&request, self.showtimes.rules(), self.clock.now())?;
        let view = self.showtimes.create(actor, draft).await?;
        reply(CreateShowtimeResponse {
            showtime: Some(render::showtime(&view)),
        })
    }

    async fn get_showtime(
        &self,
        request: Request<GetShowtimeRequest>,
    ) -> Reply<GetShowtimeResponse> {
        let showtime_id = id("showtime_id", &request.get_ref().showtime_id)?;
        let view = self.showtimes.get(showtime_id).await?;
        reply(GetShowtimeResponse {
            showtime: Some(render::showtime(&view)),
        })
    }

    async fn list_showtimes(
        &self,
        request: Request<ListShowtimesRequest>,
    ) -> Reply<ListShowtimesResponse> {
        let rules = self.showtimes.rules();
        let list = parse::showtime_list(request.get_ref(), rules, self.clock.now())?;
        let page = self.showtimes.list(&list).await?;
        reply(render::showtime_page(&page))
    }

    async fn cancel_showtime(
        &self,
        request: Request<CancelShowtimeRequest>,
    ) -> Reply<CancelShowtimeResponse> {
        let actor = actor(&request)?;
        let r = request.get_ref();
        let showtime_id = id("showtime_id", &r.showtime_id)?;
        let reason = parse::cancel_reason(&r.reason)?;
        let view = self.showtimes.cancel(actor, showtime_id, reason).await?;
        reply(CancelShowtimeResponse {
            showtime: Some(render::showtime(&view)),
        })
    }

    async fn watch_catalog_events(
        &self,
        request: Request<WatchCatalogEventsRequest>,
    ) -> Reply<BoxStream<WatchCatalogEventsResponse>> {
        let start = request.get_ref().start_position;
        if start < 0 {
            return Err(ServiceError::invalid("start_position", "must be 0 or more").into());
        }
        let events =
            self.outbox
                .follow::<CatalogEvent>(start, None, self.shutdown.clone(), self.event_poll);
        reply(Box::pin(events.map(|event| {
            event.map(|event| WatchCatalogEventsResponse { event: Some(event) })
        })))
    }
}
