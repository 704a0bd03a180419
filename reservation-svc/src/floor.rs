//! The floor plan: tables, and which of them are free when. A table added
//! or put back in service is offered to the waitlist at once.

use chrono::{DateTime, NaiveDate, Utc};
use service_kit::ServiceError;
use service_kit::clock::Clock;
use service_kit::db::{Pool, RefuseExt, ScopedFutureExt, read, write_once};
use uuid::Uuid;

use crate::db::tables::{self, NewTable, TableChanges, TableRow};
use crate::db::{self, holds};
use crate::domain::values::{Area, Capacity, DurationMinutes, PartySize, TableLabel};
use crate::domain::{Refusal, RestaurantPolicy, seating};
use crate::waitlist::Waitlist;

/// A bookable start time and the tables free for it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub is_peak_hour: bool,
    pub deposit: i64,
    pub tables: Vec<TableRow>,
    /// When no table seats the party alone: tables of one area that do
    /// together, best first.
    pub combinations: Vec<Vec<TableRow>>,
}

/// What UpdateTable may change.
#[derive(Debug, Default)]
pub struct TableUpdate {
    pub label: Option<TableLabel>,
    pub capacity: Option<Capacity>,
    pub area: Option<Area>,
    pub active: Option<bool>,
}

#[derive(Clone)]
pub struct Floor {
    pool: Pool,
    clock: Clock,
    waitlist: Waitlist,
}

impl Floor {
    pub fn new(pool: Pool, clock: Clock, waitlist: Waitlist) -> Self {
        Self {
            pool,
            clock,
            waitlist,
        }
    }

    pub async fn create(
        &self,
        label: TableLabel,
        capacity: Capacity,
        area: Area,
    ) -> Result<TableRow, ServiceError> {
        let now = self.clock.now();
        let table = NewTable {
            id: Uuid::now_v7(),
            label: label.as_str(),
            capacity: capacity.get(),
            area: area.as_str(),
            created_at: now,
            updated_at: now,
        };
        let row = write_once(&self.pool, |conn| {
            async move { tables::insert(conn, table).await.refuse(db::refusal) }.scope_boxed()
        })
        .await?;
        tracing::info!(table_id = %row.id, label = %row.label, "table created");
        self.waitlist.offer_free_slots_everywhere().await;
        Ok(row)
    }

    pub async fn update(&self, id: Uuid, update: TableUpdate) -> Result<TableRow, ServiceError> {
        let changes = TableChanges {
            label: update.label.as_ref().map(TableLabel::as_str),
            capacity: update.capacity.map(Capacity::get),
            area: update.area.as_ref().map(Area::as_str),
            active: update.active,
        };
        if changes.label.is_none()
            && changes.capacity.is_none()
            && changes.area.is_none()
            && changes.active.is_none()
        {
            let row = read(&self.pool, |conn| {
                async move { Ok::<_, ServiceError>(tables::find(conn, id).await?) }.scope_boxed()
            })
            .await?;
            return Ok(row.ok_or(Refusal::NoTable(id))?);
        }
        let now = self.clock.now();
        let row = write_once(&self.pool, |conn| {
            async move {
                tables::update(conn, id, changes, now)
                    .await
                    .refuse(db::refusal)
            }
            .scope_boxed()
        })
        .await?;
        let row = row.ok_or(Refusal::NoTable(id))?;
        if update.active == Some(true) || update.capacity.is_some() {
            self.waitlist.offer_free_slots_everywhere().await;
        }
        Ok(row)
    }

    /// One page of tables after the `(label, id)` of the previous page's
    /// last, the total, and whether more follow.
    pub async fn list(
        &self,
        after: Option<(TableLabel, Uuid)>,
        area: Option<&str>,
        include_inactive: bool,
        size: i64,
    ) -> Result<(Vec<TableRow>, i64, bool), ServiceError> {
        let after = after.as_ref().map(|(label, id)| (label.as_str(), *id));
        let (mut rows, total) = read(&self.pool, |conn| {
            async move {
                let rows = tables::page(conn, after, area, include_inactive, size + 1).await?;
                let total = tables::count(conn, area, include_inactive).await?;
                Ok::<_, ServiceError>((rows, total))
            }
            .scope_boxed()
        })
        .await?;
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        Ok((rows, total, more))
    }

    /// For each start time on `date`'s grid, the active tables that seat the
    /// party and are free for the whole duration, smallest first; when none
    /// does alone, the combinations of free tables of one area that do.
    pub async fn availability(
        &self,
        policy: &RestaurantPolicy,
        date: NaiveDate,
        party: PartySize,
        duration: DurationMinutes,
        area: Option<&str>,
    ) -> Result<Vec<Slot>, ServiceError> {
        let starts = policy.slots(date, duration, self.clock.now());
        let (Some(first), Some(last)) = (starts.first(), starts.last()) else {
            return Ok(Vec::new());
        };
        let span_end = *last + duration.as_chrono();
        let first = *first;
        let (active, held) = read(&self.pool, |conn| {
            async move {
                let active = tables::active(conn, area).await?;
                let ids: Vec<Uuid> = active.iter().map(|t| t.id).collect();
                let held = holds::overlapping(conn, Some(&ids), first, span_end, None).await?;
                Ok::<_, ServiceError>((active, held))
            }
            .scope_boxed()
        })
        .await?;
        Ok(starts
            .into_iter()
            .filter_map(|start| {
                let end = start + duration.as_chrono();
                let free: Vec<&TableRow> = active
                    .iter()
                    .filter(|table| {
                        !held.iter().any(|hold| {
                            hold.table_id == table.id
                                && hold.start_time < end
                                && hold.end_time > start
                        })
                    })
                    .collect();
                let alone: Vec<TableRow> = free
                    .iter()
                    .filter(|table| table.capacity >= party.get())
                    .map(|table| (*table).clone())
                    .collect();
                let combinations = if alone.is_empty() {
                    let seats: Vec<_> = free.iter().map(|t| (*t).clone().into_offer()).collect();
                    seating::combinations(&seats, party.get())
                        .into_iter()
                        .map(|combo| {
                            combo
                                .iter()
                                .filter_map(|seat| free.iter().find(|t| t.id == seat.id))
                                .map(|table| (*table).clone())
                                .collect()
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let is_peak_hour = policy.is_peak_hour(start);
                (!alone.is_empty() || !combinations.is_empty()).then(|| Slot {
                    start,
                    end,
                    is_peak_hour,
                    deposit: policy.deposit_for(party, is_peak_hour),
                    tables: alone,
                    combinations,
                })
            })
            .collect())
    }
}
