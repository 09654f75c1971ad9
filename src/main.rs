use clap::Parser;
use splitcast::cli::{Cli, Command};
use splitcast::configuration::{Settings, Sources};
use splitcast::startup::Application;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    splitcast::telemetry::init(cli.log_format);
    let settings = match Settings::load(Sources::process(cli.config.clone())) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            print!("{}", settings.redacted_toml());
            ExitCode::SUCCESS
        }
        Command::Serve => run(serve(settings)),
        Command::NotifyTest => {
            eprintln!("notify-test: no notifier delivery is built yet");
            ExitCode::from(1)
        }
    }
}

fn run(future: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("splitcast: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until_stopped().await?;
    Ok(())
}
