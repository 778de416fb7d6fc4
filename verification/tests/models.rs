//! Every `\* models:` citation in the specs must name a function that exists
//! in the repository; `(planned)` citations are reported as not implemented.

use ringkernel_verification::models::{self, Citation};
use ringkernel_verification::tlc;

#[test]
fn cited_functions_exist() {
    let root = tlc::workspace_root();
    let mut specs: Vec<_> = std::fs::read_dir(tlc::specs_dir())
        .expect("specs/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "tla"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no specs found");
    let mut failures = Vec::new();
    let mut planned = Vec::new();
    for spec in &specs {
        let text = std::fs::read_to_string(spec).expect("spec text");
        let rel = spec.strip_prefix(&root).unwrap_or(spec);
        let cited = models::parse(rel, &text).unwrap_or_else(|e| panic!("{e}"));
        let code = cited
            .iter()
            .filter(|c| matches!(c.citation, Citation::Code { .. }))
            .count();
        if code == 0 {
            failures.push(format!("{}: cites no code at all", rel.display()));
        }
        for c in cited {
            match &c.citation {
                Citation::Code { path, name } => match models::check(&root, path, name) {
                    Ok(()) => println!("{}:{}: {path} {name}: ok", rel.display(), c.line),
                    Err(e) => failures.push(format!("{}:{}: {e}", rel.display(), c.line)),
                },
                Citation::Planned(what) => planned.push(format!(
                    "{}:{}: NOT YET IMPLEMENTED: {what}",
                    rel.display(),
                    c.line
                )),
            }
        }
    }
    for p in &planned {
        println!("{p}");
    }
    if !planned.is_empty() {
        eprintln!(
            "{} citation(s) name planned code that does not exist yet (see verification/README.md)",
            planned.len()
        );
    }
    assert!(
        failures.is_empty(),
        "spec citations that do not match the code:\n{}",
        failures.join("\n")
    );
}
