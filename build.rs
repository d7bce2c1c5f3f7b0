//! Links the command as a position-dependent executable on Linux. Its
//! dependencies (Polars above all) hold some 130,000 pointers that a
//! position-independent executable has the loader relocate at every start:
//! 12 ms of CPU and 650 page faults before `main`, where a run on one user
//! takes 8 ms in all. Linked at a fixed address, they are resolved once,
//! by the linker. The executable then loads at the same address each time
//! (its libraries, stack and heap still move), which a batch tool reading
//! the user's own files can afford.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
