//! iCalendar (RFC 5545) export of a schedule, for calendar apps.

use model::{Id, RequestStatus, State, Timestamp};

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line folded at 75 octets (RFC 5545 §3.1), never inside a character.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

fn utc(t: Timestamp) -> String {
    // 2026-07-01T16:00:00Z → 20260701T160000Z
    let s = t.to_rfc3339();
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).take(14).collect();
    format!("{}T{}Z", &digits[..8], &digits[8..14])
}

/// A calendar of the confirmed (CONFIRMED) and pending (TENTATIVE) requests given.
pub fn calendar(s: &State, name: &str, timezone: &str, requests: &[Id], now: Timestamp) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//pandafest//pandafest//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    line(&mut out, &format!("X-WR-TIMEZONE:{}", text(timezone)));
    for id in requests {
        let Some(q) = s.request(id) else { continue };
        let status = match s.request_status(id) {
            Some(RequestStatus::Confirmed) => "CONFIRMED",
            Some(RequestStatus::Pending { waiting_for: None }) => "TENTATIVE",
            _ => continue,
        };
        let event = s.event(&q.event);
        let resource = s.resource(&q.resource);
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}@pandafest", q.id.to_hex()));
        line(&mut out, &format!("DTSTAMP:{}", utc(now)));
        line(&mut out, &format!("DTSTART:{}", utc(q.frame.start())));
        line(&mut out, &format!("DTEND:{}", utc(q.frame.end())));
        line(
            &mut out,
            &format!("SUMMARY:{}", text(event.map_or("(event not known yet)", |e| e.fields.title.as_str()))),
        );
        if let Some(r) = resource {
            let mut location = r.fields.name.clone();
            if !r.fields.address.is_empty() {
                location = format!("{location}, {}", r.fields.address);
            }
            line(&mut out, &format!("LOCATION:{}", text(&location)));
            if let Some(g) = r.fields.geo {
                line(&mut out, &format!("GEO:{:.6};{:.6}", g.lat(), g.lon()));
            }
        }
        if let Some(e) = event.filter(|e| !e.fields.description.is_empty()) {
            line(&mut out, &format!("DESCRIPTION:{}", text(&e.fields.description)));
        }
        line(&mut out, &format!("STATUS:{status}"));
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_long_lines_without_splitting_characters() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "ä".repeat(60)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert_eq!(out.replace("\r\n ", ""), format!("SUMMARY:{}\r\n", "ä".repeat(60)));
    }

    #[test]
    fn escapes_text() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(utc(Timestamp::parse_rfc3339("2026-07-01T16:05:09Z").unwrap()), "20260701T160509Z");
    }
}
