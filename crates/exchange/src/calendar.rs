//! Answer deadlines on a working-day calendar.
//!
//! The 政务数据共享条例 sets answer deadlines in working days, and local rules differ (one county:
//! 2 working days for the bureau's check, then 5 or 10 for the provider), so both the calendar
//! (public holidays and the weekend days worked in exchange, 调休; [`Calendar`], shared with the
//! service cases) and the deadlines are configuration.

use serde::{Deserialize, Serialize};
pub use shuju_types::calendar::Calendar;

/// The `[exchange.deadlines]` section: working days allowed for each step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// The bureau's compliance check of a conditional request.
    pub bureau_check: u32,
    /// The provider's answer to a simple request.
    pub provider_simple: u32,
    /// The provider's answer to a complex request.
    pub provider_complex: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            bureau_check: 2,
            provider_simple: 5,
            provider_complex: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_deadlines() {
        assert_eq!(Deadlines::default().provider_complex, 10);
    }
}
