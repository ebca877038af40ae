//! `cargo xtask <command>`: the developer commands of pandafest.
//!
//! - `run`   build everything and start the node (`pandafest serve`), printing its address
//! - `test`  every test of the workspace (and, as they exist, the web, wasm and browser tests)
//! - `bench` the benchmarks, with the ratios the project tracks
//! - `fuzz`  run each fuzz target for a while (nightly) and keep crashers as regression files
//!
//! Each command installs what it needs (rustup targets, tools, npm packages, Chromium)
//! idempotently, and stops with a clear message when it cannot.

mod tools;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    if let Some(command) = args.first() {
        tools::ensure_system_packages(command)?;
    }
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("wasm") => wasm().map(|_| ()),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench|fuzz> [args]\n");
            eprintln!("  run [-- SERVE_ARGS]   build and start pandafest serve");
            eprintln!("  test                  run every test (what CI runs)");
            eprintln!("  bench                 run the benchmarks and print the ratios");
            eprintln!("  fuzz [SECONDS]        fuzz every target (default 60 s each) on nightly");
            eprintln!("  wasm                  build the browser peer into web/src/peer/pkg");
            std::process::exit(2);
        }
    }
}

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` (relative to the workspace) or `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => project_root().join(dir),
        _ => project_root().join("target"),
    }
}

/// Runs a command, echoing it, and fails with its exit status.
pub fn sh(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", display(cmd));
    let status = cmd.status().with_context(|| format!("cannot start {}", display(cmd)))?;
    if !status.success() {
        bail!("`{}` failed with {status}", display(cmd));
    }
    Ok(())
}

