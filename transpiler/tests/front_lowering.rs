//! The front end lowers every input in `tests/in/` without errors.
use ringkernel_transpiler::front::rust::{lower_file, Options};

#[test]
fn inputs_lower() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match lower_file(
            &source,
            &Options {
                source_file: Some(name.clone()),
                ..Options::default()
            },
        ) {
            Ok(module) => {
                if std::env::var("DUMP_IR").is_ok() {
                    eprintln!("{name}: {module:#?}");
                }
            }
            Err(d) => panic!("{name}:\n{}", d.render(&name, &source)),
        }
    }
}

/// The check pass makes Rust's panics explicit: saxpy's three slice
/// accesses each get a bounds check, and a folded overflow faults.
#[test]
fn checks_are_inserted_for_indexing_and_division() {
    use ringkernel_transpiler::ir::{CheckKind, Statement};
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/in/saxpy.rs")).unwrap();
    let mut module = lower_file(&source, &Options::default()).unwrap();
    ringkernel_transpiler::passes::run(&mut module);
    let (_, saxpy) = module.functions.iter().next().unwrap();
    fn count(block: &ringkernel_transpiler::ir::Block, kind: CheckKind) -> usize {
        block
            .statements
            .iter()
            .map(|s| match s {
                Statement::Check { kind: k, .. } if *k == kind => 1,
                Statement::If { accept, reject, .. } => count(accept, kind) + count(reject, kind),
                Statement::Loop { body, .. } | Statement::Block(body) => count(body, kind),
                _ => 0,
            })
            .sum()
    }
    // y[i] (store place), x[i], y[i] (read): the read and write of y[i] are
    // distinct expressions, so three checks.
    assert_eq!(count(&saxpy.body, CheckKind::IndexOutOfBounds), 3);

    let source =
        "#[device_fn] fn f(a: i32) -> i32 { let b: u8 = 200; let c = b + 100; a / (c as i32) }";
    let mut module = lower_file(source, &Options::default()).unwrap();
    ringkernel_transpiler::passes::run(&mut module);
    let (_, f) = module.functions.iter().next().unwrap();
    assert_eq!(count(&f.body, CheckKind::DivisionByZero), 1);
    assert_eq!(
        count(&f.body, CheckKind::Overflow),
        2,
        "u8 add overflow + i32 MIN/-1"
    );
}
