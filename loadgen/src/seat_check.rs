//! After a seat rush: the showtime's seat map read back, and the check that
//! no seat was sold twice. The map is read over gRPC straight from
//! order-svc whatever transport the rush used, so the check does not rest
//! on the path under test.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Context;
use kursi_proto::order::v1::order_service_client::OrderServiceClient;
use kursi_proto::order::v1::{GetSeatMapRequest, SeatState};
use serde::Serialize;

use crate::cinema::Layout;
use crate::fixture::{bearer, connect};

/// What the seat map says at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatMap {
    pub free: u32,
    pub held: u32,
    pub sold: u32,
    /// The labels of the seats held or sold.
    pub taken: BTreeSet<String>,
}

/// Reads a showtime's seat map as a signed-in customer.
pub async fn read_back(order_url: &str, token: &str, showtime_id: &str) -> anyhow::Result<SeatMap> {
    let mut orders = OrderServiceClient::new(connect(order_url).await?);
    let map = orders
        .get_seat_map(bearer(
            token,
            GetSeatMapRequest {
                showtime_id: showtime_id.to_owned(),
            },
        )?)
        .await
        .context("reading the seat map back from order-svc")?
        .into_inner();
    let count = |n: i32| u32::try_from(n).unwrap_or_default();
    Ok(SeatMap {
        free: count(map.free_count),
        held: count(map.held_count),
        sold: count(map.sold_count),
        taken: map
            .seats
            .into_iter()
            .filter(|seat| {
                seat.state == SeatState::Held as i32 || seat.state == SeatState::Sold as i32
            })
            .map(|seat| seat.label)
            .collect(),
    })
}

/// No seat sold twice: the seats the map says are taken are exactly those
/// of the orders won, and no label is in two orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeatCheck {
    /// Held plus sold, from the seat map's counts.
    pub taken_in_map: u32,
    /// The seats of all orders won, added up.
    pub in_orders: u32,
    /// Seats that are in more than one order won (counted once per extra
    /// order).
    pub duplicates: u32,
    /// Seats of orders won that the map shows free.
    pub won_but_free: u32,
}

impl SeatCheck {
    pub fn new(map: &SeatMap, orders: &[Vec<String>]) -> Self {
        let labels: Vec<&String> = orders.iter().flatten().collect();
        let distinct: BTreeSet<&String> = labels.iter().copied().collect();
        Self {
            taken_in_map: map.held + map.sold,
            in_orders: labels.len() as u32,
            duplicates: (labels.len() - distinct.len()) as u32,
            won_but_free: distinct
                .iter()
                .filter(|label| !map.taken.contains(label.as_str()))
                .count() as u32,
        }
    }

    pub fn holds(&self) -> bool {
        self.taken_in_map == self.in_orders && self.duplicates == 0 && self.won_but_free == 0
    }

    /// "oversold: no (200 seats, 200 in orders, 0 duplicates)".
    pub fn line(&self) -> String {
        if self.holds() {
            format!(
                "oversold: no ({} seats, {} in orders, {} duplicates)",
                self.taken_in_map, self.in_orders, self.duplicates
            )
        } else {
            format!(
                "oversold: CHECK FAILED ({} seats held or sold, {} in orders, {} duplicates, \
                 {} won but free in the seat map)",
                self.taken_in_map, self.in_orders, self.duplicates, self.won_but_free
            )
        }
    }
}

/// A seat rush's own figures, beside the usual ones of its run.
#[derive(Debug, Clone, Serialize)]
pub struct RushReport {
    pub showtime_id: String,
    pub layout: Layout,
    pub capacity: u32,
    /// Tickets per order: one number, or "1, 2, 3 by client".
    pub quantity: String,
    pub sold_out: bool,
    /// From the first request to the first refusal after which nobody can
    /// win a seat.
    pub time_to_sell_out_seconds: Option<f64>,
    pub orders_won: u64,
    pub orders_refused: u64,
    pub errors: u64,
    pub seats_sold: u32,
    /// Free in the seat map at the end.
    pub seats_left: u32,
    pub check: SeatCheck,
    /// The summary line of the check.
    pub oversold: String,
}

