//! Entry point: a plain command component (wasi:cli/run). All behaviour lives in the library so
//! it can be unit-tested natively.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let status = busybox::run_main(args);
    std::process::exit(status);
}
