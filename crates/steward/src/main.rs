use std::process::ExitCode;

fn main() -> ExitCode {
    steward::cli::main()
}
