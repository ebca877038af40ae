//! `pandafest`: the command-line node. Parsing and printing live here; the work is done
//! by the `pandafest` library.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// jemalloc instead of glibc's malloc for Rust's allocations. The node's work is many small
/// allocations made on one thread and freed on another (entries checked on one thread and
/// stored on the next, rows encoded and written): glibc spent about a tenth of the storing
/// thread's time in `malloc` and `free`, and `log import` of 100,000 entries took 1.05 s
/// against 0.97 s with jemalloc, a sync of them 1.40 against 1.29 s (medians of six,
/// alternating; issue 15). mimalloc was as fast at importing but held freed memory: a sync's
/// peak went from 75 to 144 MB.
#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main`: one arena, so that memory one thread freed
/// serves the next (a server's requests run on whichever blocking thread is free: with
/// eight arenas, a million-entry festival's whole programme, calendar and schedules, one
/// after the other, peaked at 150 MB, with one at 108 MB); freed pages go back to the
/// system a second after they were last used, not ten. `_RJEM_MALLOC_CONF` overrides them.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: &[u8; 47] = b"narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

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

/// SQLite allocates with glibc's malloc, which gives each thread that allocates at once its
/// own heap ("arena"), up to eight per core, and memory freed in one is not reused by
/// another: a server whose requests run on whichever blocking thread is free grew by each
/// large answer's peak in turn. Two arenas: a million-entry festival's c3voc, frab,
/// programme and calendar, one after the other, peaked at 113 MB instead of 155 MB (issue
/// 15; then for Rust's allocations too). Before any thread starts.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