impl RushReport {
    pub(crate) fn write(&self, out: &mut String) {
        let layout = self.layout;
        let _ = writeln!(
            out,
            "  showtime    {}: {} × {} = {} seats; tickets an order: {}",
            self.showtime_id, layout.rows, layout.seats_per_row, self.capacity, self.quantity
        );
        match self.time_to_sell_out_seconds {
            Some(seconds) => {
                let _ = writeln!(
                    out,
                    "  sold out    in {seconds:.3} s (first request to the first refusal with \
                     no seats left for anyone); seats left: {}",
                    self.seats_left
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "  sold out    no; seats left when the run stopped: {}",
                    self.seats_left
                );
            }
        }
        let _ = writeln!(
            out,
            "  orders      won {} ({} seats), refused {}, errors {}",
            self.orders_won, self.seats_sold, self.orders_refused, self.errors
        );
        let _ = writeln!(out, "  {}", self.oversold);
        if !self.check.holds() && self.errors > 0 {
            let _ = writeln!(
                out,
                "  (an order whose answer was lost to an error may still have been made)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(held: u32, sold: u32, taken: &[&str]) -> SeatMap {
        SeatMap {
            free: 10 - held - sold,
            held,
            sold,
            taken: taken.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn orders(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|seats| seats.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    fn every_taken_seat_in_exactly_one_order_holds() {
        let check = SeatCheck::new(
            &map(3, 0, &["A1", "A2", "B1"]),
            &orders(&[&["A1", "A2"], &["B1"]]),
        );
        assert_eq!(
            check,
            SeatCheck {
                taken_in_map: 3,
                in_orders: 3,
                duplicates: 0,
                won_but_free: 0,
            }
        );
        assert!(check.holds());
        assert_eq!(
            check.line(),
            "oversold: no (3 seats, 3 in orders, 0 duplicates)"
        );
        assert!(SeatCheck::new(&map(0, 0, &[]), &[]).holds(), "nothing sold");
    }

    #[test]
    fn a_seat_in_two_orders_fails() {
        let check = SeatCheck::new(
            &map(2, 0, &["A1", "A2"]),
            &orders(&[&["A1", "A2"], &["A2"]]),
        );
        assert_eq!((check.in_orders, check.duplicates), (3, 1));
        assert!(!check.holds());
        assert!(
            check.line().starts_with("oversold: CHECK FAILED"),
            "{}",
            check.line()
        );
    }

    fn report(check: SeatCheck, errors: u64) -> RushReport {
        RushReport {
            showtime_id: "s1".into(),
            layout: Layout {
                rows: 2,
                seats_per_row: 5,
            },
            capacity: 10,
            quantity: "1, 2, 3 by client".into(),
            sold_out: true,
            time_to_sell_out_seconds: Some(0.25),
            orders_won: 5,
            orders_refused: 8,
            errors,
            seats_sold: check.in_orders,
            seats_left: 0,
            oversold: check.line(),
            check,
        }
    }

    #[test]
    fn a_failed_check_fails_the_run_and_says_so() {
        use crate::stats::{Recorder, Report, Summary};
        let good = SeatCheck::new(&map(2, 0, &["A1", "A2"]), &orders(&[&["A1", "A2"]]));
        let bad = SeatCheck::new(
            &map(2, 0, &["A1", "A2"]),
            &orders(&[&["A1", "A2"], &["A2"]]),
        );
        let run = |transport, check, errors| {
            let mut run = Report::new(
                "seat-rush",
                transport,
                "t".into(),
                8,
                &Recorder::new(),
                std::time::Duration::from_secs(1),
                vec![],
            );
            run.rush = Some(report(check, errors));
            run
        };
        let fine = Summary::new(vec![run("grpc", good, 0)]);
        assert!(fine.failures().is_empty());
        let text = fine.text();
        assert!(
            text.contains("  oversold: no (2 seats, 2 in orders, 0 duplicates)"),
            "{text}"
        );
        assert!(text.contains("sold out    in 0.250 s"), "{text}");
        assert!(
            text.contains("won 5 (2 seats), refused 8, errors 0"),
            "{text}"
        );

        let failed = Summary::new(vec![run("grpc", good, 0), run("rest", bad, 1)]);
        assert_eq!(
            failed.failures(),
            ["seat-rush over rest: the oversold check does not hold"]
        );
        let text = failed.text();
        assert!(text.contains("oversold: CHECK FAILED"), "{text}");
        assert!(text.contains("lost to an error"), "{text}");
    }

    #[test]
    fn a_count_that_does_not_add_up_fails() {
        // Taken in the map but in no order won (an answer lost, or a seat
        // held twice and shown once).
        assert!(
            !SeatCheck::new(&map(3, 0, &["A1", "A2", "A3"]), &orders(&[&["A1", "A2"]])).holds()
        );
        // Won, but the map shows it free.
        let check = SeatCheck::new(&map(2, 0, &["A1", "A2"]), &orders(&[&["A1"], &["C9"]]));
        assert_eq!(check.won_but_free, 1);
        assert!(!check.holds());
    }
}
