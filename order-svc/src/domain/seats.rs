//! Seats and layouts, and how seats are picked for an order that asks for a
//! quantity: side by side in one row when it can, best rows first.

use std::collections::HashSet;

use super::{Holds, Refusal};

/// A seat: row 1 ("A") to 26 ("Z"), number from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seat {
    pub row: i32,
    pub number: i32,
}

impl Seat {
    /// A label such as "C5" (the row letter in either case, the number
    /// without leading zeros); `None` for anything else.
    pub fn parse(label: &str) -> Option<Self> {
        let label = label.trim();
        let mut chars = label.chars();
        let letter = chars.next()?.to_ascii_uppercase();
        if !letter.is_ascii_uppercase() {
            return None;
        }
        let digits = chars.as_str();
        let canonical = !digits.is_empty()
            && digits.len() <= 2
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !canonical {
            return None;
        }
        Some(Self {
            row: i32::from(letter as u8 - b'A') + 1,
            number: digits.parse().ok()?,
        })
    }

    pub fn row_letter(self) -> char {
        char::from(b'A' + (self.row - 1).clamp(0, 25) as u8)
    }

    pub fn label(self) -> String {
        format!("{}{}", self.row_letter(), self.number)
    }
}

/// A showtime's seats: `rows` × `seats_per_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub rows: i32,
    pub seats_per_row: i32,
}

impl Layout {
    pub fn capacity(self) -> i32 {
        self.rows * self.seats_per_row
    }

    pub fn contains(self, seat: Seat) -> bool {
        (1..=self.rows).contains(&seat.row) && (1..=self.seats_per_row).contains(&seat.number)
    }

    /// Every seat, row by row, then by number.
    pub fn seats(self) -> impl Iterator<Item = Seat> {
        (1..=self.rows)
            .flat_map(move |row| (1..=self.seats_per_row).map(move |number| Seat { row, number }))
    }

    /// Rows from best to worst: nearest two thirds of the way back first,
    /// the one behind before the one in front when two are as near.
    fn rows_by_preference(self) -> Vec<i32> {
        let sweet = ((self.rows - 1) as f64 * 2.0 / 3.0).round() as i32 + 1;
        let mut rows: Vec<i32> = (1..=self.rows).collect();
        rows.sort_by_key(|row| ((row - sweet).abs(), -row));
        rows
    }

    /// Twice the distance of a block of `n` starting at `first` from the
    /// row's middle (twice, to stay in whole numbers).
    fn off_centre(self, first: i32, n: i32) -> i32 {
        ((2 * first + n - 1) - (self.seats_per_row + 1)).abs()
    }

    /// `n` free seats: the block of `n` side by side nearest the middle of
    /// the best row that has one; else the best free seats one by one.
    /// `None` when fewer than `n` are free.
    pub fn pick(self, taken: &HashSet<Seat>, n: i32) -> Option<Vec<Seat>> {
        let free = |seat: &Seat| !taken.contains(seat);
        if (self.seats().filter(free).count() as i32) < n || n < 1 {
            return None;
        }
        let rows = self.rows_by_preference();
        for &row in &rows {
            let block = (1..=self.seats_per_row - n + 1)
                .filter(|first| {
                    (0..n).all(|k| {
                        free(&Seat {
                            row,
                            number: first + k,
                        })
                    })
                })
                .min_by_key(|first| self.off_centre(*first, n));
            if let Some(first) = block {
                return Some(
                    (0..n)
                        .map(|k| Seat {
                            row,
                            number: first + k,
                        })
                        .collect(),
                );
            }
        }
        let mut singles: Vec<Seat> = rows
            .iter()
            .flat_map(|&row| {
                let mut seats: Vec<Seat> = (1..=self.seats_per_row)
                    .map(|number| Seat { row, number })
                    .filter(free)
                    .collect();
                seats.sort_by_key(|seat| self.off_centre(seat.number, 1));
                seats
            })
            .take(n as usize)
            .collect();
        singles.sort();
        Some(singles)
    }
}

/// What an order asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// So many seats, picked by the service.
    Quantity(i32),
    /// These seats, in row then number order, no duplicates.
    Seats(Vec<Seat>),
}

/// Every chosen seat that the layout does not have, named at once, so the
/// customer fixes them in one go.
pub fn outside_the_layout(wanted: &Wanted, layout: Layout) -> Result<(), Refusal> {
    let Wanted::Seats(chosen) = wanted else {
        return Ok(());
    };
    let outside: Vec<Seat> = chosen
        .iter()
        .copied()
        .filter(|seat| !layout.contains(*seat))
        .collect();
    if outside.is_empty() {
        Ok(())
    } else {
        Err(Refusal::OutsideTheLayout {
            seats: outside,
            layout,
        })
    }
}

/// The seats of a showtime that live orders have: bought, or held by
/// unpaid (PENDING) orders, which release them if they lapse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    /// Every seat held or sold.
    pub seats: HashSet<Seat>,
    /// How many of them are held.
    pub held: i32,
}

