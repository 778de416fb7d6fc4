//! IR-to-IR passes, one per file. Each file's doc says what it assumes,
//! what it guarantees and what it invalidates.
//!
//! [`run`] applies them in the order the back ends and the interpreter
//! expect: checks first (they read the program as the user wrote it), then
//! constant folding (which may fold a check's condition), then dead-code
//! elimination (which drops checks that folded to `true` and code after a
//! diverging statement).

pub mod checks;
pub mod const_fold;
pub mod dce;
mod typeof_;

use crate::ir::Module;

/// Runs every pass on every function of `module`.
pub fn run(module: &mut Module) {
    for index in 0..module.functions.len() {
        let handle = module
            .functions
            .iter()
            .nth(index)
            .map(|(h, _)| h)
            .expect("in range");
        let mut function = std::mem::take(module.functions.get_mut(handle));
        checks::insert_checks(module, &mut function);
        const_fold::fold_constants(module, &mut function);
        dce::eliminate_dead_code(&mut function);
        *module.functions.get_mut(handle) = function;
    }
}
