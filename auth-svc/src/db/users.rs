//! The `users` table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::users;

/// The unique indexes (over lower()) that keep emails and usernames apart.
pub const EMAIL_UNIQUE: &str = "users_email_key";
pub const USERNAME_UNIQUE: &str = "users_username_key";

diesel::define_sql_function!(fn lower(x: Text) -> Text);
diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower_opt(x: Nullable<Text>) -> Nullable<Text>;
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub username: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub username: Option<&'a str>,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut AsyncPgConnection, user: NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(user)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The account whose email or username is `login`, ignoring case.
pub async fn find_by_login(
    conn: &mut AsyncPgConnection,
    login: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(
            lower(users::email)
                .eq(lower(login))
                .or(lower_opt(users::username).eq(lower(login).nullable())),
        )
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(lower(users::email).eq(lower(email)))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Counts a failed sign-in at `now` in one statement, so concurrent guesses
/// all count. Reaching `threshold` locks the account until `lock_until` and
/// starts the count again.
pub async fn record_failed_login(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    threshold: i32,
    lock_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<UserRow> {
    diesel::sql_query(
        "UPDATE users SET \
           locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
           failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END, \
           updated_at = $4 \
         WHERE id = $1 \
         RETURNING *",
    )
    .bind::<diesel::sql_types::Uuid, _>(id)
    .bind::<Integer, _>(threshold)
    .bind::<Timestamptz, _>(lock_until)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
}

pub async fn record_successful_login(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    diesel::update(users::table.find(id).filter(users::failed_logins.ne(0)))
        .set(users::failed_logins.eq(0))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn set_role(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    role: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<UserRow>> {
    diesel::update(users::table.find(id))
        .set((users::role.eq(role), users::updated_at.eq(now)))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// One page in (created_at, id) order, after the given position.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order((users::created_at.asc(), users::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((created_at, id)) = after {
        query = query.filter(
            users::created_at
                .gt(created_at)
                .or(users::created_at.eq(created_at).and(users::id.gt(id))),
        );
    }
    query.load(conn).await
}

pub async fn count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn).await
}
