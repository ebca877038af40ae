//! Time: milliseconds since the Unix epoch (UTC), and half-open time frames.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// The latest representable instant: 9999-12-31T23:59:59.999Z.
pub const MAX_TIMESTAMP: Timestamp = Timestamp(253_402_300_799_999);

impl Timestamp {
    /// Parses RFC 3339 (`2026-07-01T18:00:00+02:00`, `2026-07-01T16:00:00Z`).
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
        let ts: jiff::Timestamp = s.parse().map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))?;
        Ok(Timestamp(ts.as_millisecond()))
    }

    /// Parses RFC 3339, or a date and time without offset (`2026-07-01T18:00`,
    /// `2026-07-01 18:00`) read in the IANA time zone `timezone`.
    pub fn parse_in(s: &str, timezone: &str) -> Result<Timestamp, String> {
        if let Ok(t) = Timestamp::parse_rfc3339(s) {
            return Ok(t);
        }
        let civil: jiff::civil::DateTime = s.trim().replace(' ', "T").parse().map_err(|_| {
            format!("{s:?} is not a time: use RFC 3339 (2026-07-01T18:00:00+02:00) or 2026-07-01T18:00")
        })?;
        let tz = jiff::tz::TimeZone::get(timezone).map_err(|_| format!("unknown time zone {timezone:?}"))?;
        let zoned = civil.to_zoned_datetime(tz).map_err(|e| format!("{s:?} does not exist in {timezone}: {e}"))?;
        Ok(Timestamp(zoned.timestamp().as_millisecond()))
    }

    /// Whether `timezone` is a zone of the bundled IANA database.
    pub fn is_known_timezone(timezone: &str) -> bool {
        jiff::tz::TimeZone::get(timezone).is_ok()
    }

    /// RFC 3339 in UTC, e.g. `2026-07-01T16:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(ts) => ts.to_string(),
            Err(_) => format!("@{}ms", self.0),
        }
    }

    /// The instant in the given IANA time zone (UTC if unknown), formatted by `strftime`
    /// (jiff's): `%Y-%m-%dT%H:%M:%S%:z` for RFC 3339 with the zone's offset.
    pub fn format_in(self, timezone: &str, strftime: &str) -> String {
        let Ok(ts) = jiff::Timestamp::from_millisecond(self.0) else { return self.to_rfc3339() };
        let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        ts.to_zoned_datetime(tz).strftime(strftime).to_string()
    }

    /// The starts (local midnight) of the days in `timezone` that `frame` touches, and the
    /// start of the day after the last: a schedule's days.
    pub fn days_of(frame: &TimeFrame, timezone: &str) -> Vec<Timestamp> {
        let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let Ok(first) = jiff::Timestamp::from_millisecond(frame.start().0) else { return Vec::new() };
        let mut day = first.to_zoned_datetime(tz.clone()).date();
        let mut out = Vec::new();
        // A festival of a few years at most: the bound keeps a hostile frame cheap.
        for _ in 0..=3660 {
            let Ok(start) = day.to_zoned_datetime(tz.clone()) else { break };
            let start = Timestamp(start.timestamp().as_millisecond());
            out.push(start);
            if start >= frame.end() {
                break;
            }
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
        out
    }

    /// `2026-07-01 18:00` in the given IANA time zone (UTC if the zone is unknown).
    pub fn to_local(self, timezone: &str) -> String {
        let Ok(ts) = jiff::Timestamp::from_millisecond(self.0) else { return self.to_rfc3339() };
        let tz = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        ts.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M").to_string()
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A half-open interval `[start, end)`; `start < end` holds by construction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimeFrame {
    start: Timestamp,
    end: Timestamp,
}

impl TimeFrame {
    /// A frame; `None` unless `0 <= start < end <= MAX_TIMESTAMP`.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<TimeFrame> {
        (Timestamp(0) <= start && start < end && end <= MAX_TIMESTAMP).then_some(TimeFrame { start, end })
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn end(&self) -> Timestamp {
        self.end
    }

    pub fn overlaps(&self, other: &TimeFrame) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &TimeFrame) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// `2026-07-01 18:00–20:00` in the given time zone, the date repeated only when it changes.
    pub fn to_local(&self, timezone: &str) -> String {
        let start = self.start.to_local(timezone);
        let end = self.end.to_local(timezone);
        match (start.split_once(' '), end.split_once(' ')) {
            (Some((d1, _)), Some((d2, t2))) if d1 == d2 => format!("{start}–{t2}"),
            _ => format!("{start} – {end}"),
        }
    }
}

impl fmt::Debug for TimeFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:?}, {:?})", self.start, self.end)
    }
}

