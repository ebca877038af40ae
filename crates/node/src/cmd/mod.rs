use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod log;

/// Peer-to-peer planning for festivals, gatherings, hackerspaces and collectives.
#[derive(Parser, Debug)]
#[command(name = "pandafest", version, about)]
pub struct Cli {
    /// Where this node keeps its key and its data.
    #[arg(long, global = true, env = "PANDAFEST_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Raw Bamboo log plumbing.
    #[command(subcommand)]
    Log(log::LogCommand),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Log(cmd) => log::run(cmd),
    }
}
