fn main() {
    std::process::exit(losscast::cli::run());
}
