//! The import's second half: what was fetched, written in the import's
//! transaction — the movies added and refreshed, their events, and the
//! record of the import.

use diesel_async::AsyncPgConnection;
use service_kit::ServiceError;
use service_kit::auth::Actor;
use service_kit::db::RefuseExt;
use uuid::Uuid;

use super::{Importer, Skipped, Summary, Trigger};
use crate::db::imports::{self, NewImport};
use crate::db::{self, Writing, movies};
use crate::domain::import::{addition, refreshment};
use crate::events;
use crate::render;
use crate::tmdb::TmdbMovie;

impl Importer {
    /// Adds the movies not known yet and refreshes the known ones (locked
    /// meanwhile), and records the import.
    pub(super) async fn write(
        &self,
        conn: &mut AsyncPgConnection,
        trigger: Trigger,
        pages: u32,
        fetched: &[TmdbMovie],
    ) -> Result<Summary, ServiceError> {
        let summary = self.upsert(conn, trigger.actor(), fetched).await?;
        imports::record(
            conn,
            NewImport {
                trigger: trigger.name(),
                actor_id: trigger.actor().user_id(),
                pages: pages as i32,
                created_count: summary.created,
                updated_count: summary.updated,
                unchanged_count: summary.unchanged,
                skipped_count: summary.skipped.len() as i32,
                completed_at: summary.completed_at,
            },
        )
        .await?;
        Ok(summary)
    }

    async fn upsert(
        &self,
        conn: &mut AsyncPgConnection,
        actor: Actor,
        fetched: &[TmdbMovie],
    ) -> Result<Summary, ServiceError> {
        let now = self.clock.now();
        let ids: Vec<i64> = fetched.iter().map(|m| m.tmdb_id).collect();
        let known = movies::lock_by_tmdb_ids(conn, &ids).await?;
        let mut summary = Summary {
            completed_at: now,
            ..Summary::default()
        };
        let mut changes = Vec::new();
        for movie in fetched {
            match known.iter().find(|row| row.tmdb_id == Some(movie.tmdb_id)) {
                Some(row) => match refreshment(movie, &row.content(), &row.edited()) {
                    Some(revision) => {
                        let (content, edited) = (&revision.content, &revision.edited);
                        let row = movies::update(conn, row.id, content, edited, now).await?;
                        changes.push(render::movie_updated(&row, &revision.changed));
                        summary.updated += 1;
                    }
                    None => summary.unchanged += 1,
                },
                None => match addition(movie) {
                    Ok(content) => {
                        let writing = Writing::ImportedMovie {
                            tmdb_id: movie.tmdb_id,
                        };
                        let row = movies::insert(conn, Uuid::now_v7(), &content, now)
                            .await
                            .refuse(|v| db::refusal(v, writing).map(ServiceError::from))?;
                        changes.push(render::movie_created(&row));
                        summary.created += 1;
                    }
                    Err(reason) => summary.skipped.push(Skipped::new(movie, reason)),
                },
            }
        }
        events::append(conn, actor, now, changes).await?;
        Ok(summary)
    }
}
