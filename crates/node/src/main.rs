//! `pandafest`: the command-line node. Parsing and printing live here; the work is done
//! by the `pandafest` library.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", cmd::clean(&format!("{err:#}")));
            ExitCode::from(1)
        }
    }
}
