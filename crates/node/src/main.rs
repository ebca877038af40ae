//! `pandafest`: the command-line node. Parsing and printing live here; the work is done
//! by the `pandafest` library.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    few_malloc_arenas();
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", cmd::clean(&format!("{err:#}")));
            ExitCode::from(1)
        }
    }
}

/// glibc gives each thread that allocates at once its own heap ("arena"), up to eight per
/// core, and memory freed in one is not reused by another: a server whose requests run on
/// whichever blocking thread is free grew by each large answer's peak in turn. Two arenas:
/// a million-entry festival's c3voc, frab, programme and calendar, one after the other,
/// peaked at 113 MB instead of 155 MB (issue 15). Before any thread starts.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
