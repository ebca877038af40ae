//! Helpers the benches share: percentiles, a process's memory and CPU from `/proc`, a child's
//! peak memory, and the real binary serving on loopback.

#![allow(dead_code)] // each bench uses a part

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The value at fraction `p` of `sorted`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50, p99 and max of `secs`, in milliseconds.
pub fn ms(secs: &mut [f64]) -> String {
    secs.sort_by(|a, b| a.total_cmp(b));
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(secs, 0.5) * 1e3,
        percentile(secs, 0.99) * 1e3,
        secs[secs.len() - 1] * 1e3
    )
}

/// A field of `/proc/PID/status` in KiB (`VmRSS:`, `VmHWM:`) or as a count (`Threads:`).
pub fn status_kb(pid: u32, field: &str) -> i64 {
    proc_field(pid, "status", field)
}

/// The number after `field` in `/proc/PID/file`.
fn proc_field<T: std::str::FromStr<Err: std::fmt::Debug>>(pid: u32, file: &str, field: &str) -> T {
    let s = std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    let line = s.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A location that is always available to one booking at a time, decided by hand.
pub fn location(name: String, description: &str) -> model::op::ResourceFields {
    model::op::ResourceFields {
        name,
        kind: model::op::ResourceKind::Location,
        description: description.into(),
        geo: None,
        address: String::new(),
        url: String::new(),
        availability: model::Availability::Always,
        policy: "manual".into(),
        capacity: model::Capacity::ONE,
        needs: Vec::new(),
    }
}

/// A counter of `/proc/PID/io`: `rchar` (bytes read, most from the OS's page cache),
/// `read_bytes` (those the block device had to fetch), `syscr` (read calls).
pub fn io_count(pid: u32, field: &str) -> u64 {
    proc_field(pid, "io", field)
}

/// The release binary run with `args` to its end, its output dropped: whether it succeeded,
/// its peak memory in KiB and its wall time in seconds.
pub fn pandafest(args: &[&str]) -> (bool, i64, f64) {
    let (ok, peak_kb, secs, _) = pandafest_written(args);
    (ok, peak_kb, secs)
}

/// As [`pandafest`], and the bytes the run wrote to the file system (`wait4`'s `ru_oublock`,
/// blocks of 512 bytes, as `time -f %O` reports them): the WAL's frames and the pages
/// checkpoints copy back. Unlike the wall time, it does not change with the machine's load.
pub fn pandafest_written(args: &[&str]) -> (bool, i64, f64, u64) {
    let t = std::time::Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_pandafest")).args(args).stdout(Stdio::null()).spawn().unwrap();
    let (ok, peak_kb, blocks) = wait_with_peak_memory_and_writes(child);
    (ok, peak_kb, t.elapsed().as_secs_f64(), blocks * 512)
}

/// Waits for the child and returns (success, its peak resident memory in KiB, the blocks of
/// 512 bytes it wrote to the file system). The memory is its own `VmHWM`, read every 10 ms
/// until it exits. Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark of the memory
/// a process had before its exec over to the program it execs, and a child spawned from a
/// bench starts from the bench's, so every child of the plan bench (which made a million
/// entries) reported the bench's 755 MB. The blocks are `wait4`'s `ru_oublock`, which counts
/// from the fork.
fn wait_with_peak_memory_and_writes(child: Child) -> (bool, i64, u64) {
    let pid = child.id() as libc::pid_t;
    let mut peak = 0;
    loop {
        // Once the child is a zombie its status has no memory lines: the last reading stands.
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<i64>().ok())
        {
            peak = peak.max(kb);
        }
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child only, with valid pointers to a status and a rusage.
        let waited = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(waited >= 0, "wait for the child: {}", std::io::Error::last_os_error());
        if waited == pid {
            let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
            return (ok, peak, usage.ru_oublock as u64);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The size of the database in `data` in MB, its write-ahead log included (a fresh import's
/// last pages may all be there).
pub fn database_mb(data: &Path) -> f64 {
    let size = |f: &str| std::fs::metadata(data.join(f)).map(|m| m.len()).unwrap_or(0);
    (size("pandafest.sqlite") + size("pandafest.sqlite-wal")) as f64 / 1e6
}

/// `pandafest serve` on loopback over `data`, once it says where it serves.
pub struct Serving {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    /// The API's bearer token.
    pub token: String,
}

impl Serving {
    pub fn start(data: &Path, stderr: Stdio) -> Serving {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pandafest"))
            .args(["--data-dir", data.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // The node says more later; a closed pipe would make its prints fail.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let (address, token) = first
            .trim()
            .trim_start_matches("pandafest is serving at http://")
            .split_once("/#token=")
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .unwrap_or_else(|| panic!("unexpected first line from serve: {first:?}"));
        assert!(address.starts_with("127.0.0.1:"), "the node listens on loopback only: {address}");
        Serving { child, address, token }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The id of the one festival in a data directory.
pub fn festival_id(data: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pandafest"))
        .args(["--data-dir", data.to_str().unwrap(), "festival", "list", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0]["id"].as_str().unwrap().to_string()
}
