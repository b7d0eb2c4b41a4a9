//! `mahpki-server`: runs the platform, and the operator's commands against its database. This
//! file parses the command line and dispatches; the commands live in `cli/`.

mod cli;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use cli::{
    audit::AuditCommand, binding::BindingCommand, enrolment::EnrolmentCommand,
    identity::IdentityCommand, maintenance::MaintenanceCommand, oidc::OidcClientCommand,
    oidc::OidcCommand, phone::PhoneCommand, second_cert::SecondCertCommand,
};
use mahpki_server::Config;

#[derive(Parser)]
#[command(name = "mahpki-server", version, about = "HPKI second-certificate platform server")]
struct Cli {
    /// TOML configuration file; MAHPKI_* environment variables override it.
    #[arg(long, short, env = "MAHPKI_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Holders (本人ID) registered by the CAs.
    Identity {
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// My Number card bindings.
    Binding {
        #[command(subcommand)]
        command: BindingCommand,
    },
    /// Smartphone enrolments (別紙2).
    Enrolment {
        #[command(subcommand)]
        command: EnrolmentCommand,
    },
    /// Bound smartphones.
    Phone {
        #[command(subcommand)]
        command: PhoneCommand,
    },
    /// HPKI second certificates: keys in the HSM, CSRs, the CA's certificates.
    SecondCert {
        #[command(subcommand)]
        command: SecondCertCommand,
    },
    /// Housekeeping of the database.
    Maintenance {
        #[command(subcommand)]
        command: MaintenanceCommand,
    },
    /// Read the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The OpenID Provider's ID token signing keys.
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
    /// Relying services (OpenID Connect clients) registered with the OpenID Provider.
    OidcClient {
        #[command(subcommand)]
        command: OidcClientCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mahpki-server: {e}");
            return ExitCode::from(2);
        }
    };
    cli::init_logging(&config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mahpki-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => cli::serve::run(config).await,
            Command::Identity { command } => cli::identity::run(config, command).await,
            Command::Binding { command } => cli::binding::run(config, command).await,
            Command::Enrolment { command } => cli::enrolment::run(config, command).await,
            Command::Phone { command } => cli::phone::run(config, command).await,
            Command::SecondCert { command } => cli::second_cert::run(config, command).await,
            Command::Maintenance { command } => cli::maintenance::run(config, command).await,
            Command::Audit { command } => cli::audit::run(config, command).await,
            Command::Oidc { command } => cli::oidc::run(config, command).await,
            Command::OidcClient { command } => cli::oidc::run_client(config, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "mahpki-server stopped");
            eprintln!("mahpki-server: {e}");
            ExitCode::FAILURE
        }
    }
}
