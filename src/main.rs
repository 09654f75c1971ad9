use clap::Parser;
use splitcast::cli::{Cli, Command, OutboxAction, SampleSizeArgs};
use splitcast::configuration::{Settings, Sources};
use splitcast::startup::Application;
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
            eprintln!("{}", splitcast::cli::one_line(&error));
            return ExitCode::from(2);
        }
    };
    splitcast::telemetry::init(cli.log_format);
    // Planning needs no configuration: it works before one exists.
    if let Some(Command::SampleSize(args)) = &cli.command {
        return sample_size(args);
    }
    let settings = match Settings::load(Sources::process(cli.config.clone())) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    match cli.command.clone().unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            print!("{}", settings.redacted_toml());
            ExitCode::SUCCESS
        }
        Command::Serve => run(serve(settings, cli.config.clone())),
        Command::NotifyTest => run_with_status(notify_test(settings)),
        Command::Reload { url } => run_with_status(reload(settings, url)),
        Command::Outbox { action } => run_with_status(outbox(settings, action)),
        Command::SampleSize(args) => sample_size(&args),
    }
}

/// `splitcast sample-size`: the plan, its last line `N per arm`; exit 2 on
/// a question without an answer.
fn sample_size(args: &SampleSizeArgs) -> ExitCode {
    let question = splitcast::planner::Question {
        baseline: args.baseline,
        lift: args.lift,
        relative: args.relative,
        power: args.power,
        alpha: args.alpha,
    };
    match splitcast::planner::plan(question) {
        Ok(plan) => {
            println!(
                "from {:.2}% to {:.2}% ({:+.2} points), two-sided alpha {}, power {}:",
                args.baseline * 100.0,
                plan.target * 100.0,
                (plan.target - args.baseline) * 100.0,
                args.alpha,
                args.power
            );
            println!("{} per arm", plan.per_arm);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("splitcast sample-size: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(future: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    run_with_status(async { future.await.map(|()| ExitCode::SUCCESS) })
}

fn run_with_status(
    future: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("splitcast: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings, cli_config: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let host = settings.server.host.clone();
    let app = Application::build(settings, Sources::process(cli_config)).await?;
    app.stop_on_signals()?;
    // Tests and scripts read the port from this line.
    tracing::info!("listening on http://{host}:{}", app.port());
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

/// `splitcast reload`: asks the running server to reload, prints its answer.
async fn reload(settings: Settings, url: Option<String>) -> anyhow::Result<ExitCode> {
    use secrecy::ExposeSecret;
    let base = match url {
        Some(url) => url,
        None => {
            let host = match settings.server.host.as_str() {
                "0.0.0.0" => "127.0.0.1",
                "::" => "[::1]",
                other => other,
            };
            format!("http://{host}:{}", settings.server.port)
        }
    };
    let endpoint = url::Url::parse(&base)
        .and_then(|u| u.join("/admin/reload"))
        .map_err(|e| anyhow::anyhow!("--url {base:?} is not a URL: {e}"))?;
    // The server refuses an admin POST not declared as JSON (cross-site
    // requests cannot declare it without a preflight).
    let mut request = reqwest::Client::new()
        .post(endpoint.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}");
    let token = settings.admin.token.expose_secret();
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let answer = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the server at {endpoint}: {e}"))?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    if status.is_success() {
        println!("reloaded");
        for line in ["refused", "needs_restart"]
            .iter()
            .flat_map(|key| body[key].as_array().cloned().unwrap_or_default())
        {
            println!("{}", line.as_str().unwrap_or_default());
        }
        Ok(ExitCode::SUCCESS)
    } else {
        let message = body["error"]["message"].as_str().unwrap_or("no message");
        println!("reload refused ({status}): {message}");
        Ok(ExitCode::from(1))
    }
}

/// Sends one test notification through every enabled notifier and prints
/// each outcome; exit status 1 if any failed.
async fn notify_test(settings: Settings) -> anyhow::Result<ExitCode> {
    let notifiers = splitcast::notify::registry::build(&settings)?;
    if notifiers.is_empty() {
        println!("no notifier is enabled");
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(&settings).await?;
    let mut failed = false;
    for (name, outcome) in splitcast::notify::registry::send_test(&notifiers).await {
        if outcome.is_delivered() {
            // Working credentials resume a notifier paused for rejected ones.
            store.resume(Some(&name)).await?;
            println!("{name}: delivered");
        } else {
            failed = true;
            println!("{name}: FAILED ({}) {outcome:?}", outcome.label());
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn open_store(
    settings: &Settings,
) -> anyhow::Result<std::sync::Arc<splitcast::store::SqlStore>> {
    let routing = splitcast::store::no_routing();
    Ok(splitcast::store::open(&settings.storage.url, routing).await?)
}

/// `splitcast outbox list|requeue`.
async fn outbox(settings: Settings, action: OutboxAction) -> anyhow::Result<ExitCode> {
    let store = open_store(&settings).await?;
    let now = splitcast::clock::now_millis();
    match action {
        OutboxAction::List => {
            let dead = store.dead_letters().await?;
            println!("{} dead letter(s)", dead.len());
            for row in dead {
                let age_min = (now - row.created_at) / 60_000;
                println!(
                    "{}\t{}\t{} min ago\t{} attempt(s)\t{}",
                    row.id, row.notifier, age_min, row.attempts, row.last_error
                );
            }
        }
        OutboxAction::Requeue { target } => {
            let id = match target.as_str() {
                "all" => None,
                other => Some(other.parse::<i64>().map_err(|_| {
                    anyhow::anyhow!("outbox requeue takes a row id or `all`, not {other:?}")
                })?),
            };
            let count = store.requeue(id, now).await?;
            println!("{count} row(s) re-queued");
        }
    }
    Ok(ExitCode::SUCCESS)
}
