//! Printing for people (short ids, local times) and, with `--json`, for scripts.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use model::Timestamp;
use pandafest::error::ApiError;
use pandafest::node::CapacityValue;
use pandafest::views::*;
use serde::Serialize;

pub fn print_json<T: Serialize + ?Sized>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("views serialise"));
}

/// Text for a terminal: names, titles and messages come from other people, so every
/// control character but the line break (an escape sequence could rewrite the screen or
/// the clipboard) and every bidirectional override is shown escaped, as `\u{1b}`.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(bad) {
        return text.into();
    }
    text.chars().map(|c| if bad(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect::<String>().into()
}

/// `println!` for people: the line passes through [`clean`].
/// A closed stdout (a reader that went away, `| head`) is not an error worth dying for:
/// `serve` goes on serving after its reader left.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), "{}", $crate::cmd::output::clean(&format!($($arg)*)));
    }};
}

/// `eprintln!` for people: the line passes through [`clean`].
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "{}", $crate::cmd::output::clean(&format!($($arg)*)));
    }};
}

pub(crate) use {say, tell};

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

fn local(rfc3339: &str, tz: &str) -> String {
    Timestamp::parse_rfc3339(rfc3339).map(|t| t.to_local(tz)).unwrap_or_else(|_| rfc3339.to_string())
}

fn local_frame(start: &str, end: &str, tz: &str) -> String {
    match (Timestamp::parse_rfc3339(start), Timestamp::parse_rfc3339(end)) {
        (Ok(s), Ok(e)) => model::TimeFrame::new(s, e).map_or_else(|| format!("{start} – {end}"), |f| f.to_local(tz)),
        _ => format!("{start} – {end}"),
    }
}

fn who(name: &Option<String>, key: &str) -> String {
    match name {
        Some(n) => n.clone(),
        None => format!("{}…", short(key)),
    }
}

pub struct Printer {
    json: bool,
}

type Out = Result<(), ApiError>;

impl Printer {
    pub fn new(json: bool) -> Printer {
        Printer { json }
    }

    pub fn identity(&self, i: &IdentityView, what: &str) -> Out {
        if self.json {
            print_json(i);
        } else {
            say!("{what}: {}", i.public_key);
            say!("name: {}", i.name.as_deref().unwrap_or("(none; set one with `pandafest init --name NAME`)"));
            say!("data: {}", i.data_dir.as_deref().unwrap_or("(none)"));
        }
        Ok(())
    }

    pub fn created_festival(&self, f: &FestivalView) -> Out {
        if self.json {
            print_json(f);
        } else {
            say!("created festival {} ({}, {})", f.name, f.id, f.timezone);
        }
        Ok(())
    }

    pub fn festival_line(&self, f: &FestivalView, what: &str) -> Out {
        if self.json {
            print_json(f);
        } else {
            say!("{what} festival {} ({}, {})", f.name, f.id, f.timezone);
        }
        Ok(())
    }

    pub fn festivals(&self, list: &[FestivalView]) -> Out {
        if self.json {
            print_json(list);
            return Ok(());
        }
        if list.is_empty() {
            say!("no festivals yet: create one with `pandafest festival create --name NAME`");
        }
        // As a tree: roots (or festivals whose parent is not held here) first.
        fn print(list: &[FestivalView], f: &FestivalView, depth: usize) {
            say!("{}{}  {}  ({})", "  ".repeat(depth), short(&f.id), f.name, f.timezone);
            for c in list.iter().filter(|c| c.parent.as_deref() == Some(f.id.as_str())) {
                print(list, c, depth + 1);
            }
        }
        for f in list.iter().filter(|f| f.parent.as_ref().is_none_or(|p| !list.iter().any(|o| &o.id == p))) {
            print(list, f, 0);
        }
        Ok(())
    }

    pub fn festival_detail(&self, f: &FestivalView, resources: &[ResourceView], events: &[EventView]) -> Out {
        say!("{}  ({})", f.name, f.id);
        if !f.description.is_empty() {
            say!("{}", f.description);
        }
        say!("time zone: {}", f.timezone);
        if let (Some(s), Some(e)) = (&f.start, &f.end) {
            say!("when: {}", local_frame(s, e, &f.timezone));
        }
        say!("created by {}", who(&f.creator_name, &f.creator));
        say!("\nresources:");
        for r in resources {
            self.resource_text(r);
        }
        say!("\nevents:");
        for e in events {
            self.event_text(e, &f.timezone);
        }
        Ok(())
    }

