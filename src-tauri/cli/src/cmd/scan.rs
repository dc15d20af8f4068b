//! `keyward scan`: parses flags, opens the vault if one exists (never creates
//! it), runs the core's scanner and prints text, JSON or SARIF. Exit 1 when
//! anything is found, 0 when clean, 2 for a path that cannot be read.

use crate::output::Ctx;
use clap::{Args, ValueEnum};
use keyward_core::scan::{self, Finding, KeyLookup, ScanOptions, ScanReport};
use keyward_core::Result;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Output formats of `scan`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Args)]
pub struct ScanArgs {
    /// Files and directories to scan [default: .]
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format (wins over --json) [default: text, or json with --json]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Skip files larger than this: bytes, or with a K, M or G suffix (powers of 1024)
    #[arg(long, value_name = "SIZE", default_value = "10M", value_parser = parse_size)]
    max_size: u64,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Also scan what .gitignore, .ignore and .keywardignore files exclude
    #[arg(long)]
    no_ignore: bool,
}

pub fn run(ctx: &Ctx, args: ScanArgs) -> Result<u8> {
    let format = args
        .format
        .unwrap_or(if ctx.json { Format::Json } else { Format::Text });
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let mut opts = ScanOptions::new(paths);
    opts.max_file_size = args.max_size;
    opts.threads = args.threads.unwrap_or(0);
    opts.respect_ignore_files = !args.no_ignore;
    // Naming Keyward keys is a bonus: a vault that fails to open does not stop the scan.
    let vault = match ctx.open_existing_vault() {
        Ok(v) => v,
        Err(e) => {
            ctx.note(&format!(
                "keyward: warning: the vault could not be opened ({e}); Keyward keys are reported without their names"
            ));
            None
        }
    };
    let report = scan::scan(&opts, vault.as_ref().map(|v| v as &dyn KeyLookup))?;
    for w in &report.warnings {
        ctx.note(&format!("keyward: warning: {w}"));
    }
    let mut out = std::io::stdout().lock();
    let rendered = match format {
        Format::Json => serde_json::to_string_pretty(&report).unwrap_or_default(),
        Format::Sarif => {
            serde_json::to_string_pretty(&scan::sarif(&report, env!("CARGO_PKG_VERSION")))
                .unwrap_or_default()
        }
        Format::Text => text(&report, ctx.quiet),
    };
    if !rendered.is_empty() {
        let _ = writeln!(out, "{}", rendered.trim_end_matches('\n'));
    }
    Ok(if report.findings.is_empty() { 0 } else { 1 })
}

/// Findings grouped by file, then a summary line (left out with `--quiet`).
fn text(report: &ScanReport, quiet: bool) -> String {
    let mut out = String::new();
    let mut files = 0usize;
    let mut current: Option<&str> = None;
    let kind_width = report
        .findings
        .iter()
        .map(|f| f.kind.id().len())
        .max()
        .unwrap_or(0);
    for f in &report.findings {
        if current != Some(f.file.as_str()) {
            if current.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", f.file);
            current = Some(f.file.as_str());
            files += 1;
        }
        finding_lines(&mut out, f, kind_width);
    }
    if quiet {
        return out;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let n = report.findings.len();
    let found = if n == 0 {
        "No credentials found".to_string()
    } else {
        format!("{n} finding{} in {files} file{}", plural(n), plural(files))
    };
    let s = &report.skipped;
    let mut skipped = Vec::new();
    if s.binary > 0 {
        skipped.push(format!("{} binary", s.binary));
    }
    if s.too_large > 0 {
        skipped.push(format!("{} too large", s.too_large));
    }
    if s.unreadable > 0 {
        skipped.push(format!("{} unreadable", s.unreadable));
    }
    let skipped = if skipped.is_empty() {
        String::new()
    } else {
        format!("; skipped {}", skipped.join(", "))
    };
    let _ = writeln!(
        out,
        "{found} (scanned {} file{}, {}{skipped})",
        report.files_scanned,
        plural(report.files_scanned as usize),
        human_bytes(report.bytes_scanned)
    );
    out
}

fn finding_lines(out: &mut String, f: &Finding, kind_width: usize) {
    let at = format!("{}:{}", f.line, f.column);
    let _ = writeln!(
        out,
        "  {at:<9} {:<7} {:<kind_width$}  {}  {}",
        f.level.as_str(),
        f.kind.id(),
        f.masked,
        f.message
    );
    let indent = " ".repeat(12);
    if let Some(cmd) = &f.suggestion {
        let _ = writeln!(out, "{indent}→ {cmd}");
    }
    if let Some(jwt) = &f.jwt {
        for lint in &jwt.lints {
            let severity = serde_json::to_value(lint.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(out, "{indent}- {severity} {}: {}", lint.id, lint.message);
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `4096`, `512K`, `10M`, `1G` (also `KiB`/`MB`-style suffixes; powers of 1024).
fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: use bytes or a number with K, M or G"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(format!(
                "invalid size {s:?}: use bytes or a number with K, M or G"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("invalid size {s:?}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("10X").is_err());
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(10 << 20), "10.0 MiB");
    }
}
