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

/// The type each named local of `function` gets, as Rust spells it.
fn local_types(
    module: &ringkernel_transpiler::ir::Module,
    function: &str,
) -> Vec<(String, String)> {
    use ringkernel_transpiler::ir::{IntKind, Scalar, Type};
    let (_, f) = module
        .functions
        .iter()
        .find(|(_, f)| f.name == function)
        .unwrap();
    f.locals
        .iter()
        .filter_map(|(_, l)| {
            let ty = match &module.types[l.ty] {
                Type::Scalar(Scalar::Int(IntKind::Usize)) => "usize".to_string(),
                Type::Scalar(Scalar::Int(k)) => k.rust_name().to_string(),
                Type::Scalar(Scalar::Float(k)) => format!("{k:?}").to_lowercase(),
                other => format!("{other:?}"),
            };
            Some((l.name.clone()?, ty))
        })
        .collect()
}

/// Ranges of unsuffixed literals get their type from the loop variable's
/// uses, as rustc infers them, and `i32` only when nothing constrains it;
/// array literals take the element type the context expects.
#[test]
fn range_and_array_literal_types_are_inferred_like_rustc() {
    let source = r#"
#[derive(Clone, Copy, RingMessage)]
#[repr(C)]
pub struct Features {
    pub features: [f32; 16],
    pub weights: [f32; 4],
}

#[device_fn]
fn sum4(v: [f32; 4]) -> f32 {
    v[0] + v[1] + v[2] + v[3]
}

#[device_fn]
fn shapes(msg: Features, limit: i64) -> f32 {
    let mut acc = 0.0;
    for k in (0..16).step_by(4) {
        let f = msg.features[k];
        acc += f;
    }
    for j in 0..4 {
        if j < limit {
            acc += 1.0;
        }
    }
    for d in 0..2 {
        acc += d as f32;
    }
    let mut w = 0;
    while w < 4 {
        acc += msg.weights[w];
        w += 1;
    }
    let m = Features { features: [0.0; 16], weights: [1.0, 2.0, 3.0, 4.0] };
    acc + sum4([0.0; 4]) + m.weights[0]
}
"#;
    let module = lower_file(source, &Options::default())
        .unwrap_or_else(|d| panic!("{}", d.render("k.rs", source)));
    let types = local_types(&module, "shapes");
    let of = |name: &str| {
        types
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} in {types:?}"))
            .1
            .clone()
    };
    assert_eq!(of("k"), "usize");
    assert_eq!(of("f"), "f32");
    assert_eq!(of("j"), "i64");
    assert_eq!(of("d"), "i32");
    assert_eq!(of("w"), "usize");
    assert_eq!(of("acc"), "f32");
}
