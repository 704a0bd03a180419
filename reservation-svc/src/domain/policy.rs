//! The restaurant's rules that are settings rather than code: its clock and
//! hours, the peak window, the slot grid, how far ahead one may book, turn
//! times by party size, and the deposit policy.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use service_kit::FieldViolation;

use super::values::{DurationMinutes, PartySize};

/// A daily window on the restaurant's clock, `HH:MM-HH:MM`. A window whose
/// end is not after its start runs past midnight; equal ends mean all day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl DailyWindow {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (start, end) = raw
            .trim()
            .split_once('-')
            .ok_or("expected HH:MM-HH:MM, such as 18:00-22:00")?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("{s:?} is not a time of day like 18:00"))
        };
        Ok(Self {
            start: time(start)?,
            end: time(end)?,
        })
    }

    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else if self.start > self.end {
            time >= self.start || time < self.end
        } else {
            true
        }
    }

    /// How long the window is open each day.
    pub fn length(&self) -> chrono::Duration {
        let span = self.end - self.start;
        if span <= chrono::Duration::zero() {
            span + chrono::Duration::days(1)
        } else {
            span
        }
    }
}

impl std::fmt::Display for DailyWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// How long a party keeps its table by size: `2:90,4:105,20:150` means up to
/// 2 guests 90 minutes, up to 4 guests 105, up to 20 guests 150. Sizes above
/// every bound (or an empty policy) get the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnTimes {
    steps: Vec<(i32, DurationMinutes)>,
    default: DurationMinutes,
}

impl TurnTimes {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut steps = Vec::new();
        for step in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (size, minutes) = step
                .split_once(':')
                .ok_or_else(|| format!("{step:?}: expected MAX_PARTY:MINUTES such as 4:105"))?;
            let size: i32 = size
                .trim()
                .parse()
                .map_err(|_| format!("{step:?}: {size:?} is not a party size"))?;
            if !(1..=PartySize::MAX).contains(&size) {
                return Err(format!("{step:?}: party sizes run from 1 to 20"));
            }
            let minutes = minutes
                .trim()
                .parse()
                .ok()
                .and_then(|m| DurationMinutes::parse(m).ok())
                .ok_or_else(|| format!("{step:?}: minutes must be 15 to 480"))?;
            steps.push((size, minutes));
        }
        steps.sort_by_key(|(size, _)| *size);
        if steps.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return Err("a party size appears twice".into());
        }
        Ok(Self {
            steps,
            default: DurationMinutes::DEFAULT,
        })
    }

    pub fn for_party(&self, party: PartySize) -> DurationMinutes {
        self.steps
            .iter()
            .find(|(size, _)| party.get() <= *size)
            .map_or(self.default, |(_, minutes)| *minutes)
    }
}

/// When a deposit is asked for, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositPolicy {
    /// Parties of at least this many guests pay one.
    pub min_party_size: i32,
    /// Whole rupiah per guest; 0 turns deposits off.
    pub per_person: i64,
    /// Cancelling at least this long before the start refunds the deposit.
    pub refund_cutoff: chrono::Duration,
}

/// Why a reservation is being cancelled, as the domain sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    CustomerRequest,
    RestaurantRequest,
    Expired,
    Other,
}

impl CancelReason {
    pub const ALL: [CancelReason; 4] = [
        CancelReason::CustomerRequest,
        CancelReason::RestaurantRequest,
        CancelReason::Expired,
        CancelReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::CustomerRequest => "CUSTOMER_REQUEST",
            CancelReason::RestaurantRequest => "RESTAURANT_REQUEST",
            CancelReason::Expired => "EXPIRED",
            CancelReason::Other => "OTHER",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == stored)
    }
}

/// Everything the restaurant decides by setting.
#[derive(Debug, Clone)]
pub struct RestaurantPolicy {
    pub time_zone: Tz,
    pub opening_hours: DailyWindow,
    pub peak_hours: DailyWindow,
    pub slot_minutes: i64,
    pub booking_window: chrono::Duration,
    pub turn_times: TurnTimes,
    pub deposit: DepositPolicy,
    /// A CONFIRMED reservation not checked in this long after its start is a
    /// no-show.
    pub no_show_grace: chrono::Duration,
    /// How long a waitlist offer holds its slot.
    pub waitlist_offer: chrono::Duration,
}

