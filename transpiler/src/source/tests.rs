use ringkernel_device::layout::{FieldLayout, FieldType, ScalarKind, TypeLayout};

use super::*;

/// Every token's (line, column) and text, in order.
fn token_positions(tokens: TokenStream) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for tree in tokens {
        match tree {
            TokenTree::Group(g) => {
                let open = g.span_open().start();
                out.push((open.line, open.column, "open".into()));
                out.extend(token_positions(g.stream()));
                let close = g.span_close().start();
                out.push((close.line, close.column, "close".into()));
            }
            other => {
                let at = other.span().start();
                out.push((at.line, at.column, other.to_string()));
            }
        }
    }
    out
}

const FILE_TEXT: &str = "// a file\n\nmod m {\n    /// Doc.\n    pub fn f(x: f32) -> f32 { // trailing\n        let y = x * 2.0; /* block */ y\n            + 1.0\n    }\n}\n";

/// The item's tokens, as the macro would get them.
fn item_tokens(source: &str) -> TokenStream {
    let file = syn::parse_file(source).unwrap();
    let syn::Item::Mod(m) = &file.items[0] else {
        panic!()
    };
    let mut f = m.content.as_ref().unwrap().1[0].clone();
    if let syn::Item::Fn(f) = &mut f {
        f.attrs.retain(|a| !a.path().is_ident("doc"));
    }
    quote::ToTokens::into_token_stream(f)
}

#[test]
fn positioned_text_keeps_every_token_where_it_was() {
    let tokens = item_tokens(FILE_TEXT);
    let (text, line, column) = positioned_text(&tokens);
    assert_eq!((line, column), (5, 4));
    assert!(text.starts_with("pub fn f(x: f32) -> f32 {"), "{text}");
    let source = SourceText {
        attr: String::new(),
        text,
        file: "m.rs".into(),
        line,
        column,
    };
    let reparsed: TokenStream = source.padded().parse().unwrap();
    assert_eq!(token_positions(reparsed), token_positions(tokens));
}

#[test]
fn tokens_without_positions_fall_back_to_their_string() {
    // Spans made by `quote!` outside a macro are call-site spans.
    let tokens = quote::quote!(
        fn f() {}
    );
    let (text, line, _) = positioned_text(&tokens);
    if line == 0 {
        assert_eq!(text, tokens.to_string());
    }
}

static PARTICLE: TypeLayout = TypeLayout {
    name: "Particle",
    path: "app::Particle",
    file: "src/app.rs",
    line: 3,
    column: 11,
    size: 8,
    align: 4,
    fields: &[
        FieldLayout {
            name: "x",
            offset: 0,
            size: 4,
            ty: FieldType::Scalar(ScalarKind::F32),
        },
        FieldLayout {
            name: "y",
            offset: 4,
            size: 4,
            ty: FieldType::Scalar(ScalarKind::F32),
        },
    ],
};

const KERNEL_FILE: &str = "\
use ringkernel::prelude::*;

#[device_fn]
pub fn norm2(p: Particle) -> f32 {
    p.x * p.x + p.y * p.y
}

#[gpu_kernel(block_size = 64)]
pub fn norms(ctx: &ThreadContext, xs: &[f32], out: &mut [f32]) {
    let i = ctx.global_id() as usize;
    out[i] = norm2(Particle { x: xs[i], y: 1.0 });
}
";

/// A `SourceText` for the function at `line` of `KERNEL_FILE`, the way the
/// macro records it (without its attribute).
fn text_of(source: &str, name: &str, attr: &str, file: &str) -> SourceText {
    let parsed = syn::parse_file(source).unwrap();
    let f = parsed
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Fn(f) if f.sig.ident == name => Some(f.clone()),
            _ => None,
        })
        .unwrap();
    let mut f = f;
    f.attrs.clear();
    let (text, line, column) = positioned_text(&quote::ToTokens::into_token_stream(f));
    SourceText {
        attr: attr.into(),
        text,
        file: file.into(),
        line,
        column,
    }
}

fn line_of(source: &str, needle: &str) -> u32 {
    source.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1
}

fn norms_kernel(callee_file: &str) -> KernelSource {
    KernelSource {
        name: "norms".into(),
        kind: SourceKind::GpuKernel,
        items: vec![
            text_of(
                KERNEL_FILE,
                "norms",
                "#[gpu_kernel(block_size = 64)]",
                "src/app.rs",
            ),
            text_of(KERNEL_FILE, "norm2", "#[device_fn]", callee_file),
        ],
        layouts: vec![&PARTICLE],
        overflow_checks: true,
    }
}

