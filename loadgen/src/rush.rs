//! seat-rush: `concurrency` clients race for one fresh showtime until it is
//! sold out. Each client orders the same number of tickets again and again
//! (`--quantity`, or 1, 2, 3, 1, … by client) and stops when a refusal says
//! fewer seats are left than it asks for; the rush is over once a refusal
//! says fewer are left than any client asks for. The seat map is then read
//! back to check that no seat went to two orders.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Client, Load};
use crate::orders::Ordered;
use crate::run::{Measured, Plan};
use crate::stats::Recorder;

pub use crate::seat_check::{RushReport, SeatCheck, read_back};

/// Errors in a row after which a client stops: a service that is down
/// would otherwise be asked in a tight loop until the run's cap.
const ERRORS_IN_A_ROW: u32 = 50;

/// The tickets client `client` orders at a time.
pub fn quantity_of(fixed: Option<u32>, client: usize) -> u32 {
    fixed.unwrap_or((client % 3) as u32 + 1)
}

/// Whether a client asking for `quantity` can no longer win after a
/// refusal saying `left` seats are left (unknown: the showtime takes no
/// orders at all). Seats only run out during a rush: the orders won stay
/// PENDING far longer than it lasts.
pub fn gives_up(left: Option<u32>, quantity: u32) -> bool {
    left.is_none_or(|left| left < quantity)
}

/// Whether a refusal marks the sell-out: fewer seats left than the
/// smallest order any client makes, so nobody can win any more.
pub fn sells_out(left: Option<u32>, smallest: u32) -> bool {
    left.is_some_and(|left| left < smallest)
}

/// What the clients of one rush saw.
#[derive(Debug)]
pub struct Rushed {
    /// Every answer: won (ok), refused, or an error.
    pub measured: Measured,
    /// The seats of every order won.
    pub orders: Vec<Vec<String>>,
    /// From the first request sent to the first refusal that marks the
    /// sell-out; `None` when it did not sell out.
    pub time_to_sell_out: Option<Duration>,
}

struct Shared {
    load: Arc<Load>,
    showtime_id: String,
    quantity: Option<u32>,
    smallest: u32,
    timeout: Duration,
    end: Instant,
    /// Set by the first refusal that marks the sell-out: the others stop.
    sold_out: AtomicBool,
}

/// What one client saw.
struct Seen {
    recorder: Recorder,
    orders: Vec<Vec<String>>,
    first_sent: Option<Instant>,
    sold_out_at: Option<Instant>,
    last_answer: Option<Instant>,
}

pub async fn drive(
    plan: &Plan,
    load: Arc<Load>,
    client: &Client,
    showtime_id: &str,
    quantity: Option<u32>,
) -> Rushed {
    let clients = plan.concurrency.max(1);
    let smallest = (0..clients)
        .map(|c| quantity_of(quantity, c))
        .min()
        .unwrap_or(1);
    let shared = Arc::new(Shared {
        load,
        showtime_id: showtime_id.to_owned(),
        quantity,
        smallest,
        timeout: plan.timeout,
        end: Instant::now() + plan.duration,
        sold_out: AtomicBool::new(false),
    });
    let mut tasks = JoinSet::new();
    for index in 0..clients {
        tasks.spawn(rush_client(shared.clone(), client.clone(), index));
    }
    let mut recorder = Recorder::new();
    let mut orders = Vec::new();
    let (mut first, mut sold_out, mut last) = (None, None, None);
    while let Some(joined) = tasks.join_next().await {
        // A client cannot panic short of a bug; its counts are then lost.
        if let Ok(seen) = joined {
            recorder.merge(&seen.recorder);
            orders.extend(seen.orders);
            first = earliest(first, seen.first_sent);
            sold_out = earliest(sold_out, seen.sold_out_at);
            last = last.max(seen.last_answer);
        }
    }
    let since_first = |at: Option<Instant>| Some(at?.saturating_duration_since(first?));
    Rushed {
        measured: Measured {
            recorder,
            elapsed: since_first(last).unwrap_or_default(),
        },
        orders,
        time_to_sell_out: since_first(sold_out),
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn rush_client(shared: Arc<Shared>, mut client: Client, index: usize) -> Seen {
    let quantity = quantity_of(shared.quantity, index);
    // Clients spread over the prepared customers, round robin.
    let user = index % shared.load.fixture.users.len().max(1);
    let mut seen = Seen {
        recorder: Recorder::new(),
        orders: Vec::new(),
        first_sent: None,
        sold_out_at: None,
        last_answer: None,
    };
    let mut errors_in_a_row = 0;
    while Instant::now() < shared.end && !shared.sold_out.load(Ordering::Relaxed) {
        let sent = Instant::now();
        seen.first_sent.get_or_insert(sent);
        let ordered = tokio::time::timeout(
            shared.timeout,
            client.order(user, &shared.showtime_id, quantity),
        )
        .await
        .unwrap_or_else(|_| Ordered::Failed("TIMEOUT".into()));
        let answered = Instant::now();
        seen.last_answer = Some(answered);
        let latency = answered - sent;
        match ordered {
            Ordered::Won { seats, .. } => {
                errors_in_a_row = 0;
                seen.recorder.record(latency, Ok(()));
                seen.orders.push(seats);
            }
            Ordered::Refused { label, left } => {
                errors_in_a_row = 0;
                seen.recorder.record_refused(latency, label);
                if sells_out(left, shared.smallest) {
                    seen.sold_out_at.get_or_insert(answered);
                    shared.sold_out.store(true, Ordering::Relaxed);
                }
                if gives_up(left, quantity) {
                    break;
                }
            }
            Ordered::Failed(label) => {
                seen.recorder.record(latency, Err(label));
                errors_in_a_row += 1;
                if errors_in_a_row >= ERRORS_IN_A_ROW {
                    break;
                }
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_cycle_one_two_three_unless_fixed() {
        let cycled: Vec<u32> = (0..7).map(|c| quantity_of(None, c)).collect();
        assert_eq!(cycled, [1, 2, 3, 1, 2, 3, 1]);
        assert!((0..5).all(|c| quantity_of(Some(2), c) == 2));
    }

    #[test]
    fn a_client_gives_up_when_fewer_seats_are_left_than_it_asks_for() {
        assert!(gives_up(Some(0), 1));
        assert!(gives_up(Some(2), 3));
        assert!(!gives_up(Some(3), 3), "enough for this one");
        assert!(gives_up(None, 1), "the showtime takes no orders");
    }

    #[test]
    fn the_sell_out_is_when_nobody_can_win_any_more() {
        // Clients of 1, 2 and 3 tickets: only "sold out" ends it.
        assert!(!sells_out(Some(2), 1));
        assert!(!sells_out(Some(1), 1));
        assert!(sells_out(Some(0), 1));
        // Everybody orders 3: two seats left is as good as sold out.
        assert!(sells_out(Some(2), 3));
        assert!(!sells_out(Some(3), 3));
        // A showtime that takes no orders was not sold out.
        assert!(!sells_out(None, 1));
    }

    #[test]
    fn the_earliest_of_what_was_seen() {
        let now = Instant::now();
        let later = now + Duration::from_millis(5);
        assert_eq!(earliest(Some(later), Some(now)), Some(now));
        assert_eq!(earliest(None, Some(later)), Some(later));
        assert_eq!(earliest(None, None), None);
    }
}