/// When a resource can be booked: always, or within a set of windows.
/// Windows are kept sorted, non-overlapping and non-adjacent, so a frame is available
/// iff one window contains it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Availability {
    Always,
    Windows(Vec<TimeFrame>),
}

impl Availability {
    /// Sorts and merges windows into the canonical form.
    pub fn normalised(mut windows: Vec<TimeFrame>) -> Availability {
        windows.sort();
        let mut merged: Vec<TimeFrame> = Vec::with_capacity(windows.len());
        for w in windows {
            match merged.last_mut() {
                Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
                _ => merged.push(w),
            }
        }
        Availability::Windows(merged)
    }

    /// Whether windows are sorted, non-overlapping and non-adjacent.
    pub fn is_canonical(windows: &[TimeFrame]) -> bool {
        windows.windows(2).all(|w| w[0].end < w[1].start)
    }

    pub fn contains(&self, frame: &TimeFrame) -> bool {
        match self {
            Availability::Always => true,
            Availability::Windows(ws) => {
                // The last window starting at or before the frame is the only candidate.
                let i = ws.partition_point(|w| w.start <= frame.start);
                i > 0 && ws[i - 1].contains(frame)
            }
        }
    }
}

/// How many confirmed requests of a resource may overlap at any instant: one (a room),
/// `n` (ten bikes, thirty seats) or any number (tickets).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub enum Capacity {
    Limited(std::num::NonZeroU32),
    Unlimited,
}

impl Capacity {
    pub const ONE: Capacity = Capacity::Limited(std::num::NonZeroU32::MIN);

    /// `n` at a time; `None` for 0.
    pub fn limited(n: u32) -> Option<Capacity> {
        std::num::NonZeroU32::new(n).map(Capacity::Limited)
    }

    /// The limit, `None` when unlimited.
    pub fn limit(self) -> Option<u32> {
        match self {
            Capacity::Limited(n) => Some(n.get()),
            Capacity::Unlimited => None,
        }
    }

    /// The number on the wire (`cap`): absent for one, 0 for unlimited, else the limit.
    pub fn to_wire(self) -> Option<u32> {
        match self {
            Capacity::Limited(n) if n.get() == 1 => None,
            Capacity::Limited(n) => Some(n.get()),
            Capacity::Unlimited => Some(0),
        }
    }

    pub fn from_wire(cap: Option<u32>) -> Capacity {
        match cap {
            None => Capacity::ONE,
            Some(0) => Capacity::Unlimited,
            Some(n) => Capacity::limited(n).expect("not zero"),
        }
    }
}

impl Default for Capacity {
    fn default() -> Capacity {
        Capacity::ONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(a: i64, b: i64) -> TimeFrame {
        TimeFrame::new(Timestamp(a), Timestamp(b)).unwrap()
    }

    #[test]
    fn half_open_overlap() {
        assert!(f(0, 10).overlaps(&f(9, 20)));
        assert!(!f(0, 10).overlaps(&f(10, 20)), "touching frames do not overlap");
        assert!(TimeFrame::new(Timestamp(5), Timestamp(5)).is_none());
    }

    #[test]
    fn availability_merges_and_contains() {
        let a = Availability::normalised(vec![f(20, 30), f(0, 10), f(10, 15)]);
        assert_eq!(a, Availability::Windows(vec![f(0, 15), f(20, 30)]));
        assert!(a.contains(&f(0, 15)));
        assert!(!a.contains(&f(14, 21)));
        assert!(a.contains(&f(25, 30)));
        assert!(!a.contains(&f(30, 31)));
    }

    #[test]
    fn rfc3339_round_trip_and_local() {
        let t = Timestamp::parse_rfc3339("2026-07-01T18:00:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-07-01T16:00:00Z");
        assert_eq!(t.to_local("Europe/Berlin"), "2026-07-01 18:00");
        let frame = TimeFrame::new(t, Timestamp(t.0 + 7_200_000)).unwrap();
        assert_eq!(frame.to_local("Europe/Berlin"), "2026-07-01 18:00–20:00");
        assert_eq!(Timestamp::parse_in("2026-07-01 18:00", "Europe/Berlin").unwrap(), t);
        assert_eq!(Timestamp::parse_in("2026-07-01T18:00", "Europe/Berlin").unwrap(), t);
        assert!(Timestamp::parse_in("tomorrow", "UTC").is_err());
    }
}

/// A recurring time of day: "every day (or these weekdays) from `start` to `end`, from the
/// date `from` to the date `to`", in a time zone. An `end` not after `start` is on the next
/// day (14:00–01:00). Expanded to windows before signing: the operation holds the windows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daily {
    /// `YYYY-MM-DD`, the first and last day (inclusive).
    pub from: String,
    pub to: String,
    /// `HH:MM`.
    pub start: String,
    pub end: String,
    /// Lower-case English weekday names or their first three letters; empty: every day.
    pub weekdays: Vec<String>,
}

