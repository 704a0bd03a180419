//! The `operations` table: each import's long-running operation, its
//! progress as the import reports it, and how it ended.
//!
//! The import writes its row's start and progress on connections of their
//! own (committed at once, so any replica reads them) and its end inside
//! the import's transaction, so that SUCCEEDED commits with the movies.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::operations;
use super::{Page, PageRequest};
use crate::domain::OperationState;

diesel::define_sql_function!(fn coalesce(x: Nullable<Timestamptz>, y: Timestamptz) -> Nullable<Timestamptz>);

/// What ListOperations asks for: `Some(done)` to list only the operations
/// done or not, after the (start, id) of the last one of the page before.
pub type ListRequest = PageRequest<Option<bool>, (DateTime<Utc>, Uuid)>;

/// The only kind of operation so far.
pub const IMPORT_MOVIES: &str = "import_movies";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = operations, check_for_backend(diesel::pg::Pg))]
pub struct OperationRow {
    pub id: Uuid,
    pub state: String,
    pub trigger: String,
    pub actor_id: Option<Uuid>,
    pub pages: i32,
    progress: serde_json::Value,
    pub cancel_requested_at: Option<DateTime<Utc>>,
    response: Option<serde_json::Value>,
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl OperationRow {
    /// The state as stored; the table's check allows no other.
    pub fn state(&self) -> OperationState {
        OperationState::parse(&self.state).unwrap_or(OperationState::Running)
    }

    /// The progress as last written (nothing yet: all zero).
    pub fn progress(&self) -> Progress {
        serde_json::from_value(self.progress.clone()).unwrap_or_default()
    }

    /// What a SUCCEEDED import did.
    pub fn response(&self) -> Option<Response> {
        serde_json::from_value(self.response.clone()?).ok()
    }
}

/// How far an import has got: the `progress` column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub requests_made: i32,
    pub pages_fetched: i32,
    pub movies_fetched: i32,
    pub retries: i32,
    /// While TheMovieDB asks to wait: until when, and why.
    pub waiting_until: Option<DateTime<Utc>>,
    pub waiting_for: Option<String>,
}

/// What a SUCCEEDED import did: the `response` column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub skipped: Vec<SkippedEntry>,
}

/// One movie a SUCCEEDED import left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedEntry {
    pub tmdb_id: i64,
    pub title: String,
    pub reason: String,
}

/// A new RUNNING import.
#[derive(Debug, Insertable)]
#[diesel(table_name = operations)]
pub struct NewOperation<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub state: &'a str,
    pub trigger: &'a str,
    pub actor_id: Option<Uuid>,
    pub pages: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How an import ended, as its row says it.
