//! Every rejected construct is a spanned error that names it and says what
//! to write instead; and no input makes the front end panic.

use ringkernel_transpiler::front::rust::{lower_file, Options};

/// Lowers `body` inside a kernel and returns the rendered diagnostics.
fn error_of(source: &str) -> String {
    match lower_file(
        source,
        &Options {
            source_file: Some("k.rs".into()),
            ..Options::default()
        },
    ) {
        Ok(_) => panic!("expected an error for:\n{source}"),
        Err(d) => d.render("k.rs", source),
    }
}

fn kernel(body: &str) -> String {
    format!("#[gpu_kernel]\nfn k(ctx: &ThreadContext, x: &mut [f32], n: u32) {{\n{body}\n}}\n")
}

#[test]
fn rejected_constructs_name_themselves_and_point_at_the_tokens() {
    let cases: &[(&str, &str, &str)] = &[
        ("    let f = |a: f32| a;", "closures cannot be used", "3:13"),
        ("    let t = (1, 2);", "tuples cannot be used", "3:13"),
        (
            "    let s = \"hi\";",
            "string, byte and char literals",
            "3:13",
        ),
        (
            "    println!(\"{}\", n);",
            "printing and formatting macros",
            "3:5",
        ),
        ("    let v = vec![1];", "`vec!`", "3:13"),
        (
            "    for v in x.iter() {}",
            "this iterator cannot be used",
            "3:14",
        ),
        ("    let y = n?;", "the `?` operator", "3:13"),
        ("    unsafe { }", "`unsafe` blocks", "3:5"),
        (
            "    let a: u8 = 256;",
            "literal out of range for `u8`: 256",
            "3:17",
        ),
        (
            "    let a = 1 + 1.0;",
            "mismatched types: expected `{integer}`, found `{float}`",
            "3:17",
        ),
        (
            "    let a = n + 1u8;",
            "mismatched types: expected `u32`, found `u8`",
            "3:17",
        ),
        ("    let a = -n;", "cannot apply `-` to type `u32`", "3:13"),
        ("    let a = 2.pow(3);", "type annotations needed", "3:13"),
        (
            "    n = 3;",
            "cannot assign to `n`: it is not declared `mut`",
            "3:5",
        ),
        (
            "    let a = x[n];",
            "mismatched types: expected `usize`, found `u32`",
            "3:15",
        ),
        (
            "    let a = n.checked_add(1);",
            "no method `checked_add` on type `u32`",
            "3:15",
        ),
        (
            "    let a = undefined_thing;",
            "cannot find value `undefined_thing`",
            "3:13",
        ),
        (
            "    let a = helper(1);",
            "cannot find device function",
            "3:13",
        ),
        ("    break;", "`break` outside of a loop", "3:5"),
        (
            "    let a = n as bool;",
            "non-primitive cast: `u32` as `bool`",
            "3:13",
        ),
        ("    if let 1 = n {}", "`if let` / `while let`", "3:8"),
        (
            "    let a = ctx.warp_shuffle(1.0f32);",
            "`warp_shuffle` takes 2 argument(s) but 1 were supplied",
            "3:13",
        ),
        ("    let a = x[1..2];", "range indexing", "3:15"),
        // A range's type is inferred from the body, and every use must agree.
        (
            "    for i in 0..4 { let a = x[i]; let c: i64 = 5; if i < c {} }",
            "mismatched types: expected `usize`, found `i64`",
            "3:58",
        ),
        (
            "    for i in 0..4u8 { let a = x[i]; }",
            "mismatched types: expected `usize`, found `u8`",
            "3:33",
        ),
        (
            "    for i in 0..300 { let b: u8 = i; }",
            "literal out of range for `u8`: 300",
            "3:17",
        ),
        (
            "    for i in -1..4 { let a = x[i]; }",
            "cannot apply `-` to type `usize`",
            "3:15",
        ),
        (
            "    for i in 0..4 { let a = i as f32; let b = i + 1.0; }",
            "mismatched types: expected `{integer}`, found `{float}`",
            "3:51",
        ),
        // Array literals take the expected element type, and must fit it.
        (
            "    let a: [u8; 2] = [1, 256];",
            "literal out of range for `u8`: 256",
            "3:26",
        ),
        (
            "    let a: [f32; 2] = [1, 2];",
            "mismatched types: expected `f32`, found `{integer}`",
            "3:24",
        ),
        (
            "    let a: [f32; 2] = [1.0f64; 2];",
            "mismatched types: expected `f32`, found `f64`",
            "3:24",
        ),
        (
            "    for i in (0..n).step_by(2).rev() {}",
            "`.step_by(s).rev()`",
            "3:14",
        ),
    ];
    for (body, message, at) in cases {
        let rendered = error_of(&kernel(body));
        assert!(
            rendered.contains(message),
            "{body}\nexpected `{message}` in:\n{rendered}"
        );
        assert!(
            rendered.contains(&format!("k.rs:{at}")),
            "{body}\nexpected location {at} in:\n{rendered}"
        );
    }
}

