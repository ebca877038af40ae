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
