//! The `models:` comments that tie spec actions to code.
//!
//! An action in a spec carries one or more lines
//!
//! ```text
//! \* models: device-lib/cuda/rk_ring.cuh rk_ring_try_pop_begin
//! \* models: (planned) runtime supervisor restart
//! ```
//!
//! The first form names a file (relative to the workspace root) and a
//! function in it; [`check`] verifies the file exists and defines or calls
//! that function (the identifier as a whole word, followed by `(` or `<`).
//! The second form marks code that does not exist yet: the name check
//! reports it as not implemented instead of passing it silently.

use std::path::{Path, PathBuf};

/// What a `models:` line cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Citation {
    /// A function `name` in `path` (relative to the workspace root).
    Code { path: String, name: String },
    /// Code that is planned but not written yet; the text says what.
    Planned(String),
}

/// A citation and where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cited {
    pub spec: PathBuf,
    pub line: usize,
    pub citation: Citation,
}

const MARKER: &str = "models:";

/// The citations in one spec's text. A `models:` comment that is neither
/// form is an error (so a typo cannot make a citation disappear).
pub fn parse(spec: &Path, text: &str) -> Result<Vec<Cited>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let Some(comment) = line.strip_prefix("\\*") else {
            continue;
        };
        let Some(rest) = comment.trim().strip_prefix(MARKER) else {
            continue;
        };
        let rest = rest.trim();
        let at = format!("{}:{}", spec.display(), i + 1);
        let citation = if let Some(what) = rest.strip_prefix("(planned)") {
            let what = what.trim();
            if what.is_empty() {
                return Err(format!("{at}: `models: (planned)` needs a description"));
            }
            Citation::Planned(what.to_string())
        } else {
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.as_slice() {
                [path, name] if is_identifier(name) => Citation::Code {
                    path: path.to_string(),
                    name: name.to_string(),
                },
                _ => {
                    return Err(format!(
                        "{at}: expected `models: <path> <function>` or `models: (planned) <what>`, got `{rest}`"
                    ))
                }
            }
        };
        out.push(Cited {
            spec: spec.to_path_buf(),
            line: i + 1,
            citation,
        });
    }
    Ok(out)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Whether `source` has `name` as a whole identifier followed (after
/// optional whitespace) by `(` or `<`: a definition or call of a function
/// named `name`, not merely a longer name that starts with it.
pub fn mentions_function(source: &str, name: &str) -> bool {
    let is_ident = |c: char| c == '_' || c.is_ascii_alphanumeric();
    let mut from = 0;
    while let Some(found) = source[from..].find(name) {
        let start = from + found;
        let end = start + name.len();
        let before_ok = !source[..start].chars().next_back().is_some_and(is_ident);
        let after = source[end..].trim_start();
        let after_ok = !source[end..].chars().next().is_some_and(is_ident)
            && (after.starts_with('(') || after.starts_with('<'));
        if before_ok && after_ok {
            return true;
        }
        from = end;
    }
    false
}

/// Checks a code citation against the workspace at `root`.
pub fn check(root: &Path, path: &str, name: &str) -> Result<(), String> {
    let file = root.join(path);
    let source =
        std::fs::read_to_string(&file).map_err(|e| format!("{path}: cannot read ({e})"))?;
    if mentions_function(&source, name) {
        Ok(())
    } else {
        Err(format!("{path}: no function `{name}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_rejects_malformed_lines() {
        let text = "\
\\* models: device-lib/cuda/rk_ring.cuh rk_ring_try_pop_begin
PopBegin == TRUE
   \\* models: (planned) runtime supervisor restart
\\* not a citation: models are nice
";
        let got = parse(Path::new("X.tla"), text).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].citation,
            Citation::Code {
                path: "device-lib/cuda/rk_ring.cuh".into(),
                name: "rk_ring_try_pop_begin".into()
            }
        );
        assert_eq!(got[0].line, 1);
        assert_eq!(
            got[1].citation,
            Citation::Planned("runtime supervisor restart".into())
        );
        assert!(parse(Path::new("X.tla"), "\\* models: only_one_word\n").is_err());
        assert!(parse(Path::new("X.tla"), "\\* models: a.cuh b c\n").is_err());
        assert!(parse(Path::new("X.tla"), "\\* models: a.cuh not-ident\n").is_err());
        assert!(parse(Path::new("X.tla"), "\\* models: (planned)\n").is_err());
    }

    #[test]
    fn matches_whole_function_names_only() {
        let src = "RK_DEVICE void rk_ring_pop_commit_n(rk_ring* r, rk_u32 n) {}\n\
                   pub fn try_push<R>(&mut self) {}\n";
        assert!(!mentions_function(src, "rk_ring_pop_commit"));
        assert!(!mentions_function(src, "ring_pop_commit_n"));
        assert!(mentions_function(src, "rk_ring_pop_commit_n"));
        assert!(mentions_function(src, "try_push"));
        assert!(!mentions_function(
            "// see try_push for details",
            "try_push"
        ));
        assert!(mentions_function("f (x)", "f"));
    }
}
