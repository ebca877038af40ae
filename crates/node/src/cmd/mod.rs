//! The command line: parsing, and printing for people or (with `--json`) for scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use model::Id;
use pandafest::error::ApiError;
use pandafest::node::{
    EventChange, FestivalChange, FrameInput, NewEvent, NewFestival, NewRequest, Node, RequestFilter, ResourceInput,
};
use pandafest::views::*;
use serde::Serialize;

mod import;
mod log;
mod output;
mod serve;

pub use output::clean;
use output::{Printer, say, tell};

/// Peer-to-peer planning for festivals, gatherings, hackerspaces and collectives.
#[derive(Parser, Debug)]
#[command(name = "pandafest", version, about, max_term_width = 100)]
pub struct Cli {
    /// Where this node keeps its key and its data [default: the platform's data directory].
    #[arg(long, global = true, env = "PANDAFEST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create this device's identity (a key pair) and data directory; safe to run again.
    Init {
        /// The name people see instead of your key.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show this device's identity.
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// Festivals: the nestable contexts that hold resources and events.
    #[command(subcommand)]
    Festival(FestivalCommand),
    /// Resources: rooms, things, skills, locations, shared by their owners.
    #[command(subcommand)]
    Resource(ResourceCommand),
    /// Events, which request resources for time frames.
    #[command(subcommand)]
    Event(EventCommand),
    /// Requests of resources: list them, and as the owner confirm or deny them.
    #[command(subcommand)]
    Request(RequestCommand),
    /// The confirmed and pending bookings of a festival or a resource.
    Schedule {
        #[arg(long)]
        festival: String,
        #[arg(long)]
        resource: Option<String>,
        /// Print an iCalendar (RFC 5545) file (the same as --format ical).
        #[arg(long, conflicts_with_all = ["json", "format"])]
        ical: bool,
        /// Print the programme for other tools: ical (RFC 5545), frab (the frab/Pentabarf
        /// schedule XML) or json (the c3voc schedule.json), as offline schedule apps read them.
        #[arg(long, value_name = "ical|frab|json", conflicts_with = "json")]
        format: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run the node: HTTP API, web UI, sync and the policy agent.
    Serve(serve::ServeArgs),
    /// Sync once with a peer: both sides catch up on the festivals they share.
    Sync {
        /// host:port, or ws://host:port/sync
        #[arg(long)]
        peer: String,
        /// Only this festival (and its parents); a full id fetches one not held yet.
        #[arg(long)]
        festival: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print an invite link to a festival: its id and addresses of peers that hold it.
    Invite {
        #[arg(long)]
        festival: String,
        /// An address to put in the link (repeatable), besides this node's own.
        #[arg(long)]
        peer: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Join a festival from an invite link: fetch it from the link's peers, and keep
    /// syncing with them whenever `pandafest serve` runs.
    Join {
        link: String,
        #[arg(long)]
        json: bool,
    },
    /// Raw Bamboo log plumbing: export, import, verify.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Print the token of this node's HTTP API (for scripts: `Authorization: Bearer TOKEN`;
    /// the web UI takes it from the link `serve` prints).
    Token {
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the plan from the stored logs.
    Rebuild,
    /// External authorization policies (hooks) of this node.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Make this node's key a collective whose members vote on its resources' requests.
    #[command(subcommand)]
    Collective(CollectiveCommand),
    /// Programs or web endpoints told of each notice while `serve` runs: a request for your
    /// resources, a decision about your requests, a request that moved (for bots: mail,
    /// Matrix, Signal bridges).
    #[command(subcommand)]
    Hook(HookCommand),
}

#[derive(Subcommand, Debug)]
pub enum CollectiveCommand {
    /// This node's key becomes a collective in FESTIVAL: the members vote (`request vote`)
    /// and this node decides by the rule for every resource whose policy is `collective`.
    Set {
        #[arg(long)]
        festival: String,
        /// A member's key (see `whoami`; repeatable, or comma-separated).
        #[arg(long = "member", value_delimiter = ',', required = true)]
        members: Vec<String>,
        /// any, majority, all (one no is a veto), or a number of yes votes.
        #[arg(long, default_value = "majority")]
        rule: String,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        festival: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum FestivalCommand {
    /// Create a festival (or, with --parent, a sub-festival).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        parent: Option<String>,
        /// IANA time zone, e.g. Europe/Berlin [default: UTC].
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long, requires = "end")]
        start: Option<String>,
        #[arg(long, requires = "start")]
        end: Option<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a festival you created; fields not given stay as they are.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long, requires = "end")]
        start: Option<String>,
        #[arg(long, requires = "start")]
        end: Option<String>,
        /// Require a ticket: only people whose request for this resource its owner
        /// confirmed organise events and provide resources here.
        #[arg(long, value_name = "RESOURCE", conflicts_with = "no_ticket")]
        ticket: Option<String>,
        /// Require no ticket any more.
        #[arg(long)]
        no_ticket: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Default)]
pub struct ResourceFlags {
    #[arg(long)]
    pub name: Option<String>,
    /// location, thing, skill or other.
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long, requires = "lon", allow_hyphen_values = true)]
    pub lat: Option<f64>,
    #[arg(long, requires = "lat", allow_hyphen_values = true)]
    pub lon: Option<f64>,
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub url: Option<String>,
    /// When it can be booked, START/END (repeatable); none means always.
    #[arg(long = "available", value_name = "START/END")]
    pub available: Vec<String>,
    /// Make it always available again (update).
    #[arg(long, conflicts_with_all = ["available", "daily"])]
    pub always: bool,
    /// Available every day at these hours, HH:MM-HH:MM (an end before the start is on the
    /// next day: 14:00-01:00), from --from to --to.
    #[arg(long, value_name = "HH:MM-HH:MM", conflicts_with = "available", requires_all = ["from", "to"])]
    pub daily: Option<String>,
    /// The first day of --daily (YYYY-MM-DD).
    #[arg(long, requires = "daily")]
    pub from: Option<String>,
    /// The last day of --daily (YYYY-MM-DD).
    #[arg(long, requires = "daily")]
    pub to: Option<String>,
    /// Only on these weekdays (with --daily), e.g. sat,sun.
    #[arg(long, value_delimiter = ',', requires = "daily")]
    pub weekdays: Vec<String>,
    /// fcfs (first come, first served), manual, or the name of a hook.
    #[arg(long)]
    pub policy: Option<String>,
    /// Resources an event requesting this one must request too (ids, comma-separated); an
    /// empty value needs none.
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    pub needs: Option<Vec<String>>,
    /// How many requests may be confirmed at once: a number (1 is the default: a room, a
    /// person) or "unlimited" (tickets).
    #[arg(long, value_parser = capacity_arg)]
    pub capacity: Option<pandafest::node::CapacityValue>,
}

