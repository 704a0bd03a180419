//! Writing the catalog's events: one outbox row per event, in the
//! transaction of the change it records. The events themselves are rendered
//! from rows in [`crate::render`].

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use kursi_proto::catalog::v1::catalog_event::Event;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::outbox::{self, NewEvent};
use uuid::Uuid;

use crate::render;

/// An event about a movie, or about one of its showtimes when `showtime`
/// is given (the aggregate the event is filed under).
pub struct CatalogChange {
    pub movie_id: Uuid,
    pub showtime_id: Option<Uuid>,
    pub event: Event,
}

pub async fn append(
    conn: &mut AsyncPgConnection,
    actor: Actor,
    at: DateTime<Utc>,
    changes: Vec<CatalogChange>,
) -> Result<(), ServiceError> {
    let rows = changes
        .into_iter()
        .map(|change| {
            let aggregate = change.showtime_id.unwrap_or(change.movie_id);
            let envelope = render::envelope(
                change.movie_id,
                change.showtime_id,
                actor.user_id(),
                at,
                change.event,
            );
            NewEvent::new(aggregate, &envelope, at)
                .ok_or_else(|| ServiceError::internal("a catalog event without an event"))
        })
        .collect::<Result<_, _>>()?;
    outbox::append(conn, rows).await?;
    Ok(())
}
