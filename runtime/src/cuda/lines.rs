//! NVRTC's log, pointed at the user's Rust.
//!
//! The generated CUDA carries `#line N "file.rs"` directives, so NVRTC
//! already names Rust positions for code under a directive, in its own
//! `file(line): error: …` form. This module rewrites those to the
//! `file:line: error: …` form that editors and terminals link, and maps
//! positions NVRTC reports in the generated file itself (code before any
//! directive) through the directives by hand, or leaves them as positions in
//! the generated CUDA when no directive covers them.

/// Rewrites every `file(line): …` diagnostic of `log` (see module docs).
/// `program` is NVRTC's name for `source`.
pub(crate) fn map_log(log: &str, program: &str, source: &str) -> String {
    let directives = directives(source);
    let mut out = String::with_capacity(log.len());
    for line in log.lines() {
        match parse_position(line) {
            Some((file, n, rest)) if file == program => match map_line(&directives, n) {
                Some((rust_file, rust_line)) => {
                    out.push_str(&format!("{rust_file}:{rust_line}: {rest}"));
                }
                None => out.push_str(&format!("{program}:{n}: {rest} (generated CUDA)")),
            },
            Some((file, n, rest)) => out.push_str(&format!("{file}:{n}: {rest}")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `(CUDA line of the directive, Rust line it names, Rust file)`, in order.
fn directives(source: &str) -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("#line ") else {
            continue;
        };
        let mut parts = rest.splitn(2, ' ');
        let (Some(n), Some(file)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Ok(n) = n.parse::<u32>() {
            out.push((i as u32 + 1, n, file.trim().trim_matches('"').to_string()));
        }
    }
    out
}

/// The Rust position of CUDA line `n`, if a directive precedes it.
fn map_line(directives: &[(u32, u32, String)], n: u32) -> Option<(String, u32)> {
    let (at, rust, file) = directives.iter().rev().find(|(at, _, _)| *at < n)?;
    Some((file.clone(), rust + (n - at - 1)))
}

/// Splits `file(123): rest` into its parts.
fn parse_position(line: &str) -> Option<(&str, u32, &str)> {
    let close = line.find("): ")?;
    let open = line[..close].rfind('(')?;
    let n = line[open + 1..close].parse().ok()?;
    Some((&line[..open], n, &line[close + 3..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str =
        "// header\n#include \"rk_rust.cuh\"\n#line 10 \"src/k.rs\"\nint a;\nint b;\n";

    #[test]
    fn rust_positions_become_file_colon_line() {
        let log = "src/k.rs(12): error: identifier \"x\" is undefined\n";
        assert_eq!(
            map_log(log, "k.cu", SOURCE),
            "src/k.rs:12: error: identifier \"x\" is undefined\n"
        );
    }

    #[test]
    fn generated_positions_map_through_directives() {
        // CUDA line 5 is the second line after `#line 10` (on line 3).
        let log = "k.cu(5): error: bad\n1 error detected in the compilation of \"k.cu\".\n";
        assert_eq!(
            map_log(log, "k.cu", SOURCE),
            "src/k.rs:11: error: bad\n1 error detected in the compilation of \"k.cu\".\n"
        );
    }

    #[test]
    fn positions_before_any_directive_stay_generated() {
        let log = "k.cu(2): warning: odd\n";
        assert_eq!(
            map_log(log, "k.cu", SOURCE),
            "k.cu:2: warning: odd (generated CUDA)\n"
        );
    }
}