fn capacity_arg(s: &str) -> Result<pandafest::node::CapacityValue, String> {
    use pandafest::node::{CapacityValue, UnlimitedWord};
    if s == "unlimited" {
        return Ok(CapacityValue::Unlimited(UnlimitedWord::Unlimited));
    }
    match s.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(CapacityValue::Limited(n)),
        _ => Err(format!("{s:?} is not a capacity: give a number from 1 or \"unlimited\"")),
    }
}

#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    Create {
        #[arg(long)]
        festival: String,
        #[command(flatten)]
        flags: ResourceFlags,
        #[arg(long)]
        json: bool,
    },
    /// The resources an event of the festival can request (its own and its parents').
    List {
        #[arg(long)]
        festival: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a resource you own; fields not given stay as they are.
    Update {
        id: String,
        #[command(flatten)]
        flags: ResourceFlags,
        /// Only show what the change would mean for others; sign nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    Retire {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Whether a request for START–END could be confirmed now, and how many are left.
    Check {
        id: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum EventCommand {
    Create {
        #[arg(long)]
        festival: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
        /// A resource to request, for the event's time or RESOURCE@START/END (repeatable).
        #[arg(long = "request", value_name = "RESOURCE[@START/END]")]
        requests: Vec<String>,
        /// Booked only when every request is confirmed; when one is denied, this node
        /// withdraws the rest.
        #[arg(long)]
        all_or_nothing: bool,
        /// Withdraw requests still pending at this time (the festival's local time).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        festival: String,
        #[arg(long)]
        json: bool,
    },
    /// Change an event you organise; fields not given stay as they are. Requests that no
    /// longer fit a new time move with it: each is requested anew, and a confirmed slot
    /// stays held until its owner decides the new request.
    Update {
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, requires = "end")]
        start: Option<String>,
        #[arg(long, requires = "start")]
        end: Option<String>,
        /// The time a moving request of RESOURCE asks for instead (repeatable).
        #[arg(long = "move", value_name = "RESOURCE@START/END")]
        moves: Vec<String>,
        /// Only show what would change for others; sign nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    Cancel {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum RequestCommand {
    List {
        /// Requests of your events.
        #[arg(long)]
        mine: bool,
        /// Requests for your resources.
        #[arg(long)]
        incoming: bool,
        #[arg(long)]
        pending: bool,
        #[arg(long)]
        festival: Option<String>,
        #[arg(long)]
        json: bool,
    },
    Confirm {
        id: String,
        #[arg(long)]
        json: bool,
    },
    Deny {
        id: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    Release {
        id: String,
        #[arg(long)]
        json: bool,
    },
    Withdraw {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Vote on a request for a resource of a collective you are a member of.
    Vote {
        id: String,
        #[arg(long, conflicts_with = "no", required_unless_present = "no")]
        yes: bool,
        #[arg(long)]
        no: bool,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One request: its status, why, and what moved.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum HookCommand {
    /// Tell NAME of every notice from now on.
    Add {
        name: String,
        /// exec:COMMAND (the notice as JSON on stdin) or an http(s):// URL (POSTed as JSON).
        hook: String,
    },
    Remove {
        name: String,
    },
    /// The hooks, and the deliveries that failed.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Let an external program decide requests of resources whose policy is NAME.
    Add {
        name: String,
        /// exec:COMMAND (request as JSON on stdin) or an http(s):// URL (request POSTed as JSON).
        hook: String,
    },
    Remove {
        name: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

/// The platform's data directory for pandafest.
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("pandafest")
}

fn open(cli_dir: &Option<PathBuf>) -> Result<Node, ApiError> {
    let dir = cli_dir.clone().unwrap_or_else(default_data_dir);
    // A store whose plan is of an older format folds it again from every entry at open:
    // said once it is large enough to take a while, with a bar on a terminal.
    let mut bar: Option<output::Progress> = None;
    let node = pandafest::open_with_progress(&dir, &mut |done, total| {
        if total < REBUILD_NOTICE {
            return;
        }
        bar.get_or_insert_with(|| {
            tell!("the plan's format changed: folding it again from the {total} stored entries");
            output::Progress::new("rebuilding", "entries")
        })
        .update(done, total);
    });
    if let Some(mut bar) = bar {
        bar.finish();
    }
    node
}

/// Entries from which a rebuild of the plan at open is announced (about a second's work).
const REBUILD_NOTICE: u64 = 20_000;

/// RESOURCE (for the event's time) or RESOURCE@START/END.
fn request_arg(r: &str) -> Result<NewRequest, ApiError> {
    match r.split_once('@') {
        None => Ok(NewRequest { resource: r.to_string(), start: None, end: None, until: None }),
        Some((resource, frame)) => {
            let f = frame_arg(frame)?;
            Ok(NewRequest { resource: resource.to_string(), start: Some(f.start), end: Some(f.end), until: None })
        }
    }
}

fn frame_arg(s: &str) -> Result<FrameInput, ApiError> {
    let (start, end) = s.split_once('/').ok_or_else(|| {
        ApiError::bad_input(format!("{s:?} is not START/END, e.g. 2026-07-01T10:00/2026-07-01T18:00"))
    })?;
    Ok(FrameInput { start: start.to_string(), end: end.to_string() })
}

fn resource_input(flags: ResourceFlags) -> Result<ResourceInput, ApiError> {
    use pandafest::node::{AvailabilityInput, DailyInput};
    let availability = if flags.always {
        Some(AvailabilityInput::Windows(Vec::new()))
    } else if let Some(hours) = &flags.daily {
        let (start, end) = hours
            .split_once('-')
            .ok_or_else(|| ApiError::bad_input(format!("--daily {hours:?} is not HH:MM-HH:MM, e.g. 14:00-01:00")))?;
        Some(AvailabilityInput::Daily {
            daily: DailyInput {
                from: flags.from.clone().unwrap_or_default(),
                to: flags.to.clone().unwrap_or_default(),
                start: start.to_string(),
                end: end.to_string(),
                weekdays: flags.weekdays.clone(),
            },
        })
    } else if flags.available.is_empty() {
        None
    } else {
        Some(AvailabilityInput::Windows(flags.available.iter().map(|a| frame_arg(a)).collect::<Result<_, _>>()?))
    };
    Ok(ResourceInput {
        name: flags.name,
        kind: flags.kind,
        description: flags.description,
        lat: flags.lat.map(Some),
        lon: flags.lon.map(Some),
        address: flags.address,
        url: flags.url,
        availability,
        policy: flags.policy,
        capacity: flags.capacity,
        needs: flags.needs.map(|ids| ids.into_iter().filter(|id| !id.is_empty()).collect()),
    })
}

#[derive(Serialize)]
struct PolicyView {
    name: String,
    hook: String,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let dir = cli.data_dir.clone();
    let result = match cli.command {
        Command::Log(cmd) => return log::run(cmd, &dir),
        Command::Serve(args) => return serve::run(args, &dir),
        command => run_command(command, &dir),
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            tell!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn run_command(command: Command, dir: &Option<PathBuf>) -> Result<(), ApiError> {
    match command {
        Command::Init { name, json } => {
            let mut node = open(dir)?;
            let identity = match name {
                Some(name) => node.set_name(&name)?,
                None => node.identity()?,
            };
            Printer::new(json).identity(&identity, "ready")
        }
        Command::Whoami { json } => Printer::new(json).identity(&open(dir)?.identity()?, "identity"),
        Command::Festival(cmd) => festival(cmd, dir),
        Command::Resource(cmd) => resource(cmd, dir),
        Command::Event(cmd) => event(cmd, dir),
        Command::Request(cmd) => request(cmd, dir),
        Command::Schedule { festival, resource, ical, format, json } => {
            let mut node = open(dir)?;
            let format = match (ical, format.as_deref()) {
                (true, _) => Some(pandafest::publish::Format::Ical),
                (false, Some(f)) => Some(
                    pandafest::publish::Format::parse(f)
                        .ok_or_else(|| ApiError::bad_input(format!("--format {f:?} is none of ical, frab, json")))?,
                ),
                (false, None) => None,
            };
            if let Some(format) = format {
                if resource.is_some() && format != pandafest::publish::Format::Ical {
                    return Err(ApiError::bad_input("--resource goes with --format ical only"));
                }
                print!("{}", pandafest::api::export(&mut node, &festival, resource.as_deref(), format)?);
                return Ok(());
            }
            let slots = node.schedule(&festival, resource.as_deref())?;
            let tz = node.festival(&festival)?.timezone;
            Printer::new(json).slots(&slots, &tz)
        }
        Command::Sync { peer, festival, json } => {
            let node = open(dir)?;
            let only = match festival {
                // A festival not held yet can be named by its full id.
                Some(f) => Some(node.festival_id(&f).or_else(|e| Id::from_hex(&f).ok_or(e))?),
                None => None,
            };
            sync_with(node, &[peer], only, json)
        }
        Command::Invite { festival, peer, json } => {
            let node = open(dir)?;
            let invite = pandafest::views::InviteView::of(&pandafest::sync_cmds::invite(&node, &festival, &peer)?);
            if invite.peers.is_empty() {
                tell!("note: the link names no peer; run `pandafest serve --listen 0.0.0.0:7878` or give --peer ADDR");
            } else if let Some(hint) = &invite.hint {
                tell!("note: {hint}");
            }
            if json {
                output::print_json(&invite);
            } else {
                say!("{}", invite.link);
            }
            Ok(())
        }
        Command::Join { link, json } => {
            let node = open(dir)?;
            let invite = pandafest::sync_cmds::remember_join(&node, &link)?;
            if invite.peers.is_empty() {
                say!(
                    "joined festival {}; the link names no peer: it arrives when `pandafest serve` finds a peer holding it on the local network (mDNS), or with `pandafest sync --peer ADDR`",
                    invite.festival.short()
                );
                return Ok(());
            }
            sync_with(node, &invite.peers, Some(invite.festival), json)
        }
        Command::Token { json } => {
            let token = pandafest::http::api_token(&open(dir)?)?;
            if json {
                output::print_json(&serde_json::json!({ "token": token }));
            } else {
                say!("{token}");
            }
            Ok(())
        }
        Command::Rebuild => {
            let mut node = open(dir)?;
            let mut bar = output::Progress::new("rebuilding", "entries");
            node.store.rebuild(&mut |done, total| bar.update(done, total))?;
            bar.finish();
            let problems = node.store.check_integrity()?;
            for p in &problems {
                tell!("problem: {p}");
            }
            say!("rebuilt the plan from {} entries", node.store.entry_count()?);
            if problems.is_empty() { Ok(()) } else { Err(ApiError::internal("the store has problems (see above)")) }
        }
        Command::Collective(CollectiveCommand::Set { festival, members, rule, json }) => {
            let mut node = open(dir)?;
            let c = node.set_collective(&festival, pandafest::node::CollectiveInput { members, rule })?;
            Printer::new(json).collectives(std::slice::from_ref(&c))
        }
        Command::Collective(CollectiveCommand::List { festival, json }) => {
            Printer::new(json).collectives(&open(dir)?.collectives(&festival)?)
        }
        Command::Hook(cmd) => {
            let node = open(dir)?;
            match cmd {
                HookCommand::Add { name, hook } => {
                    pandafest::hooks::notify_add(&node, &name, &hook)?;
                    say!("hook {name} is told of every notice from now on, while `pandafest serve` runs: {hook}");
                    Ok(())
                }
                HookCommand::Remove { name } => pandafest::hooks::notify_remove(&node.store, &name),
                HookCommand::List { json } => {
                    let mut list = Vec::new();
                    for (name, hook) in pandafest::hooks::notify_list(&node.store)? {
                        let failures = pandafest::hooks::notify_failures(&node.store, &name)?;
                        list.push(serde_json::json!({ "name": name, "hook": hook.spec(), "failures": failures }));
                    }
                    if json {
                        output::print_json(&list);
                    } else if list.is_empty() {
                        say!("no hooks: `pandafest hook add NAME exec:COMMAND` or an https:// URL");
                    }
                    for h in list.iter().filter(|_| !json) {
                        say!("{:<12} {}", h["name"].as_str().unwrap_or(""), h["hook"].as_str().unwrap_or(""));
                        for f in h["failures"].as_array().into_iter().flatten() {
                            say!("  failed {}: {}", f[0].as_str().unwrap_or(""), f[1].as_str().unwrap_or(""));
                        }
                    }
                    Ok(())
                }
            }
        }
        Command::Policy(cmd) => {
            let node = open(dir)?;
            match cmd {
                PolicyCommand::Add { name, hook } => {
                    pandafest::hooks::add(&node.store, &name, &hook)?;
                    say!("policy {name} now asks {hook}");
                    Ok(())
                }
                PolicyCommand::Remove { name } => pandafest::hooks::remove(&node.store, &name),
                PolicyCommand::List { json } => {
                    let list: Vec<PolicyView> = pandafest::hooks::list(&node.store)?
                        .into_iter()
                        .map(|(name, hook)| PolicyView { name, hook: hook.spec() })
                        .collect();
                    if json {
                        output::print_json(&list);
                    } else {
                        say!("fcfs     built in: first come, first served");
                        say!("manual   built in: the owner decides");
                        for p in list {
                            say!("{:<8} {}", p.name, p.hook);
                        }
                    }
                    Ok(())
                }
            }
        }
        Command::Log(_) | Command::Serve(_) => unreachable!("handled in run"),
    }
}

/// Syncs once with the first of `peers` that answers, with a progress bar on a terminal.
fn sync_with(node: Node, peers: &[String], only: Option<Id>, json: bool) -> Result<(), ApiError> {
    let node = std::sync::Arc::new(std::sync::Mutex::new(node));
    let runtime = tokio::runtime::Runtime::new().map_err(|e| ApiError::internal(e.to_string()))?;
    let mut last_error = None;
    for peer in peers {
        let mut bar = output::Progress::new("syncing", "entries");
        let result = runtime
            .block_on(pandafest::sync_cmds::sync_once(node.clone(), peer, only, |done, total| bar.update(done, total)));
        bar.finish();
        match result {
            Ok(summary) => {
                let node = node.lock().expect("node");
                if json {
                    output::print_json(&summary);
                } else {
                    let who = summary.peer.as_deref().map_or("?".to_string(), |k| k[..8].to_string());
                    say!(
                        "synced with {who} at {peer}: {} festivals, {} entries received ({} new)",
                        summary.festivals.len(),
                        summary.received,
                        summary.stored
                    );
                    for f in &summary.festivals {
                        if let Some(f) = Id::from_hex(f).and_then(|id| node.state().festival(&id)) {
                            say!("  {}  {}", f.id.short(), f.fields.name);
                        }
                    }
                }
                return Ok(());
            }
            Err(e) => {
                tell!("{peer}: {e}");
                last_error = Some(e);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| ApiError::bad_input("no peer to sync with")))
}

fn festival(cmd: FestivalCommand, dir: &Option<PathBuf>) -> Result<(), ApiError> {
    match cmd {
        FestivalCommand::Create { name, description, parent, timezone, start, end, json } => {
            let mut node = open(dir)?;
            let f = node.create_festival(NewFestival { name, description, timezone, parent, start, end })?;
            Printer::new(json).created_festival(&f)
        }
        FestivalCommand::List { json } => {
            let node = open(dir)?;
            Printer::new(json).festivals(&node.festivals())
        }
        FestivalCommand::Show { id, json } => {
            let node = open(dir)?;
            let f = node.festival(&id)?;
            if json {
                output::print_json(&f);
                return Ok(());
            }
            let resources = node.resources(&id)?;
            let events = node.events(&id)?;
            Printer::new(false).festival_detail(&f, &resources, &events)
        }
        FestivalCommand::Update { id, name, description, timezone, start, end, ticket, no_ticket, json } => {
            let mut node = open(dir)?;
            let ticket = if no_ticket { Some(None) } else { ticket.map(Some) };
            let f = node.update_festival(&id, FestivalChange { name, description, timezone, start, end, ticket })?;
            Printer::new(json).festival_line(&f, "updated")
        }
    }
}

fn resource(cmd: ResourceCommand, dir: &Option<PathBuf>) -> Result<(), ApiError> {
    let mut node = open(dir)?;
    match cmd {
        ResourceCommand::Create { festival, flags, json } => {
            let r = node.create_resource(&festival, resource_input(flags)?)?;
            Printer::new(json).created_resource(&r)
        }
        ResourceCommand::List { festival, json } => Printer::new(json).resources(&node.resources(&festival)?),
        ResourceCommand::Update { id, flags, dry_run: true, json } => {
            let change = node.preview_resource(&id, resource_input(flags)?)?;
            let tz = node.festival(&node.resource(&id)?.festival)?.timezone;
            Printer::new(json).resource_change(&change, &tz)
        }
        ResourceCommand::Update { id, flags, dry_run: false, json } => {
            let r = node.update_resource(&id, resource_input(flags)?)?;
            Printer::new(json).resource_line(&r, "updated")
        }
        ResourceCommand::Retire { id, json } => {
            let r = node.retire_resource(&id)?;
            Printer::new(json).resource_line(&r, "retired")
        }
        ResourceCommand::Check { id, start, end, json } => {
            let check = node.check(&id, &start, &end)?;
            let tz = node.festival(&node.resource(&id)?.festival)?.timezone;
            Printer::new(json).check(&check, &tz)
        }
    }
}

fn event(cmd: EventCommand, dir: &Option<PathBuf>) -> Result<(), ApiError> {
    let mut node = open(dir)?;
    match cmd {
        EventCommand::Create { festival, title, description, start, end, requests, all_or_nothing, until, json } => {
            let requests = requests.iter().map(|r| request_arg(r)).collect::<Result<Vec<_>, ApiError>>()?;
            let input = NewEvent { title, description, start, end, requests, all_or_nothing, until };
            let e = node.create_event(&festival, input)?;
            let tz = node.festival(&e.festival)?.timezone;
            Printer::new(json).created_event(&e, &tz)
        }
        EventCommand::List { festival, json } => {
            let tz = node.festival(&festival)?.timezone;
            Printer::new(json).events(&node.events(&festival)?, &tz)
        }
        EventCommand::Update { id, title, description, start, end, moves, dry_run, json } => {
            let moves = moves.iter().map(|r| request_arg(r)).collect::<Result<Vec<_>, ApiError>>()?;
            let change = EventChange { title, description, start, end, moves, preview: dry_run, all_or_nothing: None };
            let u = node.update_event(&id, change)?;
            let tz = node.festival(&u.event.festival)?.timezone;
            Printer::new(json).event_update(&u, &tz)
        }
        EventCommand::Cancel { id, json } => {
            let e = node.cancel_event(&id)?;
            let tz = node.festival(&e.festival)?.timezone;
            Printer::new(json).created_event(&e, &tz)
        }
    }
}

fn request(cmd: RequestCommand, dir: &Option<PathBuf>) -> Result<(), ApiError> {
    let mut node = open(dir)?;
    let tz_of =
        |node: &Node, q: &RequestView| node.festival(&q.festival).map(|f| f.timezone).unwrap_or_else(|_| "UTC".into());
    let (q, json) = match cmd {
        RequestCommand::List { mine, incoming, pending, festival, json } => {
            let list = node.requests(RequestFilter { mine, incoming, pending }, festival.as_deref())?;
            let tzs: Vec<String> = list.iter().map(|q| tz_of(&node, q)).collect();
            return Printer::new(json).requests(&list, &tzs);
        }
        RequestCommand::Confirm { id, json } => (node.confirm(&id)?, json),
        RequestCommand::Deny { id, reason, json } => (node.deny(&id, reason)?, json),
        RequestCommand::Release { id, json } => (node.release(&id)?, json),
        RequestCommand::Withdraw { id, json } => (node.withdraw(&id)?, json),
        RequestCommand::Show { id, json } => (node.request(&id)?, json),
        RequestCommand::Vote { id, yes, no: _, reason, json } => {
            (node.vote(&id, pandafest::node::VoteInput { yes, reason })?, json)
        }
    };
    let tz = tz_of(&node, &q);
    Printer::new(json).request(&q, &tz)
}
