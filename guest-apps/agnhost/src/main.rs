//! `agnhost <subcommand> [flags]`; see the library documentation for what exists.

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let code = agnhost::cli::run(&argv, &agnhost::stop_requested);
    std::process::exit(code);
}