#[test]
fn kernel_sources_transpile_at_their_real_lines() {
    let kernel = norms_kernel("src/app.rs");
    let out = kernel
        .transpile()
        .unwrap_or_else(|e| panic!("{}", kernel.render_error(&e)));
    let cuda = &out.cuda.source;
    for needle in ["out[i] = norm2", "pub fn norm2"] {
        let directive = format!("#line {} \"src/app.rs\"", line_of(KERNEL_FILE, needle));
        assert!(cuda.contains(&directive), "no `{directive}` in\n{cuda}");
    }
    // Fault records carry the Rust line and column of the check.
    let column = KERNEL_FILE.lines().nth(10).unwrap().find("xs[i]").unwrap() + 1;
    assert!(
        cuda.contains(&format!("RK_FAULT_INDEX_OUT_OF_BOUNDS, 11u, {column}u)")),
        "{cuda}"
    );
    assert_eq!(out.cuda.kernels.len(), 1);
    assert_eq!(out.cuda.kernels[0].block, [64, 1, 1]);
    // The same CUDA as the file itself, with the struct as an item.
    let with_struct = format!(
        "{KERNEL_FILE}\n#[derive(GpuType)]\n#[repr(C)]\npub struct Particle {{ pub x: f32, pub y: f32 }}\n"
    );
    let from_file = pipeline::transpile_source(
        &with_struct,
        &rust::Options {
            source_file: Some("src/app.rs".into()),
            ..rust::Options::default()
        },
        &cuda::Options::default(),
    )
    .unwrap();
    assert_eq!(from_file.cuda.source, *cuda);
}

#[test]
fn callees_from_other_files_get_no_wrong_line_directives() {
    let kernel = norms_kernel("src/helpers.rs");
    let (front, back) = kernel.options();
    assert_eq!(front.source_file, None);
    assert!(!back.line_directives);
    let out = kernel.transpile().unwrap();
    assert!(!out.cuda.source.contains("#line"));
}

#[test]
fn errors_render_at_the_users_file_line_and_column() {
    let source = KERNEL_FILE.replace("norm2(Particle { x: xs[i], y: 1.0 })", "xs.iter().sum()");
    let kernel = KernelSource {
        items: vec![
            text_of(
                &source,
                "norms",
                "#[gpu_kernel(block_size = 64)]",
                "src/app.rs",
            ),
            text_of(&source, "norm2", "#[device_fn]", "src/app.rs"),
        ],
        ..norms_kernel("src/app.rs")
    };
    let error = kernel.transpile().unwrap_err();
    let report = kernel.render_error(&error);
    let line = line_of(&source, "xs.iter()");
    let column = source
        .lines()
        .nth(line as usize - 1)
        .unwrap()
        .find("iter")
        .unwrap()
        + 1;
    assert!(
        report.contains(&format!("--> src/app.rs:{line}:{column}")),
        "{report}"
    );
    assert!(report.contains("out[i] = xs.iter().sum();"), "{report}");
}

static OTHER_PARTICLE: TypeLayout = TypeLayout {
    path: "other::Particle",
    file: "src/other.rs",
    fields: &[FieldLayout {
        name: "x",
        offset: 0,
        size: 4,
        ty: FieldType::Scalar(ScalarKind::F32),
    }],
    size: 4,
    ..PARTICLE
};

static PACKED: TypeLayout = TypeLayout {
    name: "Packed",
    path: "app::Packed",
    size: 5,
    align: 1,
    fields: &[
        FieldLayout {
            name: "a",
            offset: 0,
            size: 1,
            ty: FieldType::Scalar(ScalarKind::U8),
        },
        FieldLayout {
            name: "b",
            offset: 1,
            size: 4,
            ty: FieldType::Scalar(ScalarKind::U32),
        },
    ],
    ..PARTICLE
};

static ALIGNED: TypeLayout = TypeLayout {
    name: "Aligned",
    path: "app::Aligned",
    size: 16,
    align: 16,
    fields: &[FieldLayout {
        name: "a",
        offset: 0,
        size: 4,
        ty: FieldType::Scalar(ScalarKind::U32),
    }],
    ..PARTICLE
};

fn layout_errors(layouts: Vec<&'static TypeLayout>) -> String {
    let options = rust::Options {
        layouts,
        ..rust::Options::default()
    };
    match rust::lower_items(&[], &options) {
        Ok(_) => String::new(),
        Err(d) => d.to_string(),
    }
}

#[test]
fn host_layouts_are_cross_checked() {
    assert_eq!(layout_errors(vec![&PARTICLE, &PARTICLE]), "");
    let e = layout_errors(vec![&PARTICLE, &OTHER_PARTICLE]);
    assert!(
        e.contains("two different structs are named `Particle`"),
        "{e}"
    );
    assert!(e.contains("`app::Particle` at src/app.rs:3"), "{e}");
    let e = layout_errors(vec![&PACKED]);
    assert!(
        e.contains("struct `Packed` (declared at src/app.rs:3:12): rustc places field `b` at offset 1 with size 4, but the repr(C) layout the device uses has offset 4"),
        "{e}"
    );
    let e = layout_errors(vec![&ALIGNED]);
    assert!(e.contains("size 16 and alignment 16, but the repr(C) layout the device uses has size 4 and alignment 4"), "{e}");
}
