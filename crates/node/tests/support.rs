//! Running the real `pandafest` binary on temporary data directories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_pandafest");

/// One person: a data directory and the binary.
pub struct Person {
    pub name: &'static str,
    pub dir: tempfile::TempDir,
}

impl Person {
    pub fn new(name: &'static str) -> Person {
        let p = Person { name, dir: tempfile::tempdir().unwrap() };
        p.ok(&["init", "--name", name]);
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data-dir").arg(self.dir.path()).args(args).env_remove("PANDAFEST_DATA_DIR");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{} {:?} failed: {}\n{}",
            self.name,
            args,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "{} {:?} should fail but printed {}",
            self.name,
            args,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }

    /// Writes this person's export of `festival` to a file and returns its path.
    pub fn export(&self, festival: &str) -> PathBuf {
        let file = self.dir.path().join(format!("export-{}.txt", rand_suffix()));
        self.ok(&["log", "export", "--festival", festival, "--output", file.to_str().unwrap()]);
        file
    }

    pub fn import(&self, file: &Path) -> String {
        self.ok(&["log", "import", file.to_str().unwrap()])
    }

    /// Imports everything `other` holds of `festival`.
    pub fn receive(&self, other: &Person, festival: &str) -> String {
        self.import(&other.export(festival))
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

pub fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

/// A `pandafest serve` process; killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
    /// The API's token, from the link the server printed.
    pub token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `Authorization: Bearer TOKEN`, as a header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// host:port of the server.
    pub fn address(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }
}

/// Starts `pandafest serve` on a free loopback port and waits until it serves.
pub fn serve(p: &Person, extra: &[&str]) -> Server {
    serve_at(p, "127.0.0.1:0", extra)
}

/// Starts `pandafest serve` on `listen` (a loopback address).
pub fn serve_at(p: &Person, listen: &str, extra: &[&str]) -> Server {
    use std::io::BufRead;
    let mut args = vec!["serve", "--listen", listen];
    args.extend_from_slice(extra);
    // Its log goes to a file beside its data, so that a node that does not start says why.
    let log = p.dir.path().join(format!("serve-{}.log", rand_suffix()));
    let stderr = std::fs::File::create(&log).unwrap();
    let mut child = p.command(&args).stdout(std::process::Stdio::piped()).stderr(stderr).spawn().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("pandafest is serving at ").unwrap_or_else(|| {
        let _ = child.wait();
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("serve --listen {listen} did not start: {first:?}; its log:\n{said}")
    });
    let (base, token) = url.split_once("/#token=").unwrap_or_else(|| panic!("no token in {url}"));
    Server { child, base: base.to_string(), token: token.to_string() }
}

/// Polls `check` until it holds, for at most `seconds`.
pub fn eventually(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!("not within {seconds} s: {what}");
}
