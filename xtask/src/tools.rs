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

/// Debian's Chromium for the browser tests, installed with apt when missing (as root).
pub fn ensure_chromium() -> Result<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Ok(path);
    }
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if !root {
        bail!("the browser tests need Debian's chromium: run `sudo apt-get install -y chromium`");
    }
    sh(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "chromium"]))
        .or_else(|_| {
            sh(Command::new("apt-get").arg("update"))?;
            sh(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "chromium"]))
        })
        .context("cannot install chromium with apt-get")?;
    Ok(path)
}
