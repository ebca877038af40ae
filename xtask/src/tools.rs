//! Finding and installing what the commands need, idempotently.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::{project_root, sh};

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

pub fn has_nextest() -> bool {
    succeeds(Command::new("cargo").args(["nextest", "--version"]))
}

pub fn ensure_cargo_fuzz() -> Result<()> {
    if !succeeds(Command::new("rustup").args(["run", "nightly", "rustc", "--version"])) {
        bail!("fuzzing needs the nightly toolchain: `rustup toolchain install nightly`");
    }
    if !succeeds(Command::new("cargo").args(["fuzz", "--version"])) {
        sh(Command::new("cargo").args(["install", "cargo-fuzz"]))
            .context("cannot install cargo-fuzz from crates.io")?;
    }
    Ok(())
}

/// Every (crate directory, target name) with a cargo-fuzz layout under crates/.
pub fn fuzz_targets() -> Result<Vec<(PathBuf, String)>> {
    let mut targets = Vec::new();
    for krate in std::fs::read_dir(project_root().join("crates"))? {
        let krate = krate?.path();
        let dir = krate.join("fuzz/fuzz_targets");
        let Ok(files) = std::fs::read_dir(&dir) else { continue };
        for file in files {
            let path = file?.path();
            if let Some(name) = path.file_stem().filter(|_| path.extension().is_some_and(|e| e == "rs")) {
                targets.push((krate.clone(), name.to_string_lossy().into_owned()));
            }
        }
    }
    targets.sort();
    Ok(targets)
}

/// Copies crash, timeout and out-of-memory inputs of `target` into the crate's regression folder.
pub fn keep_crashers(crate_dir: &std::path::Path, target: &str) -> Result<usize> {
    let artifacts = crate_dir.join("fuzz/artifacts").join(target);
    let dest = crate_dir.join("tests/fuzz_regressions");
    let Ok(files) = std::fs::read_dir(&artifacts) else { return Ok(0) };
    let mut kept = 0;
    for file in files {
        let path = file?.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if ["crash-", "timeout-", "oom-", "leak-"].iter().any(|p| name.starts_with(p)) {
            std::fs::create_dir_all(&dest)?;
            let to = dest.join(format!("{target}-{name}"));
            if !to.exists() {
                std::fs::copy(&path, &to)?;
                kept += 1;
            }
        }
    }
    Ok(kept)
}

/// Installs the web UI's npm packages when needed and builds it; returns `web/dist`,
/// or `None` if the project has no web UI.
pub fn build_web() -> Result<Option<PathBuf>> {
    let web = project_root().join("web");
    if !web.join("package.json").is_file() {
        return Ok(None);
    }
    if !succeeds(Command::new("npm").arg("--version")) {
        bail!("the web UI needs Node.js and npm (Debian: apt-get install nodejs npm; node 20 or newer)");
    }
    let lock = web.join("package-lock.json");
    let stamp = web.join("node_modules/.package-lock.json");
    let fresh = match (
        std::fs::metadata(&lock).and_then(|m| m.modified()),
        std::fs::metadata(&stamp).and_then(|m| m.modified()),
    ) {
        (Ok(l), Ok(s)) => s >= l,
        _ => false,
    };
    if !fresh {
        sh(Command::new("npm").current_dir(&web).args(["ci", "--no-audit", "--no-fund"]))
            .context("cannot install the web UI's npm packages (is the npm registry reachable?)")?;
    }
    sh(Command::new("npm").current_dir(&web).args(["run", "build"]))?;
    Ok(Some(web.join("dist")))
}

/// A Debian package that the build or the tests need, and why. This is the one list: a new
/// system dependency goes here, and `ensure` installs it the same way as the others.
pub struct SystemPackage {
    /// The Debian package, installed with `apt-get install -y --no-install-recommends NAME`.
    pub name: &'static str,
    /// A file whose presence shows the package is installed.
    pub provides: &'static str,
    pub why: &'static str,
    /// The xtask commands that need it.
    pub needed_by: &'static [&'static str],
}

