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
