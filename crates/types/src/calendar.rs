//! The working-day calendar deadlines run on: weekends, public holidays that fall on weekdays,
//! and the weekend days worked in exchange (调休). Sharing answers (the 政务数据共享条例) and
//! service cases (statutory and promised limits) both count in working days; the calendar itself
//! is configuration.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The `[exchange.calendar]` section of `shuju.toml`: the city's working days.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Calendar {
    /// Public holidays that fall on weekdays.
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are worked (调休).
    pub workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The deadline `n` working days after `start` (the day of `start` itself does not count).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.succ_opt().unwrap_or(to);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    /// Has a step that started on `start` with `days` working days overrun on `today`?
    pub fn overdue(&self, start: NaiveDate, days: u32, today: NaiveDate) -> bool {
        today > self.add_working_days(start, days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn national_day_week_with_a_worked_saturday() {
        // A holiday week: Thursday 1 October to Wednesday 7 October off, Saturday 10 October worked.
        let cal = Calendar {
            holidays: [
                "2026-10-01",
                "2026-10-02",
                "2026-10-05",
                "2026-10-06",
                "2026-10-07",
            ]
            .iter()
            .map(|s| d(s))
            .collect(),
            workdays: [d("2026-10-10")].into(),
        };
        // Submitted on Wednesday 30 September: 2 working days → Friday 9 October (8th, 9th).
        assert_eq!(cal.add_working_days(d("2026-09-30"), 2), d("2026-10-09"));
        // Then 5 more: Sat 10 (worked), Mon 12 … Thu 15.
        assert_eq!(cal.add_working_days(d("2026-10-09"), 5), d("2026-10-15"));
        assert!(cal.overdue(d("2026-09-30"), 2, d("2026-10-10")));
        assert!(!cal.overdue(d("2026-09-30"), 2, d("2026-10-09")));
    }
    proptest! {
        #[test]
        fn deadlines_are_working_days_n_away(y in 2024i32..2030, doy in 1u32..360, n in 0u32..30, hol in prop::collection::btree_set(0u32..360, 0..20)) {
            let start = NaiveDate::from_yo_opt(y, doy).unwrap();
            let cal = Calendar { holidays: hol.iter().filter_map(|o| NaiveDate::from_yo_opt(y, o + 1)).collect(), workdays: BTreeSet::new() };
            let end = cal.add_working_days(start, n);
            prop_assert!(end >= start);
            prop_assert_eq!(cal.working_days_between(start, end), n);
            if n > 0 {
                prop_assert!(cal.is_working_day(end));
            }
            prop_assert!(cal.add_working_days(start, n + 1) > end);
        }
    }
}
