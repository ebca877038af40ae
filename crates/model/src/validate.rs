//! Field rules: what every operation must satisfy on its own, before any state is looked at.
//! Each rule is a free function with its own [`FieldError`].

use crate::op::{EventFields, FestivalFields, Operation, ResourceFields};
use crate::time::Availability;

pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_SHORT_TEXT: usize = 1000;
pub const MAX_ADDRESS: usize = 500;
pub const MAX_URL: usize = 2000;
pub const MAX_IDENT: usize = 64;
pub const MAX_WINDOWS: usize = 1000;
/// The most `request/create` operations one event can have (withdrawn ones count): a bound
/// on an event's size, hence on the work one event costs every peer.
pub const MAX_REQUESTS_PER_EVENT: usize = 100;
/// The most resources a resource can need (`needs`).
pub const MAX_NEEDS: usize = 16;
/// The most members a collective can have.
pub const MAX_MEMBERS: usize = 64;

/// Why an operation's fields are unacceptable. One variant per rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum FieldError {
    #[error("the {0} must not be empty")]
    Empty(String),
    #[error("the {field} has {len} bytes; at most {max} are allowed")]
    TooLong { field: String, len: usize, max: usize },
    #[error("the {0} contains a control character; names and short texts are one line of text")]
    ControlCharacter(String),
    #[error("{count} availability windows; at most {MAX_WINDOWS} are allowed")]
    TooManyWindows { count: usize },
    #[error("latitude {} is outside -90..=90 degrees", *.0 as f64 / 1e6)]
    Latitude(i64),
    #[error("longitude {} is outside -180..=180 degrees", *.0 as f64 / 1e6)]
    Longitude(i64),
    #[error("{0:?} is not an IANA time zone name")]
    Timezone(String),
    #[error("{0:?} is not a policy name (letters, digits, '-' and '_')")]
    PolicyName(String),
    #[error("a resource needs {count} others; at most {MAX_NEEDS} are allowed")]
    TooManyNeeds { count: usize },
    #[error("{count} members; a collective has at most {MAX_MEMBERS}")]
    TooManyMembers { count: usize },
    #[error("the rule asks for {needed} yes votes, but the collective has only {members} members")]
    VoteRuleTooHigh { needed: u32, members: usize },
}

/// Checks every field rule of `op`: non-empty names and titles, text lengths, the number
/// of availability windows, coordinates, the time zone's and policy name's syntax.
pub fn check_fields(op: &Operation) -> Result<(), FieldError> {
    match op {
        Operation::FestivalCreate { fields, .. } | Operation::FestivalUpdate { fields, .. } => festival(fields),
        Operation::ProfileSet { name, about } => {
            not_empty("name", name)?;
            one_line("name", name)?;
            max_len("name", name, MAX_NAME)?;
            max_len("about text", about, MAX_SHORT_TEXT)
        }
        Operation::ResourceCreate(fields) | Operation::ResourceUpdate { fields, .. } => resource(fields),
        Operation::EventCreate(fields) | Operation::EventUpdate { fields, .. } => event(fields),
        Operation::Deny { reason, .. } | Operation::Vote { reason, .. } | Operation::RequestWithdraw { reason, .. } => {
            one_line("reason", reason)?;
            max_len("reason", reason, MAX_SHORT_TEXT)
        }
        Operation::CollectiveSet { members, rule } => {
            if members.len() > MAX_MEMBERS {
                return Err(FieldError::TooManyMembers { count: members.len() });
            }
            match rule {
                crate::op::VoteRule::AtLeast(k) if *k as usize > members.len() => {
                    Err(FieldError::VoteRuleTooHigh { needed: *k, members: members.len() })
                }
                _ => Ok(()),
            }
        }
        Operation::ResourceRetire { .. }
        | Operation::EventCancel { .. }
        | Operation::RequestCreate { .. }
        | Operation::Confirm { .. }
        | Operation::Release { .. } => Ok(()),
    }
}

fn not_empty(field: &str, s: &str) -> Result<(), FieldError> {
    if s.trim().is_empty() { Err(FieldError::Empty(field.into())) } else { Ok(()) }
}

/// A line of text: no control characters (line breaks, escapes) and no bidirectional
/// overrides, which could make a terminal or a page show something other than the text.
fn one_line(field: &str, s: &str) -> Result<(), FieldError> {
    let bad = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if s.chars().any(bad) { Err(FieldError::ControlCharacter(field.into())) } else { Ok(()) }
}

fn max_len(field: &str, s: &str, max: usize) -> Result<(), FieldError> {
    if s.len() > max { Err(FieldError::TooLong { field: field.into(), len: s.len(), max }) } else { Ok(()) }
}

/// Syntax only (letters, digits, `/ _ + -`), so that every peer agrees whatever its time
/// zone database; an unknown zone is shown in UTC.
pub fn timezone(tz: &str) -> Result<(), FieldError> {
    let ok = !tz.is_empty()
        && tz.len() <= MAX_IDENT
        && tz.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
        && !tz.starts_with('/');
    if ok { Ok(()) } else { Err(FieldError::Timezone(tz.into())) }
}

pub fn policy_name(name: &str) -> Result<(), FieldError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_IDENT
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(FieldError::PolicyName(name.into())) }
}

fn festival(f: &FestivalFields) -> Result<(), FieldError> {
    not_empty("name", &f.name)?;
    one_line("name", &f.name)?;
    max_len("name", &f.name, MAX_NAME)?;
    max_len("description", &f.description, MAX_DESCRIPTION)?;
    timezone(&f.timezone)
}

fn resource(f: &ResourceFields) -> Result<(), FieldError> {
    not_empty("name", &f.name)?;
    one_line("name", &f.name)?;
    max_len("name", &f.name, MAX_NAME)?;
    max_len("description", &f.description, MAX_DESCRIPTION)?;
    one_line("address", &f.address)?;
    max_len("address", &f.address, MAX_ADDRESS)?;
    one_line("url", &f.url)?;
    max_len("url", &f.url, MAX_URL)?;
    if let Some(g) = &f.geo {
        if !(-90_000_000..=90_000_000).contains(&g.lat_micro) {
            return Err(FieldError::Latitude(g.lat_micro));
        }
        if !(-180_000_000..=180_000_000).contains(&g.lon_micro) {
            return Err(FieldError::Longitude(g.lon_micro));
        }
    }
    if f.needs.len() > MAX_NEEDS {
        return Err(FieldError::TooManyNeeds { count: f.needs.len() });
    }
    if let Availability::Windows(ws) = &f.availability
        && ws.len() > MAX_WINDOWS
    {
        return Err(FieldError::TooManyWindows { count: ws.len() });
    }
    policy_name(&f.policy)
}

fn event(f: &EventFields) -> Result<(), FieldError> {
    not_empty("title", &f.title)?;
    one_line("title", &f.title)?;
    max_len("title", &f.title, MAX_NAME)?;
    max_len("description", &f.description, MAX_DESCRIPTION)
}
