//! Recovery on the CPU backend: there is no device context to lose, so
//! `Runtime::recover` does nothing and the actors keep answering. (The GPU
//! side is `gpu_recovery.rs`.)

#[path = "actors/suite.rs"]
mod suite;

use ringkernel_runtime::Runtime;
use suite::{ping, Spawn};

#[test]
fn recover_on_the_cpu_backend_is_a_no_op_and_actors_keep_answering() {
    let cpu = Runtime::cpu();
    let actor = cpu.spawn_echo(1, &suite::options()).remove(0);
    assert_eq!(actor.call(&ping(1)).unwrap().seq, 1);
    assert!(!cpu.recover().unwrap());
    assert_eq!(actor.call(&ping(2)).unwrap().seq, 2);
    actor.stop().unwrap();
}
