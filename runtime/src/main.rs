fn main() {
    std::process::exit(wasmpod::cli::main());
}