impl Default for RestaurantPolicy {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Asia::Jakarta,
            opening_hours: DailyWindow {
                start: NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default(),
                end: NaiveTime::from_hms_opt(23, 0, 0).unwrap_or_default(),
            },
            peak_hours: DailyWindow {
                start: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default(),
                end: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or_default(),
            },
            slot_minutes: 30,
            booking_window: chrono::Duration::days(60),
            turn_times: TurnTimes {
                steps: Vec::new(),
                default: DurationMinutes::DEFAULT,
            },
            deposit: DepositPolicy {
                min_party_size: 6,
                per_person: 50_000,
                refund_cutoff: chrono::Duration::hours(24),
            },
            no_show_grace: chrono::Duration::minutes(15),
            waitlist_offer: chrono::Duration::minutes(15),
        }
    }
}

impl RestaurantPolicy {
    /// Whether `start` falls in the peak window on the restaurant's clock.
    pub fn is_peak_hour(&self, start: DateTime<Utc>) -> bool {
        self.peak_hours
            .contains(start.with_timezone(&self.time_zone).time())
    }

    /// The deposit a booking must pay, in whole rupiah; 0 when none.
    pub fn deposit_for(&self, party: PartySize, is_peak_hour: bool) -> i64 {
        self.deposit_for_guests(party.get(), is_peak_hour)
    }

    /// The same, for a party size already checked.
    pub fn deposit_for_guests(&self, guests: i32, is_peak_hour: bool) -> i64 {
        if guests >= self.deposit.min_party_size || is_peak_hour {
            self.deposit.per_person * i64::from(guests)
        } else {
            0
        }
    }

    /// Whether cancelling now gives a paid deposit back: always when the
    /// restaurant called it off or never confirmed it (expired), otherwise
    /// only before the cut-off.
    pub fn refunds_on_cancel(
        &self,
        reason: CancelReason,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        match reason {
            CancelReason::RestaurantRequest | CancelReason::Expired => true,
            CancelReason::CustomerRequest | CancelReason::Other => {
                now <= start - self.deposit.refund_cutoff
            }
        }
    }

    /// A start time a booking may have: in the future, within the booking
    /// window, and while the restaurant is open.
    pub fn check_start(
        &self,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), FieldViolation> {
        let bad = |why: String| FieldViolation::new("start_time", why);
        if start <= now {
            return Err(bad("must be in the future".into()));
        }
        if start > now + self.booking_window {
            return Err(bad(format!(
                "must be within the booking window of {} days",
                self.booking_window.num_days()
            )));
        }
        let local = start.with_timezone(&self.time_zone).time();
        if !self.opening_hours.contains(local) {
            return Err(bad(format!(
                "is outside opening hours ({} {})",
                self.opening_hours, self.time_zone
            )));
        }
        Ok(())
    }

    /// The start times on the slot grid of `date` (restaurant clock) from
    /// opening, such that the party is done by closing; those already past
    /// or beyond the booking window are left out.
    pub fn slots(
        &self,
        date: NaiveDate,
        duration: DurationMinutes,
        now: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let step = chrono::Duration::minutes(self.slot_minutes);
        let open_for = self.opening_hours.length();
        let mut slots = Vec::new();
        let mut offset = chrono::Duration::zero();
        while offset + duration.as_chrono() <= open_for {
            let local = date.and_time(self.opening_hours.start) + offset;
            offset += step;
            // A local time skipped by a DST change has no instant.
            let Some(start) = self.time_zone.from_local_datetime(&local).earliest() else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            if start > now && start <= now + self.booking_window {
                slots.push(start);
            }
        }
        slots
    }