/// The seats an order gets when `taken` are held or sold, or why not. Too
/// few free seats for a quantity says whether unpaid orders hold some (the
/// command then adds when the first of them lapses).
pub fn pick(wanted: &Wanted, layout: Layout, taken: &Taken) -> Result<Vec<Seat>, Refusal> {
    match wanted {
        Wanted::Quantity(n) => layout.pick(&taken.seats, *n).ok_or_else(|| {
            let holds = (taken.held > 0).then_some(Holds {
                seats: taken.held,
                first_released: None,
            });
            match layout.capacity() - taken.seats.len() as i32 {
                0 => Refusal::SoldOut { holds },
                left => Refusal::TooFewLeft {
                    left,
                    asked: *n,
                    holds,
                },
            }
        }),
        Wanted::Seats(chosen) => {
            let gone: Vec<Seat> = chosen
                .iter()
                .copied()
                .filter(|seat| taken.seats.contains(seat))
                .collect();
            if gone.is_empty() {
                Ok(chosen.clone())
            } else {
                Err(Refusal::SeatsTaken { seats: gone })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(labels: &[&str]) -> HashSet<Seat> {
        labels.iter().map(|l| Seat::parse(l).unwrap()).collect()
    }

    fn labels(picked: Option<Vec<Seat>>) -> Vec<String> {
        picked.unwrap().into_iter().map(Seat::label).collect()
    }

    #[test]
    fn labels_are_a_row_letter_and_a_number() {
        assert_eq!(Seat::parse("C5"), Some(Seat { row: 3, number: 5 }));
        assert_eq!(Seat::parse(" c12 ").unwrap().label(), "C12");
        for bad in [
            "", "5", "C", "C05", "C0", "C123", "CC5", "C-1", "Ä1", "C5 6",
        ] {
            assert_eq!(Seat::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_block_goes_in_the_best_row_nearest_the_middle() {
        let layout = Layout {
            rows: 10,
            seats_per_row: 10,
        };
        // Two thirds back of A..J is row G.
        assert_eq!(labels(layout.pick(&HashSet::new(), 2)), ["G5", "G6"]);
        assert_eq!(labels(layout.pick(&HashSet::new(), 3)), ["G4", "G5", "G6"]);
        // G's middle taken: the block nearest it in G still.
        assert_eq!(labels(layout.pick(&seats(&["G5", "G6"]), 2)), ["G3", "G4"]);
        // G full: H (behind) before F.
        let g: Vec<String> = (1..=10).map(|n| format!("G{n}")).collect();
        let g: Vec<&str> = g.iter().map(String::as_str).collect();
        assert_eq!(labels(layout.pick(&seats(&g), 2)), ["H5", "H6"]);
    }

    #[test]
    fn without_a_block_the_best_seats_one_by_one_and_none_when_too_few() {
        let layout = Layout {
            rows: 1,
            seats_per_row: 5,
        };
        let taken = seats(&["A2", "A4"]);
        // A3 is the middle; A1 and A5 as near, A1 first.
        assert_eq!(labels(layout.pick(&taken, 2)), ["A1", "A3"]);
        assert_eq!(layout.pick(&taken, 4), None);
        assert_eq!(layout.capacity(), 5);
    }

    #[test]
    fn chosen_seats_outside_the_layout_are_named_together() {
        let layout = Layout {
            rows: 5,
            seats_per_row: 8,
        };
        let chosen = |labels: &[&str]| {
            let mut seats: Vec<Seat> = seats(labels).into_iter().collect();
            seats.sort();
            Wanted::Seats(seats)
        };
        assert_eq!(outside_the_layout(&chosen(&["A1", "E8"]), layout), Ok(()));
        assert_eq!(outside_the_layout(&Wanted::Quantity(50), layout), Ok(()));
        assert_eq!(
            outside_the_layout(&chosen(&["A9", "E8", "F1"]), layout),
            Err(Refusal::OutsideTheLayout {
                seats: vec![Seat { row: 1, number: 9 }, Seat { row: 6, number: 1 }],
                layout
            })
        );
    }

    #[test]
    fn picking_refuses_when_too_few_are_free_or_a_chosen_seat_is_taken() {
        let layout = Layout {
            rows: 1,
            seats_per_row: 3,
        };
        let sold = |labels: &[&str]| Taken {
            seats: seats(labels),
            held: 0,
        };
        let taken = sold(&["A2"]);
        assert_eq!(
            labels(pick(&Wanted::Quantity(2), layout, &taken).ok()),
            ["A1", "A3"]
        );
        assert_eq!(
            pick(&Wanted::Quantity(3), layout, &taken),
            Err(Refusal::TooFewLeft {
                left: 2,
                asked: 3,
                holds: None
            })
        );
        assert_eq!(
            pick(&Wanted::Quantity(1), layout, &sold(&["A1", "A2", "A3"])),
            Err(Refusal::SoldOut { holds: None })
        );
        // Held seats may come free: the refusal says how many are held.
        let two_held = Taken {
            seats: seats(&["A1", "A2", "A3"]),
            held: 2,
        };
        let held = Some(Holds {
            seats: 2,
            first_released: None,
        });
        assert_eq!(
            pick(&Wanted::Quantity(1), layout, &two_held),
            Err(Refusal::SoldOut { holds: held })
        );
        let one_free = Taken {
            seats: seats(&["A1", "A2"]),
            held: 2,
        };
        assert_eq!(
            pick(&Wanted::Quantity(2), layout, &one_free),
            Err(Refusal::TooFewLeft {
                left: 1,
                asked: 2,
                holds: held
            })
        );
        let a1a2 = vec![Seat { row: 1, number: 1 }, Seat { row: 1, number: 2 }];
        assert_eq!(
            pick(&Wanted::Seats(a1a2), layout, &taken),
            Err(Refusal::SeatsTaken {
                seats: vec![Seat { row: 1, number: 2 }]
            })
        );
    }
}
