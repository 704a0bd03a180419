//! The cinema the order scenarios sell: a movie and its showtimes, made in
//! catalog-svc by the bootstrap admin through the public gRPC API, as an
//! admin's own tools would make them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, anyhow};
use kursi_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use kursi_proto::catalog::v1::{CreateMovieRequest, CreateShowtimeRequest, SeatLayout};
use serde::Serialize;
use tonic::transport::Channel;

use crate::fixture::{bearer, connect};

/// What a ticket costs, whole rupiah; any price would do.
const PRICE: i64 = 50_000;
/// The movie's running time: a showtime's end is its start plus this.
const RUNNING_MINUTES: i32 = 120;

/// How the seats of a prepared showtime are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub rows: u32,
    pub seats_per_row: u32,
}

impl Layout {
    pub fn capacity(self) -> u32 {
        self.rows * self.seats_per_row
    }
}

/// One run's movie, and the means to schedule more showtimes of it (a seat
/// rush needs a fresh one for each transport).
#[derive(Debug, Clone)]
pub struct Cinema {
    catalog: CatalogServiceClient<Channel>,
    admin_token: String,
    movie_id: String,
    run: String,
    pub layout: Layout,
    /// Tomorrow at this minute, Unix seconds: in the future and inside any
    /// scheduling window. Every showtime has an auditorium of its own, so
    /// they may all start at once.
    start_unix: i64,
    /// Numbers the auditoriums of this run.
    scheduled: Arc<AtomicU32>,
    /// The showtimes create-order spreads its workers over.
    pub showtime_ids: Vec<String>,
}

impl Cinema {
    /// Adds this run's movie to the catalog.
    pub async fn open(
        catalog_url: &str,
        admin_token: &str,
        run: &str,
        layout: Layout,
        now_unix: i64,
    ) -> anyhow::Result<Self> {
        let mut catalog = CatalogServiceClient::new(connect(catalog_url).await?);
        let movie = catalog
            .create_movie(bearer(
                admin_token,
                CreateMovieRequest {
                    title: format!("Loadgen {run}"),
                    genres: vec!["Drama".into()],
                    duration_minutes: RUNNING_MINUTES,
                    ..Default::default()
                },
            )?)
            .await
            .context("creating the movie in catalog-svc as the admin")?
            .into_inner()
            .movie
            .ok_or_else(|| anyhow!("CreateMovie answered without the movie"))?;
        Ok(Self {
            catalog,
            admin_token: admin_token.to_owned(),
            movie_id: movie.movie_id,
            run: run.to_owned(),
            layout,
            start_unix: (now_unix + 86_400).div_euclid(60) * 60,
            scheduled: Arc::new(AtomicU32::new(0)),
            showtime_ids: Vec::new(),
        })
    }

    /// A fresh showtime of the movie, in an auditorium named after the run
    /// ("loadgen 1a2b3c4d 0"), so no earlier run's showtime is in its way.
    pub async fn schedule(&self) -> anyhow::Result<String> {
        let n = self.scheduled.fetch_add(1, Ordering::Relaxed);
        let showtime = self
            .catalog
            .clone()
            .create_showtime(bearer(
                &self.admin_token,
                CreateShowtimeRequest {
                    movie_id: self.movie_id.clone(),
                    auditorium: auditorium(&self.run, n),
                    start_time: Some(prost_types::Timestamp {
                        seconds: self.start_unix,
                        nanos: 0,
                    }),
                    price: PRICE,
                    seat_layout: Some(SeatLayout {
                        rows: self.layout.rows as i32,
                        seats_per_row: self.layout.seats_per_row as i32,
                    }),
                },
            )?)
            .await
            .context("scheduling a showtime in catalog-svc as the admin")?
            .into_inner()
            .showtime
            .ok_or_else(|| anyhow!("CreateShowtime answered without the showtime"))?;
        Ok(showtime.showtime_id)
    }
}

/// The auditorium of a run's `n`th showtime: at most 50 characters, as the
/// catalog allows, with a run id of 8.
pub fn auditorium(run: &str, n: u32) -> String {
    format!("loadgen {run} {n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auditoriums_are_unique_per_run_and_fit_the_catalog() {
        assert_eq!(auditorium("1a2b3c4d", 0), "loadgen 1a2b3c4d 0");
        assert_ne!(auditorium("1a2b3c4d", 1), auditorium("1a2b3c4e", 1));
        assert!(auditorium("1a2b3c4d", u32::MAX).len() <= 50);
    }

    #[test]
    fn capacity_is_rows_times_seats() {
        let layout = Layout {
            rows: 26,
            seats_per_row: 50,
        };
        assert_eq!(layout.capacity(), 1300);
    }
}