/// Every system package any xtask command needs (the README lists the same).
pub const SYSTEM_PACKAGES: &[SystemPackage] = &[
    SystemPackage {
        name: "clang",
        provides: "/usr/bin/clang",
        why: "compiles SQLite for the wasm32 browser peer",
        needed_by: &["run", "test", "bench", "wasm"],
    },
    SystemPackage {
        name: "make",
        provides: "/usr/bin/make",
        why: "builds jemalloc, the native node's allocator",
        needed_by: &["run", "test", "bench"],
    },
    SystemPackage {
        name: "chromium",
        provides: "/usr/bin/chromium",
        why: "runs the browser end-to-end tests and the browser benchmark",
        needed_by: &["test", "bench"],
    },
];

/// Installs every system package that `command` needs, before anything is built.
pub fn ensure_system_packages(command: &str) -> Result<()> {
    for package in SYSTEM_PACKAGES.iter().filter(|p| p.needed_by.contains(&command)) {
        package.ensure()?;
    }
    Ok(())
}

impl SystemPackage {
    /// Installs the package with apt-get when missing (as root), or says which command would.
    pub fn ensure(&self) -> Result<PathBuf> {
        let path = PathBuf::from(self.provides);
        if path.exists() {
            return Ok(path);
        }
        let install = format!("apt-get install -y --no-install-recommends {}", self.name);
        let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        if !root {
            bail!("{} is needed ({}): run `sudo {install}`", self.name, self.why);
        }
        eprintln!("installing {} ({})", self.name, self.why);
        let apt = |args: &[&str]| sh(Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive"));
        apt(&["install", "-y", "--no-install-recommends", self.name])
            .or_else(|_| {
                // A fresh machine may have no package lists yet.
                apt(&["update"])?;
                apt(&["install", "-y", "--no-install-recommends", self.name])
            })
            .with_context(|| format!("cannot install {} with `{install}`", self.name))?;
        if !path.exists() {
            bail!("`{install}` succeeded but {} is still missing", self.provides);
        }
        Ok(path)
    }
}

/// Where tools that take long to install are kept between runs (outside the checkout).
pub fn tool_cache() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".cache/pandafest-tools")
}

/// The version of the `wasm-bindgen` crate in Cargo.lock: the CLI must be exactly it.
fn locked_version(krate: &str) -> Result<String> {
    let lock = std::fs::read_to_string(project_root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{krate}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    bail!("{krate} is not in Cargo.lock")
}

/// The wasm32 target, the wasm-bindgen CLI of the locked version, and npm's wasm-opt.
pub fn ensure_wasm_tools() -> Result<(PathBuf, PathBuf)> {
    let installed =
        Command::new("rustup").args(["target", "list", "--installed"]).output().context("rustup is needed")?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l == "wasm32-unknown-unknown") {
        sh(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
            .context("cannot add the wasm32-unknown-unknown target with rustup")?;
    }
    let cache = tool_cache();
    let version = locked_version("wasm-bindgen")?;
    let bindgen = cache.join("bin/wasm-bindgen");
    let current =
        Command::new(&bindgen).arg("--version").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if !current.is_some_and(|v| v.trim().ends_with(&version)) {
        eprintln!("installing wasm-bindgen-cli {version} into {} (takes about 5 minutes, once)", cache.display());
        // Without --locked: with it, a pinned dependency is missing from the registry.
        sh(Command::new("cargo")
            .args(["install", "wasm-bindgen-cli", "--version", &format!("={version}"), "--root"])
            .arg(&cache))
        .context("cannot install wasm-bindgen-cli from crates.io")?;
    }
    let binaryen = cache.join("binaryen");
    let wasm_opt = binaryen.join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        // npm's binaryen: Debian's (108) produces modules that fail to load.
        std::fs::create_dir_all(&binaryen)?;
        sh(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&binaryen)
            .arg("binaryen@132"))
        .context("cannot install binaryen (wasm-opt) from the npm registry")?;
    }
    Ok((bindgen, wasm_opt))
}

/// Whether web/package.json defines the npm script `name`.
pub fn npm_script_exists(name: &str) -> Result<bool> {
    let text = std::fs::read_to_string(project_root().join("web/package.json"))?;
    Ok(text.contains(&format!("\"{name}\":")))
}
