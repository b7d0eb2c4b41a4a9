//! `audit`: reading the audit log.

use clap::Subcommand;
use mahpki_server::Config;

use super::BoxError;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Print the newest events, oldest first, one JSON object per line.
    Tail {
        #[arg(long, short = 'n', default_value_t = 50)]
        lines: i64,
    },
}

pub async fn run(config: Config, command: AuditCommand) -> Result<(), BoxError> {
    match command {
        AuditCommand::Tail { lines } => {
            let store = super::read(&config).await?;
            for r in store.audit_tail(lines).await? {
                println!("{}", serde_json::to_string(&r)?);
            }
        }
    }
    Ok(())
}
