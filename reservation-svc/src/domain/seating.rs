//! Which tables seat a party: one table alone, or tables combined. Every
//! active table of an area may combine with the others of that area (tables
//! across a room cannot be pushed together), so a combination is of one
//! area. The best choice is the fewest tables, then the least spare
//! capacity; whether the tables are free is the caller's to say, and the
//! database's to guarantee.

use uuid::Uuid;

use super::refusal::Refusal;

/// A table as the seating rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub id: Uuid,
    pub label: String,
    pub capacity: i32,
    pub area: String,
    pub active: bool,
}

/// How many tables one party may be given at most.
pub const MAX_COMBINED: usize = 8;

/// Checks tables someone chose for a party (AssignTable, an offer by hand):
/// each active, all of one area, and together seating `party`. Sorted
/// largest first, the order they are rendered in.
pub fn check_chosen(mut tables: Vec<Seat>, party: i32) -> Result<Vec<Seat>, Refusal> {
    if let Some(closed) = tables.iter().find(|t| !t.active) {
        return Err(Refusal::TableOutOfService {
            label: closed.label.clone(),
        });
    }
    if let Some((first, other)) = tables
        .first()
        .and_then(|first| Some((first, tables.iter().find(|t| !same_area(t, first))?)))
    {
        return Err(Refusal::TablesApart {
            first: format!("{} ({})", first.label, first.area),
            other: format!("{} ({})", other.label, other.area),
        });
    }
    let capacity: i32 = tables.iter().map(|t| t.capacity).sum();
    if capacity < party {
        return Err(match tables.as_slice() {
            [one] => Refusal::TableTooSmall {
                label: one.label.clone(),
                capacity,
                party,
            },
            _ => Refusal::TablesTooSmall {
                labels: labels(&tables),
                capacity,
                party,
            },
        });
    }
    sort_largest_first(&mut tables);
    Ok(tables)
}

fn same_area(a: &Seat, b: &Seat) -> bool {
    a.area.to_lowercase() == b.area.to_lowercase()
}