impl Daily {
    /// The windows, in `timezone`; at most `max` of them.
    pub fn windows(&self, timezone: &str, max: usize) -> Result<Vec<TimeFrame>, String> {
        use jiff::civil::{Date, Time, Weekday};
        let tz = jiff::tz::TimeZone::get(timezone).map_err(|_| format!("unknown time zone {timezone:?}"))?;
        let date = |s: &str| s.trim().parse::<Date>().map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"));
        let time = |s: &str| s.trim().parse::<Time>().map_err(|_| format!("{s:?} is not a time of day (HH:MM)"));
        let (from, to, start, end) = (date(&self.from)?, date(&self.to)?, time(&self.start)?, time(&self.end)?);
        if to < from {
            return Err(format!("the last day {to} is before the first {from}"));
        }
        let mut days = Vec::new();
        for w in &self.weekdays {
            let w = w.trim().to_ascii_lowercase();
            let day = [
                ("mon", Weekday::Monday),
                ("tue", Weekday::Tuesday),
                ("wed", Weekday::Wednesday),
                ("thu", Weekday::Thursday),
                ("fri", Weekday::Friday),
                ("sat", Weekday::Saturday),
                ("sun", Weekday::Sunday),
            ]
            .into_iter()
            .find(|(short, _)| w.len() >= 3 && short.starts_with(&w[..3]) && w.chars().all(|c| c.is_ascii_alphabetic()))
            .map(|(_, d)| d)
            .ok_or_else(|| format!("{w:?} is not a weekday (mon, tue, … or monday, tuesday, …)"))?;
            days.push(day);
        }
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            if days.is_empty() || days.contains(&day.weekday()) {
                if out.len() == max {
                    return Err(format!("that makes more than {max} windows"));
                }
                let end_day = if end <= start { day.tomorrow().map_err(|e| e.to_string())? } else { day };
                let s = day.to_datetime(start).to_zoned_datetime(tz.clone()).map_err(|e| e.to_string())?;
                let e = end_day.to_datetime(end).to_zoned_datetime(tz.clone()).map_err(|e| e.to_string())?;
                let frame = TimeFrame::new(
                    Timestamp(s.timestamp().as_millisecond()),
                    Timestamp(e.timestamp().as_millisecond()),
                )
                .ok_or_else(|| format!("{} {}–{} is empty", day, self.start, self.end))?;
                out.push(frame);
            }
            day = day.tomorrow().map_err(|e| e.to_string())?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod daily_tests {
    use super::*;

    fn daily(from: &str, to: &str, start: &str, end: &str, weekdays: &[&str]) -> Result<Vec<String>, String> {
        let d = Daily {
            from: from.into(),
            to: to.into(),
            start: start.into(),
            end: end.into(),
            weekdays: weekdays.iter().map(|w| w.to_string()).collect(),
        };
        Ok(d.windows("Europe/Berlin", 1000)?.iter().map(|f| f.to_local("Europe/Berlin")).collect())
    }

    #[test]
    fn every_day_past_midnight_and_weekdays() {
        assert_eq!(
            daily("2027-07-01", "2027-07-03", "14:00", "01:00", &[]).unwrap(),
            [
                "2027-07-01 14:00 – 2027-07-02 01:00",
                "2027-07-02 14:00 – 2027-07-03 01:00",
                "2027-07-03 14:00 – 2027-07-04 01:00"
            ]
        );
        // 1 July 2027 is a Thursday.
        assert_eq!(
            daily("2027-07-01", "2027-07-07", "10:00", "12:00", &["sat", "Sunday"]).unwrap(),
            ["2027-07-03 10:00–12:00", "2027-07-04 10:00–12:00"]
        );
        assert_eq!(
            daily("2027-07-03", "2027-07-01", "10:00", "12:00", &[]).unwrap_err(),
            "the last day 2027-07-01 is before the first 2027-07-03"
        );
        assert!(daily("2027-07-01", "2027-07-01", "25:00", "12:00", &[]).unwrap_err().contains("not a time of day"));
        assert!(
            daily("2027-07-01", "2027-07-01", "10:00", "12:00", &["someday"]).unwrap_err().contains("not a weekday")
        );
        let long = Daily {
            from: "2027-01-01".into(),
            to: "2030-12-31".into(),
            start: "10:00".into(),
            end: "11:00".into(),
            weekdays: vec![],
        };
        assert_eq!(long.windows("UTC", 1000).unwrap_err(), "that makes more than 1000 windows");
    }
}