    fn resource_text(&self, r: &ResourceView) {
        let mut extra = Vec::new();
        if let Some(g) = &r.location {
            extra.push(format!("at {:.5},{:.5}", g.lat, g.lon));
        }
        if !r.address.is_empty() {
            extra.push(r.address.clone());
        }
        if r.retired {
            extra.push("retired".into());
        }
        if !r.admitted {
            extra.push("owner waiting for admission".into());
        }
        match r.capacity {
            CapacityValue::Limited(1) => {}
            CapacityValue::Limited(n) => extra.push(format!("{n} at a time")),
            CapacityValue::Unlimited(_) => extra.push("no limit".into()),
        }
        let kind = serde_json::to_value(r.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        say!(
            "  {}  {}  [{kind}, {}, owner {}]{}",
            short(&r.id),
            r.name,
            r.policy,
            who(&r.owner_name, &r.owner),
            if extra.is_empty() { String::new() } else { format!("  {}", extra.join(", ")) }
        );
    }

    pub fn created_resource(&self, r: &ResourceView) -> Out {
        self.resource_line(r, "created resource")
    }

    pub fn resource_line(&self, r: &ResourceView, what: &str) -> Out {
        if self.json {
            print_json(r);
        } else {
            say!("{what} {} ({})", r.name, r.id);
        }
        Ok(())
    }

    pub fn resources(&self, list: &[ResourceView]) -> Out {
        if self.json {
            print_json(list);
        } else {
            for r in list {
                self.resource_text(r);
            }
        }
        Ok(())
    }

    fn event_text(&self, e: &EventView, tz: &str) {
        let cancelled = match (e.cancelled, e.application, e.admitted) {
            (true, ..) => "  (cancelled)",
            (false, true, _) => "  (application for the festival's ticket)",
            (false, false, false) => "  (waiting for admission: the festival requires a ticket)",
            _ => "",
        };
        let bundle = match (e.all_or_nothing, e.booked) {
            (false, _) => String::new(),
            (true, true) => "  (all or nothing: booked)".to_string(),
            (true, false) => format!("  (all or nothing: {} of {} confirmed)", e.confirmed, e.requested),
        };
        say!(
            "  {}  {}  {}  by {}{cancelled}{bundle}",
            short(&e.id),
            local_frame(&e.start, &e.end, tz),
            e.title,
            who(&e.organiser_name, &e.organiser)
        );
        for q in &e.requests {
            let mut reason = q.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
            if let (Some(until), "pending") = (&q.until, q.status) {
                reason.push_str(&format!(" (until {})", local(until, tz)));
            }
            say!(
                "      {}  {}  {}  {}{reason}",
                short(&q.id),
                q.resource_name.as_deref().unwrap_or("(resource not known here yet)"),
                local_frame(&q.start, &q.end, tz),
                q.status
            );
        }
    }

    pub fn created_event(&self, e: &EventView, tz: &str) -> Out {
        if self.json {
            print_json(e);
        } else {
            say!("event {} ({})", e.title, e.id);
            self.event_text(e, tz);
        }
        Ok(())
    }

    /// An event's change, with what it means for the owners of its requests.
    pub fn event_update(&self, u: &EventUpdateView, tz: &str) -> Out {
        if self.json {
            print_json(u);
            return Ok(());
        }
        let e = &u.event;
        match u.signed {
            true => say!("updated event {} ({})", e.title, e.id),
            false => say!("dry run, nothing signed: what changing {} would do", e.title),
        }
        if u.signed {
            self.event_text(e, tz);
        }
        if u.moves.is_empty() {
            say!("no request has to move");
        }
        for m in &u.moves {
            let owner = m.owner_name.as_deref().unwrap_or("its owner");
            let held = if m.confirmed {
                format!("; the confirmed slot stays held until {owner} decides")
            } else {
                String::new()
            };
            say!(
                "{} {} ({owner}): {} → {}{held}",
                if u.signed { "moved" } else { "would move" },
                m.resource_name.as_deref().unwrap_or("(resource not known)"),
                local_frame(&m.from.start, &m.from.end, tz),
                local_frame(&m.to.start, &m.to.end, tz),
            );
        }
        Ok(())
    }

    /// What a resource's change would mean for others (a dry run).
    pub fn resource_change(&self, c: &ResourceChangeView, tz: &str) -> Out {
        if self.json {
            print_json(c);
            return Ok(());
        }
        say!("dry run, nothing signed");
        if c.turned_away.is_empty() && c.outside.is_empty() {
            say!("no request is affected");
        }
        for a in &c.turned_away {
            let q = &a.request;
            say!(
                "would be denied: {} {} by {} ({})",
                q.event_title.as_deref().unwrap_or("(event not known)"),
                local_frame(&q.start, &q.end, tz),
                who(&q.author_name, &q.author),
                a.why
            );
        }
        for q in &c.outside {
            say!(
                "stays booked outside the new times: {} {}",
                q.event_title.as_deref().unwrap_or("(event not known)"),
                local_frame(&q.start, &q.end, tz)
            );
        }
        Ok(())
    }

    pub fn events(&self, list: &[EventView], tz: &str) -> Out {
        if self.json {
            print_json(list);
        } else {
            for e in list {
                self.event_text(e, tz);
            }
        }
        Ok(())
    }

    pub fn requests(&self, list: &[RequestView], tzs: &[String]) -> Out {
        if self.json {
            print_json(list);
            return Ok(());
        }
        if list.is_empty() {
            say!("no requests");
        }
        for (q, tz) in list.iter().zip(tzs) {
            let mut reason = q.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
            if let Some(from) = &q.moved_from {
                reason.push_str(&format!(" (moved from {})", local_frame(&from.start, &from.end, tz)));
            }
            if let Some(why) = &q.cannot_confirm {
                reason.push_str(&format!(" (cannot be confirmed: {why})"));
            }
            if !q.competing.is_empty() {
                reason.push_str(&format!(" (also requested by {} other event(s))", q.competing.len()));
            }
            if let Some(v) = &q.votes {
                let mine = match v.mine {
                    Some(true) => ", you voted yes",
                    Some(false) => ", you voted no",
                    None => "",
                };
                reason.push_str(&format!(
                    " (votes: {} yes, {} no of {}; {} yes needed{mine})",
                    v.yes.len(),
                    v.no.len(),
                    v.members,
                    v.needed
                ));
            }
            say!(
                "{}  {:<9}  {} @ {}  {}  by {}{reason}",
                short(&q.id),
                q.status,
                q.event_title.as_deref().unwrap_or("(event not known)"),
                q.resource_name.as_deref().unwrap_or("(resource not known)"),
                local_frame(&q.start, &q.end, tz),
                who(&q.author_name, &q.author)
            );
        }
        Ok(())
    }

    pub fn collectives(&self, list: &[CollectiveView]) -> Out {
        if self.json {
            print_json(list);
            return Ok(());
        }
        if list.is_empty() {
            say!("no collectives");
        }
        for c in list {
            say!("{}  rule {}", who(&c.name, &c.key), c.rule);
            for m in &c.members {
                say!("  member {}", who(&m.name, &m.key));
            }
        }
        Ok(())
    }

    /// One request (after a decision): an object in JSON.
    pub fn request(&self, q: &RequestView, tz: &str) -> Out {
        if self.json {
            print_json(q);
            return Ok(());
        }
        self.requests(std::slice::from_ref(q), &[tz.to_string()])
    }

    pub fn check(&self, c: &CheckView, tz: &str) -> Out {
        if self.json {
            print_json(c);
            return Ok(());
        }
        let left = match (c.left, c.capacity) {
            (None, _) => "no limit".to_string(),
            (Some(n), CapacityValue::Limited(cap)) if cap > 1 => format!("{n} of {cap} left"),
            _ => String::new(),
        };
        match (&c.reason, left.is_empty()) {
            (Some(why), _) => say!("not free: {why}"),
            (None, true) => say!("free"),
            (None, false) => say!("free: {left}"),
        }
        for q in &c.conflicts {
            say!(
                "  booked  {}  {}",
                local_frame(&q.start, &q.end, tz),
                q.event_title.as_deref().unwrap_or("(an event not held here)")
            );
        }
        for q in &c.holds {
            say!(
                "  also requested  {}  {}",
                local_frame(&q.start, &q.end, tz),
                q.event_title.as_deref().unwrap_or("?")
            );
        }
        Ok(())
    }

    pub fn slots(&self, slots: &[SlotView], tz: &str) -> Out {
        if self.json {
            print_json(slots);
            return Ok(());
        }
        let mut day = String::new();
        for s in slots {
            let start = local(&s.start, tz);
            let d = start.split(' ').next().unwrap_or("").to_string();
            if d != day {
                say!("{d}");
                day = d;
            }
            say!(
                "  {}  {}  {}  ({})",
                local_frame(&s.start, &s.end, tz).split_once(' ').map_or("", |(_, t)| t),
                s.resource_name.as_deref().unwrap_or("?"),
                s.event_title.as_deref().unwrap_or("?"),
                s.status
            );
        }
        if slots.is_empty() {
            say!("nothing booked or requested yet");
        }
        Ok(())
    }
}

/// A progress bar on a terminal (stderr); nothing otherwise.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(what: &str, unit: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{what} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        Progress { bar: Some(bar) }
    }

    pub fn update(&mut self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