/// "T1, T2".
pub fn labels(tables: &[Seat]) -> String {
    tables
        .iter()
        .map(|t| t.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn sort_largest_first(tables: &mut [Seat]) {
    tables.sort_by(|a, b| {
        b.capacity
            .cmp(&a.capacity)
            .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
    });
}

/// The best seating among `free` tables for `party`: the smallest single
/// table that seats it, else the best combination of one area.
pub fn best(free: &[Seat], party: i32) -> Option<Vec<Seat>> {
    let single = free
        .iter()
        .filter(|t| t.active && t.capacity >= party)
        .min_by(|a, b| {
            a.capacity
                .cmp(&b.capacity)
                .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
        });
    match single {
        Some(table) => Some(vec![table.clone()]),
        None => combinations(free, party).into_iter().next(),
    }
}

/// For each area, the best combination of two or more of its free tables
/// that seats `party`; ordered by fewest tables, then least spare
/// capacity, then area.
pub fn combinations(free: &[Seat], party: i32) -> Vec<Vec<Seat>> {
    let mut areas: Vec<String> = free
        .iter()
        .filter(|t| t.active)
        .map(|t| t.area.to_lowercase())
        .collect();
    areas.sort();
    areas.dedup();
    let mut found: Vec<Vec<Seat>> = areas
        .iter()
        .filter_map(|area| {
            let mut tables: Vec<Seat> = free
                .iter()
                .filter(|t| t.active && t.area.to_lowercase() == *area)
                .cloned()
                .collect();
            sort_largest_first(&mut tables);
            fewest_then_tightest(&tables, party)
        })
        .filter(|combo| combo.len() >= 2)
        .collect();
    found.sort_by_key(|combo| {
        let capacity: i32 = combo.iter().map(|t| t.capacity).sum();
        (combo.len(), capacity - party)
    });
    found
}

/// The subset of `tables` (at most [`MAX_COMBINED`]) with the fewest tables
/// whose capacity reaches `party`, and of those the least capacity. A
/// knapsack over (count, capacity): capacities are small numbers.
fn fewest_then_tightest(tables: &[Seat], party: i32) -> Option<Vec<Seat>> {
    let total: i32 = tables.iter().map(|t| t.capacity).sum();
    if total < party || party <= 0 {
        return None;
    }
    let cap = total as usize;
    let most = tables.len().min(MAX_COMBINED);
    // reach[c][s]: the first subset found of c tables summing to s.
    let mut reach: Vec<Vec<Option<Vec<usize>>>> = vec![vec![None; cap + 1]; most + 1];
    reach[0][0] = Some(Vec::new());
    for (i, table) in tables.iter().enumerate() {
        let size = table.capacity.max(0) as usize;
        for count in (0..most).rev() {
            for sum in (0..=cap.saturating_sub(size)).rev() {
                if reach[count + 1][sum + size].is_some() {
                    continue;
                }
                if let Some(subset) = &reach[count][sum] {
                    let mut with = subset.clone();
                    with.push(i);
                    reach[count + 1][sum + size] = Some(with);
                }
            }
        }
    }
    (1..=most).find_map(|count| {
        (party as usize..=cap).find_map(|sum| {
            reach[count][sum]
                .as_ref()
                .map(|subset| subset.iter().map(|&i| tables[i].clone()).collect())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seat(label: &str, capacity: i32, area: &str) -> Seat {
        Seat {
            id: Uuid::now_v7(),
            label: label.into(),
            capacity,
            area: area.into(),
            active: true,
        }
    }

    fn names(tables: &[Seat]) -> Vec<&str> {
        tables.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn a_single_table_that_fits_comes_first_and_the_smallest() {
        let free = [seat("T6", 6, "Indoor"), seat("T4", 4, "Indoor")];
        assert_eq!(names(&best(&free, 3).unwrap()), ["T4"]);
        assert_eq!(names(&best(&free, 5).unwrap()), ["T6"]);
    }

    #[test]
    fn combinations_are_fewest_tables_then_least_spare_and_of_one_area() {
        let free = [
            seat("A2", 2, "Indoor"),
            seat("A4", 4, "Indoor"),
            seat("A6", 6, "Indoor"),
            seat("B8", 8, "Outdoor"),
            seat("B3", 3, "Outdoor"),
        ];
        // 10: A6 + A4 (two tables, no spare) beats B8 + B3 (two, one spare).
        let combos = combinations(&free, 10);
        assert_eq!(names(&combos[0]), ["A6", "A4"]);
        assert_eq!(names(&combos[1]), ["B8", "B3"]);
        assert_eq!(names(&best(&free, 10).unwrap()), ["A6", "A4"]);
        // 12: Indoor needs all three; Outdoor cannot: 11.
        assert_eq!(names(&best(&free, 12).unwrap()), ["A6", "A4", "A2"]);
        assert!(best(&free, 13).is_none());
        // Two tables with spare beat three without.
        let free = [
            seat("C5", 5, "Indoor"),
            seat("C6", 6, "Indoor"),
            seat("C2", 2, "Indoor"),
            seat("C3", 3, "Indoor"),
        ];
        assert_eq!(names(&best(&free, 10).unwrap()), ["C6", "C5"]);
        let mut closed = seat("D9", 9, "Indoor");
        closed.active = false;
        assert!(best(&[closed], 2).is_none());
    }

    #[test]
    fn chosen_tables_are_active_of_one_area_and_seat_the_party() {
        let six = seat("T6", 6, "Indoor");
        let four = seat("T4", 4, "indoor");
        let out = seat("O4", 4, "Outdoor");
        let chosen = check_chosen(vec![four.clone(), six.clone()], 10).unwrap();
        assert_eq!(names(&chosen), ["T6", "T4"]);
        assert!(matches!(
            check_chosen(vec![six.clone(), four.clone()], 11),
            Err(Refusal::TablesTooSmall {
                capacity: 10,
                party: 11,
                ..
            })
        ));
        assert!(matches!(
            check_chosen(vec![four.clone()], 5),
            Err(Refusal::TableTooSmall { .. })
        ));
        let apart = check_chosen(vec![six.clone(), out], 8).unwrap_err();
        assert!(apart.to_string().contains("O4 (Outdoor)"), "{apart}");
        let mut closed = four;
        closed.active = false;
        assert!(matches!(
            check_chosen(vec![six, closed], 8),
            Err(Refusal::TableOutOfService { .. })
        ));
    }
}