#[derive(Debug, Clone)]
pub enum End {
    Succeeded(Response),
    /// FAILED or CANCELLED, with a google.rpc.Code and its message.
    Stopped {
        state: OperationState,
        code: i32,
        message: String,
    },
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    operation: NewOperation<'_>,
) -> QueryResult<OperationRow> {
    diesel::insert_into(operations::table)
        .values(operation)
        .returning(OperationRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<OperationRow>> {
    operations::table
        .find(id)
        .select(OperationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The RUNNING import, if any.
pub async fn running(conn: &mut AsyncPgConnection) -> QueryResult<Option<OperationRow>> {
    operations::table
        .filter(operations::kind.eq(IMPORT_MOVIES))
        .filter(operations::state.eq(OperationState::Running.as_str()))
        .select(OperationRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Writes a RUNNING import's progress; answers whether it was asked to
/// stop (false when it is no longer RUNNING).
pub async fn report(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    progress: &Progress,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let asked: Option<Option<DateTime<Utc>>> = diesel::update(
        operations::table
            .find(id)
            .filter(operations::state.eq(OperationState::Running.as_str())),
    )
    .set((
        operations::progress.eq(json(progress)),
        operations::updated_at.eq(now),
    ))
    .returning(operations::cancel_requested_at)
    .get_result(conn)
    .await
    .optional()?;
    Ok(matches!(asked, Some(Some(_))))
}

/// Whether the import was asked to stop, its row locked until the
/// transaction ends (a CancelOperation then waits, and finds it ended).
pub async fn lock_cancel_request(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    let asked: Option<DateTime<Utc>> = operations::table
        .find(id)
        .select(operations::cancel_requested_at)
        .for_update()
        .first(conn)
        .await?;
    Ok(asked.is_some())
}

/// Ends a RUNNING import: its last progress (no longer waiting) and how it
/// ended.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    progress: &Progress,
    end: &End,
    now: DateTime<Utc>,
) -> QueryResult<OperationRow> {
    let progress = Progress {
        waiting_until: None,
        waiting_for: None,
        ..progress.clone()
    };
    let (state, response, code, message) = match end {
        End::Succeeded(response) => (OperationState::Succeeded, Some(json(response)), None, None),
        End::Stopped {
            state,
            code,
            message,
        } => (*state, None, Some(*code), Some(message.as_str())),
    };
    diesel::update(
        operations::table
            .find(id)
            .filter(operations::state.eq(OperationState::Running.as_str())),
    )
    .set((
        operations::state.eq(state.as_str()),
        operations::progress.eq(json(&progress)),
        operations::response.eq(response),
        operations::error_code.eq(code),
        operations::error_message.eq(message),
        operations::updated_at.eq(now),
        operations::finished_at.eq(Some(now)),
    ))
    .returning(OperationRow::as_returning())
    .get_result(conn)
    .await
}

/// Ends every RUNNING import as FAILED with `code` and `message`: for
/// imports whose process stopped. Answers their ids. (A wait they were in
/// stays in their progress; a finished operation shows none.)
pub async fn fail_running(
    conn: &mut AsyncPgConnection,
    code: i32,
    message: &str,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    diesel::update(operations::table.filter(operations::state.eq(OperationState::Running.as_str())))
        .set((
            operations::state.eq(OperationState::Failed.as_str()),
            operations::error_code.eq(Some(code)),
            operations::error_message.eq(Some(message)),
            operations::updated_at.eq(now),
            operations::finished_at.eq(Some(now)),
        ))
        .returning(operations::id)
        .get_results(conn)
        .await
}

/// Records that a RUNNING import is asked to stop (the first time counts);
/// `None` when it is not RUNNING (any more).
pub async fn ask_to_cancel(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<OperationRow>> {
    diesel::update(
        operations::table
            .find(id)
            .filter(operations::state.eq(OperationState::Running.as_str())),
    )
    .set((
        operations::cancel_requested_at.eq(coalesce(operations::cancel_requested_at, now)),
        operations::updated_at.eq(now),
    ))
    .returning(OperationRow::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Deletes an operation that has ended; answers how many rows went (0 when
/// it is gone or RUNNING again).
pub async fn delete_ended(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(
        operations::table
            .find(id)
            .filter(operations::state.ne(OperationState::Running.as_str())),
    )
    .execute(conn)
    .await
}

/// A page of operations, newest first (by start, then id); `filter` is
/// `Some(done)` to list only those done or not.
pub async fn page(
    conn: &mut AsyncPgConnection,
    request: &ListRequest,
) -> QueryResult<Page<OperationRow>> {
    let filtered = || {
        let mut query = operations::table.into_boxed();
        match request.filter {
            Some(true) => {
                query = query.filter(operations::state.ne(OperationState::Running.as_str()))
            }
            Some(false) => {
                query = query.filter(operations::state.eq(OperationState::Running.as_str()))
            }
            None => {}
        }
        query
    };
    let mut query = filtered()
        .select(OperationRow::as_select())
        .order((operations::created_at.desc(), operations::id.desc()))
        .limit(request.size + 1);
    if let Some((created_at, id)) = request.after {
        query = query.filter(
            operations::created_at
                .lt(created_at)
                .or(operations::created_at
                    .eq(created_at)
                    .and(operations::id.lt(id))),
        );
    }
    let rows = query.load(conn).await?;
    let total = filtered().count().get_result(conn).await?;
    Ok(Page::of(rows, request.size, total))
}