#[test]
fn signature_errors() {
    let cases: &[(&str, &str)] = &[
        ("#[gpu_kernel]\nasync fn k(x: &mut [f32]) {}", "`async fn`"),
        (
            "#[gpu_kernel]\nfn k<T>(x: &mut [T]) {}",
            "generic functions",
        ),
        (
            "#[gpu_kernel]\nfn k(x: &mut [f32]) -> f32 { 1.0 }",
            "returns nothing",
        ),
        (
            "#[gpu_kernel(bogus = 1)]\nfn k(x: &mut [f32]) {}",
            "`#[gpu_kernel]`: unknown argument `bogus`",
        ),
        (
            "#[gpu_kernel(block_size = 2048)]\nfn k(x: &mut [f32]) {}",
            "1 to 1024 threads",
        ),
        ("#[gpu_kernel]\nfn k(x: Box<f32>) {}", "this type path"),
        ("#[gpu_kernel]\nfn k(x: &dyn Fn()) {}", "trait objects"),
        (
            "#[device_fn]\nfn f(n: u32) -> u32 { f(n) }",
            "recursion is not supported",
        ),
        (
            "#[derive(GpuType)]\nstruct S { a: u32 }",
            "add `#[repr(C)]`",
        ),
        (
            "#[derive(GpuType)]\n#[repr(C)]\nstruct S { a: *const u32 }",
            "raw pointers",
        ),
    ];
    for (source, message) in cases {
        let rendered = error_of(source);
        assert!(
            rendered.contains(message),
            "{source}\nexpected `{message}` in:\n{rendered}"
        );
    }
}

#[test]
fn all_errors_of_a_kernel_are_reported() {
    let rendered = error_of(&kernel("    let a = |b: u32| b;\n    let c = (1, 2);"));
    assert_eq!(rendered.matches("error:").count(), 2, "{rendered}");
}

/// A failed `let` is reported once: uses of its name (even a shadowed
/// one) do not add "cannot find value" or mismatch errors.
#[test]
fn failed_lets_do_not_cascade() {
    for body in [
        "    let f = x[n];\n    let g = f + 1.0;\n    x[0] = f;\n    let mut h = f;\n    h = 2.0;",
        "    let f = 1u8;\n    let f: f32 = 256u16;\n    x[0] = f * 2.0;",
        "    for k in 0..4 {\n        let f: u8 = x[k];\n        x[k] = f;\n    }",
    ] {
        let rendered = error_of(&kernel(body));
        assert_eq!(rendered.matches("error:").count(), 1, "{rendered}");
        assert!(rendered.contains("mismatched types"), "{rendered}");
    }
}