fn display(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(args: &[String]) -> Result<()> {
    wasm()?;
    let web = tools::build_web()?;
    sh(cargo().args(["build", "--release", "-p", "pandafest"]))?;
    let bin = target_dir().join("release/pandafest");
    let mut serve = Command::new(&bin);
    serve.arg("serve");
    if let Some(dir) = web {
        serve.arg("--web-dir").arg(dir);
    }
    // Anything after `--` goes to `pandafest serve`, e.g. `cargo xtask run -- --listen 0.0.0.0:7878`.
    serve.args(args.iter().skip_while(|a| *a == "--"));
    eprintln!("starting the node; stop it with Ctrl-C");
    sh(&mut serve)
}

fn test(_args: &[String]) -> Result<()> {
    sh(cargo().args(["fmt", "--all", "--", "--check"])).context("code is not formatted: run `cargo fmt --all`")?;
    // The browser peer and the web UI first: the node's tests serve their build.
    wasm()?;
    let web = tools::build_web()?;
    if web.is_some() {
        sh(Command::new("npm").current_dir(project_root().join("web")).args(["test"]))?;
    }
    let nextest = tools::has_nextest();
    if nextest {
        // The simulation (HyParView, whole festivals) is a feature nodes are built without.
        sh(cargo().args([
            "nextest",
            "run",
            "--workspace",
            "--no-fail-fast",
            "--features",
            "pandafest-sync/simulation",
        ]))?;
        sh(cargo().args(["test", "--workspace", "--doc"]))?;
    } else {
        sh(cargo().args(["test", "--workspace", "--no-fail-fast", "--features", "pandafest-sync/simulation"]))?;
    }
    // The core compiled to wasm, run by wasm-bindgen's test runner (in Node.js).
    let runner = tools::tool_cache().join("bin/wasm-bindgen-test-runner");
    sh(cargo()
        .args(["test", "-p", "pandafest-wasm", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner))?;
    if web.is_some() {
        // The browser tests: the real node (as built by the tests above) behind the real UI.
        sh(cargo().args(["build", "-p", "pandafest"]))?;
        let bin = target_dir().join("debug/pandafest");
        sh(Command::new("npm")
            .current_dir(project_root().join("web"))
            .args(["run", "e2e"])
            .env("PANDAFEST_BIN", &bin))?;
        for script in ["e2e:peer", "e2e:plan", "e2e:teams", "e2e:tickets"] {
            if tools::npm_script_exists(script)? {
                sh(Command::new("npm")
                    .current_dir(project_root().join("web"))
                    .args(["run", script])
                    .env("PANDAFEST_BIN", &bin))?;
            }
        }
    }
    eprintln!("all tests passed");
    Ok(())
}

fn bench(_args: &[String]) -> Result<()> {
    sh(cargo().args(["bench", "-p", "pandafest-bamboo", "--bench", "codec"]))?;
    sh(cargo().args(["bench", "-p", "pandafest-model", "--bench", "materialise"]))?;
    sh(cargo().args(["bench", "-p", "pandafest", "--bench", "ingest"]))?;
    sh(cargo().args(["bench", "-p", "pandafest", "--bench", "community"]))?;
    sh(cargo().args(["bench", "-p", "pandafest", "--bench", "field"]))?;
    sh(cargo().args(["bench", "-p", "pandafest", "--bench", "plan"]))?;
    // The same festival asking for a ticket: a programme asks who is admitted for each of its
    // events and resources.
    sh(cargo().args(["bench", "-p", "pandafest", "--bench", "plan"]).env("PANDAFEST_PLAN_TICKETS", "5000"))?;
    sh(cargo().args([
        "run",
        "--release",
        "-p",
        "pandafest-sync",
        "--features",
        "simulation",
        "--example",
        "simulate",
    ]))?;
    // The browser peer: bundle sizes and its ingest rate against the native node's.
    wasm()?;
    if tools::build_web()?.is_some() {
        sh(cargo().args(["build", "--release", "-p", "pandafest"]))?;
        sh(Command::new("npm")
            .current_dir(project_root().join("web"))
            .args(["run", "measure"])
            .env("PANDAFEST_BIN", target_dir().join("release/pandafest"))
            // One browser sync varies by 10 % and more here: the median of five, alternating
            // with the native sync it is a ratio to.
            .env("MEASURE_ROUNDS", "5"))?;
    }
    Ok(())
}

/// Builds the browser peer (`crates/wasm`) into `web/src/peer/pkg/`, where Vite picks it up.
pub fn wasm() -> Result<PathBuf> {
    let (bindgen, wasm_opt) = tools::ensure_wasm_tools()?;
    // Size matters more than speed for a download: optimise for size (z, and wasm-opt -Oz:
    // 1006.5 KiB gzipped against 1085 KiB with s, for a browser sync 0.32× native against
    // 0.34× in `npm run measure`, N=5000), link-time optimise.
    sh(cargo()
        .args(["build", "--release", "-p", "pandafest-wasm", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"))?;
    let root = project_root();
    let out = root.join("web/src/peer/pkg");
    sh(Command::new(&bindgen)
        .args(["--target", "web", "--out-name", "pandafest_wasm", "--out-dir"])
        .arg(&out)
        .arg(target_dir().join("wasm32-unknown-unknown/release/pandafest_wasm.wasm")))?;
    let wasm = out.join("pandafest_wasm_bg.wasm");
    sh(Command::new(&wasm_opt)
        .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"])
        .args(["--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", "-o"])
        .arg(&wasm)
        .arg(&wasm))?;
    let size = std::fs::metadata(&wasm)?.len();
    eprintln!("browser peer: {} ({:.2} MB)", wasm.display(), size as f64 / 1e6);
    Ok(out)
}

fn fuzz(args: &[String]) -> Result<()> {
    let seconds: u64 = args.first().map(|s| s.parse()).transpose().context("SECONDS must be a number")?.unwrap_or(60);
    tools::ensure_cargo_fuzz()?;
    for (crate_dir, target) in tools::fuzz_targets()? {
        let fuzz_dir = crate_dir.join("fuzz");
        let result = sh(Command::new("cargo").current_dir(&fuzz_dir).args([
            "+nightly",
            "fuzz",
            "run",
            &target,
            "--",
            &format!("-max_total_time={seconds}"),
        ]));
        let kept = tools::keep_crashers(&crate_dir, &target)?;
        if result.is_err() || kept > 0 {
            bail!(
                "fuzz target {target} crashed; {kept} input(s) copied to {}/tests/fuzz_regressions",
                crate_dir.display()
            );
        }
    }
    Ok(())
}
