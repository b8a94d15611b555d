use std::process::ExitCode;

use clap::Parser;
use portico::cli::{Cli, Command};
use portico::config::Settings;
use portico::startup::Application;

#[actix_web::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let mut logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    // actix-http logs every unparsable request at ERROR: a client could fill
    // the disk with them. Silenced unless RUST_LOG names actix_http itself.
    if !std::env::var("RUST_LOG").is_ok_and(|v| v.contains("actix_http")) {
        logger.filter_module("actix_http::h1::dispatcher", log::LevelFilter::Off);
    }
    logger.init();
    let cli = Cli::parse();
    let mut settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if let Some(path) = cli.database {
        settings.database_url = path;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = match Application::build(settings) {
                Ok(app) => app,
                Err(e) => return fail(&e),
            };
            match app.run_until_stopped().await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("server error: {e}")),
            }
        }
        command => match portico::cli::run(command, &settings) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