/// Deterministic mutation fuzzing: delete, duplicate or swap tokens of the
/// valid inputs and lower the result. Any outcome is fine except a panic.
#[test]
fn mutated_inputs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in");
    let mut sources: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    sources.sort();
    let pieces = [
        "+",
        "-",
        "*",
        "/",
        "%",
        "<<",
        ">>",
        "&&",
        "||",
        "!",
        "as u8",
        "as f32",
        "0",
        "1",
        "-1",
        "255u8",
        "1e40",
        "i32::MIN",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        ";",
        "return",
        "break",
        "continue",
        "loop",
        "if",
        "else",
        "match",
        "=>",
        "_",
        "let",
        "mut",
        "x",
        "n",
        "ctx.thread_id()",
        ".len()",
        "..",
        "..=",
        ".rev()",
        ".step_by(0)",
        "u64::MAX",
        "0.0",
        "f32::NAN",
    ];
    let cases: u64 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let tokenized: Vec<Vec<&str>> = sources
        .iter()
        .map(|s| {
            s.split_inclusive(|c: char| !c.is_alphanumeric() && c != '_')
                .collect()
        })
        .collect();
    let (mut parsed, mut lowered) = (0u64, 0u64);
    for case in 0..cases {
        let tokens = &tokenized[(case % tokenized.len() as u64) as usize];
        let mut out: Vec<&str> = tokens.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % out.len() as u64) as usize;
            match next() % 3 {
                0 => {
                    out.remove(at);
                }
                1 => out.insert(at, pieces[(next() % pieces.len() as u64) as usize]),
                _ => {
                    let other = (next() % out.len() as u64) as usize;
                    out.swap(at, other);
                }
            }
        }
        let mutated: String = out.concat();
        if syn::parse_file(&mutated).is_err() {
            continue;
        }
        parsed += 1;
        let result = std::panic::catch_unwind(|| lower_file(&mutated, &Options::default()));
        match result {
            Ok(Ok(mut module)) => {
                lowered += 1;
                ringkernel_transpiler::passes::run(&mut module);
            }
            Ok(Err(_)) => {}
            Err(_) => panic!("the front end panicked on:\n{mutated}"),
        }
    }
    eprintln!("{cases} mutations: {parsed} parsed, {lowered} lowered");
    assert!(
        parsed > cases / 10,
        "the mutator should mostly produce parseable Rust"
    );
}

