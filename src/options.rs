//! The settings of a run that change indicator values: grouping, splits
//! and summary level, checked once and shared by every stage.

use std::fmt;

/// How records are grouped into periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Week,
    Month,
    Year,
    None,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s.to_ascii_lowercase().as_str() {
            "day" => GroupBy::Day,
            "week" => GroupBy::Week,
            "month" => GroupBy::Month,
            "year" => GroupBy::Year,
            "none" | "" => GroupBy::None,
            _ => return None,
        })
    }

    /// The name the reference reports, `None` for no grouping.
    pub fn reported(self) -> Option<&'static str> {
        match self {
            GroupBy::Day => Some("day"),
            GroupBy::Week => Some("week"),
            GroupBy::Month => Some("month"),
            GroupBy::Year => Some("year"),
            GroupBy::None => None,
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reported().unwrap_or("none"))
    }
}

/// Which statistics a distribution indicator reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stats {
    /// mean and std only.
    Default,
    /// mean, std, median, skewness, kurtosis, min and max.
    Extended,
}

/// Everything that decides the indicator values of one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorOptions {
    pub groupby: GroupBy,
    pub split_week: bool,
    pub split_day: bool,
    pub stats: Stats,
}

impl IndicatorOptions {
    /// The part-of-week levels, in output order.
    pub fn parts_of_week(&self) -> &'static [&'static str] {
        if self.split_week {
            &["allweek", "weekday", "weekend"]
        } else {
            &["allweek"]
        }
    }

    /// The part-of-day levels, in output order.
    pub fn parts_of_day(&self) -> &'static [&'static str] {
        if self.split_day {
            &["allday", "day", "night"]
        } else {
            &["allday"]
        }
    }

    /// How many of the summary statistics a distribution reports.
    pub fn stat_count(&self) -> usize {
        match self.stats {
            Stats::Default => crate::stats::DEFAULT_STATS,
            Stats::Extended => crate::stats::STAT_NAMES.len(),
        }
    }
}
