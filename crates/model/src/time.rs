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