/// `ctx.send`: a constant port below 64, one message type per port, a
/// struct by reference.
#[test]
fn send_errors_point_at_the_port_or_the_message() {
    let handler = |body: &str| {
        format!(
            "#[derive(Clone, Copy, RingMessage)]\n#[repr(C)]\npub struct Job {{ pub value: u32 }}\n\
             #[derive(Clone, Copy, RingMessage)]\n#[repr(C)]\npub struct Done {{ pub value: u64 }}\n\
             #[ring_kernel]\nfn h(ctx: &RingContext, job: &Job) {{\n{body}\n}}\n"
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        (
            "    ctx.send(0, job);\n    ctx.send(0, &Done { value: 1 });",
            "port 0 already carries `Job`; each port carries one message type",
            "10:17",
        ),
        (
            "    let p = job.value;\n    ctx.send(p, job);",
            "the port must be a constant",
            "10:14",
        ),
        (
            "    ctx.send(70, job);",
            "port 70 is out of range: a handler has ports 0 to 63",
            "9:14",
        ),
        (
            "    ctx.send(0, &job.value);",
            "messages are `#[derive(RingMessage)]` structs, found `u32`",
            "9:18",
        ),
        (
            "    let v = job.value;\n    ctx.send(0, v);",
            "the message is passed by reference",
            "10:17",
        ),
        (
            "    let mut j = *job;\n    ctx.send(0, &mut j);",
            "passed by shared reference",
            "10:17",
        ),
    ];
    for (body, message, at) in cases {
        let error = error_of(&handler(body));
        assert!(error.contains(message), "{body}:\n{error}");
        assert!(
            error.contains(&format!("k.rs:{at}")),
            "{body}: expected at {at}:\n{error}"
        );
    }
}

/// `ctx.try_send` follows `send`'s rules with its own name in the errors,
/// and a port carries one message type whichever of the two sends on it.
#[test]
fn try_send_errors_name_try_send_and_share_the_port_types_with_send() {
    let handler = |body: &str| {
        format!(
            "#[derive(Clone, Copy, RingMessage)]\n#[repr(C)]\npub struct Job {{ pub value: u32 }}\n\
             #[derive(Clone, Copy, RingMessage)]\n#[repr(C)]\npub struct Done {{ pub value: u64 }}\n\
             #[ring_kernel]\nfn h(ctx: &RingContext, job: &Job) {{\n{body}\n}}\n"
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        (
            "    ctx.send(0, job);\n    let ok = ctx.try_send(0, &Done { value: 1 });",
            "`ctx.try_send`: port 0 already carries `Job`",
            "10:30",
        ),
        (
            "    let p = job.value;\n    let ok = ctx.try_send(p, job);",
            "`ctx.try_send`: the port must be a constant",
            "10:27",
        ),
        (
            "    let ok = ctx.try_send(64, job);",
            "`ctx.try_send`: port 64 is out of range",
            "9:27",
        ),
        (
            "    let v = job.value;\n    let ok = ctx.try_send(0, v);",
            "write `ctx.try_send(PORT, &message)`",
            "10:30",
        ),
        (
            "    let ok: u32 = ctx.try_send(0, job);",
            "mismatched types",
            "9:",
        ),
    ];
    for (body, message, at) in cases {
        let error = error_of(&handler(body));
        assert!(error.contains(message), "{body}:\n{error}");
        assert!(
            error.contains(&format!("k.rs:{at}")),
            "{body}: expected at {at}:\n{error}"
        );
    }
}

/// `ctx.try_send` is block-wide: a call that only some threads of the block
/// reach (under a condition on the thread, after a `return`, `break` or
/// `continue` only some threads take, in a loop some threads run more often,
/// or through a local computed from any of those) is rejected at the call,
/// naming the reason and its line. Calls every thread reaches are accepted,
/// whatever they branch on afterwards, and so are conditions on values that
/// are the same in every thread (the message, a block reduction,
/// `try_send`'s own answer).
#[test]
fn try_send_only_some_threads_reach_is_rejected_at_the_call() {
    let handler = |body: &str| {
        format!(
            "#[derive(Clone, Copy, RingMessage)]\n#[repr(C)]\npub struct Job {{ pub value: u32 }}\n\
             #[ring_kernel(block_size = 64)]\nfn h(ctx: &RingContext, job: &Job) {{\n{body}\n}}\n"
        )
    };
    let rejected: &[(&str, &str, &str)] = &[
        (
            "    if ctx.is_leader() {\n        let ok = ctx.try_send(0, job);\n    }",
            "under a condition that differs between threads (line 6, column 8)",
            "7:18",
        ),
        (
            "    if ctx.thread_id() >= 32 {\n        return;\n    }\n    let ok = ctx.try_send(0, job);",
            "after a `return` that only some threads take (line 7",
            "9:14",
        ),
        (
            "    for _ in 0..ctx.lane_id() {\n        let ok = ctx.try_send(0, job);\n    }",
            "a `break` that only some threads take",
            "7:18",
        ),
        (
            "    let t = ctx.warp_id() * 2;\n    let big = t > 0;\n    let mut go = false;\n    if big {\n        go = true;\n    }\n    if go {\n        let ok = ctx.try_send(0, job);\n    }",
            "under a condition that differs between threads (line 12",
            "13:18",
        ),
        (
            "    let mut i = 0;\n    loop {\n        if i == ctx.thread_id() {\n            break;\n        }\n        i += 1;\n        let ok = ctx.try_send(0, job);\n    }",
            "a `break` that only some threads take",
            "12:18",
        ),
        (
            "    for i in 0..4u32 {\n        if ctx.thread_id() == i {\n            continue;\n        }\n        let ok = ctx.try_send(0, job);\n    }",
            "after a `continue` that only some threads take",
            "10:18",
        ),
        (
            "    let tile = ctx.shared_array::<u32, 1>();\n    let old = ctx.atomic_add(&mut tile[0], 1);\n    if old == 0 {\n        let ok = ctx.try_send(0, job);\n    }",
            "under a condition that differs between threads",
            "9:18",
        ),
    ];
    for (body, message, at) in rejected {
        let error = error_of(&handler(body));
        assert!(
            error.contains("`ctx.try_send`: only some threads of the block reach this call"),
            "{body}:\n{error}"
        );
        assert!(error.contains(message), "{body}:\n{error}");
        assert!(
            error.contains(&format!("k.rs:{at}")),
            "{body}: expected at {at}:\n{error}"
        );
    }
    let accepted = [
        "    let ok = ctx.try_send(0, job);\n    if ctx.is_leader() && !ok {\n        let again = 1;\n    }",
        "    if job.value > 3 {\n        let ok = ctx.try_send(0, job);\n    }",
        "    let total = ctx.block_reduce_sum(ctx.thread_id());\n    if total > 10 {\n        let ok = ctx.try_send(0, job);\n    }",
        "    let ok = ctx.try_send(0, job);\n    if ok {\n        let again = ctx.try_send(0, job);\n    }",
        "    for i in 0..4u32 {\n        let ok = ctx.try_send(0, job);\n        if ctx.thread_id() == i {\n            continue;\n        }\n    }",
        "    let mut sent = 0u32;\n    while sent < job.value {\n        if ctx.try_send(0, job) {\n            sent += 1;\n        }\n    }",
        "    if ctx.is_leader() {\n        ctx.send(0, job);\n    }\n    let ok = ctx.try_send(0, job);",
    ];
    for body in accepted {
        let source = handler(body);
        if let Err(d) = lower_file(
            &source,
            &Options {
                source_file: Some("k.rs".into()),
                ..Options::default()
            },
        ) {
            panic!("{body}:\n{}", d.render("k.rs", &source));
        }
    }
}

/// `#[ring_kernel(warps = 1)]`: the actor is one warp of a shared block, so
/// the intrinsics that expose the block or the grid and shared arrays are
/// rejected at the method; the same handler without `warps = 1` lowers.
/// (`ctx.send`/`ctx.try_send` are the warp's: block-placed systems.)
#[test]
fn warp_actors_reject_what_exposes_the_block() {
    let handler = |attr: &str, body: &str| {
        format!(
            "#[derive(Clone, Copy, RingMessage)]\n#[repr(C)]\npub struct Job {{ pub value: u32 }}\n\
             #[ring_kernel({attr})]\nfn h(ctx: &RingContext, job: &Job) -> Job {{\n{body}\n    *job\n}}\n"
        )
    };
    let cases: &[(&str, &str, &str)] = &[
        (
            "    let b = ctx.block_id();",
            "`ctx.block_id()` is not available in a `#[ring_kernel(warps = 1)]` actor: the block (and the grid) is shared with other warp actors",
            "6:17",
        ),
        ("    let g = ctx.global_id();", "`ctx.global_id()` is not available", "6:17"),
        ("    let g = ctx.grid_dim_x();", "use `ctx.actor_id()` to tell actors apart", "6:17"),
        ("    let b = ctx.block_x();", "`ctx.block_x()` is not available", "6:17"),
        (
            "    let tile = ctx.shared_array::<u32, 32>();",
            "`ctx.shared_array()` is not available in a `#[ring_kernel(warps = 1)]` actor: a `__shared__` array belongs to the block",
            "6:16",
        ),
    ];
    for (body, message, at) in cases {
        let error = error_of(&handler("warps = 1", body));
        assert!(error.contains(message), "{body}:\n{error}");
        assert!(
            error.contains(&format!("k.rs:{at}")),
            "{body}: expected at {at}:\n{error}"
        );
        // A block-sized actor (also `warps = 2`) may use them.
        for attr in ["", "warps = 2"] {
            let source = handler(attr, body);
            if let Err(d) = lower_file(&source, &Options::default()) {
                panic!("{body} with `{attr}`:\n{}", d.render("k.rs", &source));
            }
        }
    }
}