    /// Today on the restaurant's clock.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn party(n: i32) -> PartySize {
        PartySize::parse(Some(n)).unwrap()
    }

    #[test]
    fn peak_hours_are_judged_on_the_restaurants_clock() {
        let policy = RestaurantPolicy::default();
        // 12:00 UTC is 19:00 in Jakarta: peak, although "hour >= 18" in UTC says no.
        assert!(policy.is_peak_hour(utc("2030-01-01T12:00:00Z")));
        // 18:30 UTC is 01:30 in Jakarta: not peak, although UTC says yes.
        assert!(!policy.is_peak_hour(utc("2030-01-01T18:30:00Z")));
        // The window is half-open: 22:00 local is no longer peak.
        assert!(!policy.is_peak_hour(utc("2030-01-01T15:00:00Z")));
        assert!(policy.is_peak_hour(utc("2030-01-01T11:00:00Z")));
    }

    #[test]
    fn windows_parse_and_may_run_past_midnight() {
        let late = DailyWindow::parse("17:00-02:00").unwrap();
        assert!(late.contains(NaiveTime::from_hms_opt(23, 0, 0).unwrap()));
        assert!(late.contains(NaiveTime::from_hms_opt(1, 59, 0).unwrap()));
        assert!(!late.contains(NaiveTime::from_hms_opt(2, 0, 0).unwrap()));
        assert_eq!(late.length(), chrono::Duration::hours(9));
        let always = DailyWindow::parse("00:00-00:00").unwrap();
        assert!(always.contains(NaiveTime::from_hms_opt(3, 0, 0).unwrap()));
        assert_eq!(always.length(), chrono::Duration::hours(24));
        assert!(DailyWindow::parse("18:00").is_err());
        assert!(DailyWindow::parse("25:00-26:00").is_err());
        assert_eq!(late.to_string(), "17:00-02:00");
    }

    #[test]
    fn turn_times_go_by_party_size() {
        let turns = TurnTimes::parse("4:105, 2:90,20:150").unwrap();
        assert_eq!(turns.for_party(party(1)).get(), 90);
        assert_eq!(turns.for_party(party(3)).get(), 105);
        assert_eq!(turns.for_party(party(20)).get(), 150);
        let partial = TurnTimes::parse("2:60").unwrap();
        assert_eq!(partial.for_party(party(8)).get(), 90);
        assert_eq!(TurnTimes::parse("").unwrap().for_party(party(5)).get(), 90);
        assert!(TurnTimes::parse("2:10").is_err());
        assert!(TurnTimes::parse("21:90").is_err());
        assert!(TurnTimes::parse("2:90,2:100").is_err());
        assert!(TurnTimes::parse("two:90").is_err());
    }

    #[test]
    fn deposits_for_large_parties_or_peak_hours() {
        let policy = RestaurantPolicy::default();
        assert_eq!(policy.deposit_for(party(2), false), 0);
        assert_eq!(policy.deposit_for(party(2), true), 100_000);
        assert_eq!(policy.deposit_for(party(6), false), 300_000);
    }

    #[test]
    fn refunds_before_the_cutoff_or_when_the_restaurant_cancels() {
        let policy = RestaurantPolicy::default();
        let start = utc("2030-01-02T12:00:00Z");
        let early = utc("2030-01-01T11:00:00Z");
        let late = utc("2030-01-01T13:00:00Z");
        assert!(policy.refunds_on_cancel(CancelReason::CustomerRequest, start, early));
        assert!(!policy.refunds_on_cancel(CancelReason::CustomerRequest, start, late));
        assert!(!policy.refunds_on_cancel(CancelReason::Other, start, late));
        assert!(policy.refunds_on_cancel(CancelReason::RestaurantRequest, start, late));
        assert!(policy.refunds_on_cancel(CancelReason::Expired, start, late));
    }

    #[test]
    fn start_times_must_be_future_within_the_window_and_open() {
        let policy = RestaurantPolicy::default();
        let now = utc("2030-01-01T00:00:00Z");
        // 19:00 Jakarta the next day.
        assert!(policy.check_start(utc("2030-01-02T12:00:00Z"), now).is_ok());
        let past = policy
            .check_start(utc("2029-12-31T12:00:00Z"), now)
            .unwrap_err();
        assert!(past.description.contains("future"));
        let far = policy
            .check_start(utc("9999-01-01T12:00:00Z"), now)
            .unwrap_err();
        assert!(far.description.contains("booking window"));
        // 03:00 Jakarta.
        let closed = policy
            .check_start(utc("2030-01-01T20:00:00Z"), now)
            .unwrap_err();
        assert!(closed.description.contains("opening hours"), "{closed:?}");
        assert_eq!(closed.field, "start_time");
    }

    #[test]
    fn slots_fill_the_opening_hours_on_the_grid() {
        let policy = RestaurantPolicy::default();
        let now = utc("2030-01-01T00:00:00Z");
        let date = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
        let slots = policy.slots(date, DurationMinutes::parse(90).unwrap(), now);
        // 10:00 to 21:30 Jakarta every 30 minutes: 24 slots.
        assert_eq!(slots.len(), 24);
        assert_eq!(slots[0], utc("2030-01-02T03:00:00Z"));
        assert_eq!(slots[23], utc("2030-01-02T14:30:00Z"));
        // Slots already past are left out.
        let midday = utc("2030-01-02T05:10:00Z");
        assert_eq!(
            policy.slots(date, DurationMinutes::parse(90).unwrap(), midday)[0],
            utc("2030-01-02T05:30:00Z")
        );
    }
}
