use super::output::{say, tell};
use std::path::PathBuf;
use std::process::ExitCode;

use bamboo::{Entry, MemoryLogs};
use clap::Subcommand;
use pandafest::error::ApiError;
use serde::Serialize;

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Print the logs of a festival, one `ENTRY_HEX PAYLOAD_HEX` per line, each log in order.
    Export {
        #[arg(long)]
        festival: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Verify and store the entries of a file written by `log export` (or any Bamboo
    /// encoder). A file with any bad line is rejected whole and changes nothing.
    Import {
        file: PathBuf,
        /// One JSON object per stored batch, then a summary.
        #[arg(long)]
        json: bool,
    },
    /// Verify a file of entries: one `ENTRY_HEX [PAYLOAD_HEX]` per line, each log in order.
    ///
    /// Prints a verdict per line. Exit status: 0 if every line is valid, 1 if any is not,
    /// 2 if the file cannot be read.
    Verify {
        file: PathBuf,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: LogCommand, dir: &Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let result = match cmd {
        LogCommand::Verify { file, json } => return verify(&file, json),
        LogCommand::Export { festival, output } => export(dir, &festival, output),
        LogCommand::Import { file, json } => super::import::run(dir, &file, json),
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            tell!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn export(dir: &Option<PathBuf>, festival: &str, output: Option<PathBuf>) -> Result<(), ApiError> {
    use std::io::Write;
    let node = super::open(dir)?;
    let id = node.festival_id(festival)?;
    let mut out: Box<dyn Write> = match &output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| ApiError::bad_input(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut failed = None;
    let n = node.store.export(&id, |entry, payload| {
        if failed.is_none()
            && let Err(e) = writeln!(out, "{} {}", hex::encode(entry), hex::encode(payload))
        {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed.or_else(|| out.flush().err()) {
        return Err(ApiError::internal(format!("cannot write the export: {e}")));
    }
    if output.is_some() {
        tell!("exported {n} entries");
    }
    Ok(())
}

#[derive(Serialize)]
struct Verdict {
    line: usize,
    ok: bool,
    author: Option<String>,
    log_id: Option<u64>,
    seq: Option<u64>,
    error: Option<String>,
}

/// One line of the entry file format: `ENTRY_HEX [PAYLOAD_HEX]`.
pub struct Line {
    pub number: usize,
    pub entry: Vec<u8>,
    pub payload: Option<Vec<u8>>,
}

/// Parses the entry file format; blank lines and `#` comments are skipped.
/// A line that is not hex yields an error for that line only.
pub fn parse_lines(text: &str) -> Vec<Result<Line, (usize, String)>> {
    text.lines().enumerate().filter_map(|(i, l)| parse_line(i + 1, l)).collect()
}

/// One line of the entry file format, numbered `number`; `None` for a blank or comment line.
pub fn parse_line(number: usize, line: &str) -> Option<Result<Line, (usize, String)>> {
    // ASCII whitespace only: the lines are hex, and the Unicode-aware splitting was a third
    // of an import's parsing.
    let line = line.trim_ascii();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    // Fields are split at spaces and tabs, found with `memchr`: splitting at any ASCII
    // whitespace byte by byte was a fifth of each reading of an import's file (issue 15).
    // Other whitespace inside a line is no hex digit, and refused as such.
    fn field(text: &str) -> (&str, Option<&str>) {
        match memchr::memchr2(b' ', b'\t', text.as_bytes()) {
            Some(end) => (&text[..end], Some(text[end..].trim_ascii_start())),
            None => (text, None),
        }
    }
    let (entry, rest) = field(line);
    let (payload, more) = match rest.map(field) {
        Some((payload, more)) => (Some(payload), more),
        None => (None, None),
    };
    if more.is_some() {
        return Some(Err((number, "expected `ENTRY_HEX [PAYLOAD_HEX]`, found more fields".into())));
    }
    let parsed = (|| {
        let entry = unhex(entry).map_err(|e| (number, format!("entry is not hex: {e}")))?;
        let payload = payload.map(unhex).transpose().map_err(|e| (number, format!("payload is not hex: {e}")))?;
        Ok(Line { number, entry, payload })
    })();
    Some(parsed)
}

/// Hex to bytes with `const_hex`, which decodes with SIMD where the CPU has it: `hex`'s
/// decoding took a tenth of a large import's time (the file is read twice). The file is plain
/// hex: `const_hex` would take a `0x` in front, which is refused here.
fn unhex(text: &str) -> Result<Vec<u8>, const_hex::FromHexError> {
    if let [b'0', c @ (b'x' | b'X'), ..] = text.as_bytes() {
        return Err(const_hex::FromHexError::InvalidHexCharacter { c: char::from(*c), index: 1 });
    }
    const_hex::decode(text)
}

fn verify(file: &PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(err) => {
            tell!("error: cannot read {}: {err}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let lines = parse_lines(&text);
    let parsed: Vec<&Line> = lines.iter().filter_map(|l| l.as_ref().ok()).collect();
    let items: Vec<(&[u8], Option<&[u8]>)> =
        parsed.iter().map(|l| (l.entry.as_slice(), l.payload.as_deref())).collect();
    let mut logs = MemoryLogs::new();
    let mut verdicts = logs.insert_batch(&items).into_iter();
    let mut all_ok = true;
    for line in &lines {
        let verdict = match line {
            Err((number, reason)) => {
                Verdict { line: *number, ok: false, author: None, log_id: None, seq: None, error: Some(reason.clone()) }
            }
            Ok(line) => {
                let verdict = verdicts.next().expect("one verdict per parsed line");
                // Name the entry even when it is rejected, as far as it decodes.
                let decoded = Entry::decode(&line.entry).ok();
                Verdict {
                    line: line.number,
                    ok: verdict.is_ok(),
                    author: decoded.as_ref().map(|e| e.author.to_hex()),
                    log_id: decoded.as_ref().map(|e| e.log_id),
                    seq: decoded.as_ref().map(|e| e.seq_num),
                    error: verdict.err().map(|e| e.to_string()),
                }
            }
        };
        all_ok &= verdict.ok;
        if json {
            println!("{}", serde_json::to_string(&verdict)?);
        } else {
            print_text(&verdict);
        }
    }
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_text(v: &Verdict) {
    let what = match (&v.author, v.log_id, v.seq) {
        (Some(author), Some(log), Some(seq)) => format!("author {}… log {log} seq {seq}", &author[..16]),
        _ => "entry".to_string(),
    };
    match &v.error {
        None => say!("line {}: ok      {what}", v.line),
        Some(err) => say!("line {}: INVALID {what}: {err}", v.line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line is plain hex, as `pandafest log export` writes it: no `0x` in front, no odd
    /// length, nothing but hex digits.
    #[test]
    fn a_line_is_plain_hex() {
        let line = |text: &str| parse_line(7, text).map(|l| l.map(|l| (l.entry, l.payload)));
        assert_eq!(line("0aff 01"), Some(Ok((vec![0x0a, 0xff], Some(vec![1])))));
        assert_eq!(line("0AFF"), Some(Ok((vec![0x0a, 0xff], None))));
        assert_eq!(line("  # a comment"), None);
        assert_eq!(line(" \t "), None);
        // Fields apart by any run of spaces and tabs, the line's ends trimmed.
        assert_eq!(line(" 0aff \t 01\t\r\n"), Some(Ok((vec![0x0a, 0xff], Some(vec![1])))));
        assert_eq!(line("0aff\t01"), Some(Ok((vec![0x0a, 0xff], Some(vec![1])))));
        let more = line("0aff 01 02").unwrap().unwrap_err().1;
        assert!(more.contains("found more fields"), "{more}");
        for bad in ["0x0aff", "0X0aff", "0aff 0x01", "0af", "0aZf", "0aff\x0c01", "0a\rff 01"] {
            assert!(matches!(line(bad), Some(Err((7, _)))), "{bad}");
        }
    }
}
