use clap::Parser;
use splitcast::cli::{Cli, one_line, run};
use std::process::ExitCode;

/// glibc's allocator took a tenth of a request's CPU (`perf`, BENCHMARKS.md);
/// mimalloc's thread-local free lists cost about half of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print to stdout and succeed, as clap does.
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!("{}", one_line(&error));
            return ExitCode::from(2);
        }
    };
    splitcast::telemetry::init(cli.log_format);
    match run(cli) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            error.report();
            ExitCode::from(error.exit_code())
        }
    }
}
