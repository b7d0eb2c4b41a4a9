//! `enrolment`: a CA's enrolment links (別紙2 without a PC).

use clap::Subcommand;
use mahpki_server::{Config, store::LinkRef};

use super::{BoxError, Needs};

#[derive(Subcommand)]
pub enum EnrolmentCommand {
    /// Issue an enrolment link for a holder (after a Mynaportal application) and print its URL:
    /// the holder opens it on the phone and enrols without a PC. Send it to the holder only.
    /// The link starts with the configured public_origin (MAHPKI_PUBLIC_ORIGIN).
    IssueLink {
        #[arg(long)]
        hpki_id: String,
        #[arg(long, default_value_t = 90)]
        valid_days: u32,
        /// Replace the phone bound now, if any (when the CA's policy allows it).
        #[arg(long)]
        replace: bool,
    },
    /// Cancel a CA's enrolment link (sent to the wrong person, or the application withdrawn):
    /// by the enrolment id `issue-link` printed, or the holder's live link.
    #[command(group = clap::ArgGroup::new("link").required(true))]
    CancelLink {
        #[arg(long, group = "link")]
        id: Option<i64>,
        #[arg(long, group = "link")]
        hpki_id: Option<String>,
    },
}

pub async fn run(config: Config, command: EnrolmentCommand) -> Result<(), BoxError> {
    let (store, _) = super::write(&config, Needs::Write).await?;
    match command {
        EnrolmentCommand::IssueLink { hpki_id, valid_days, replace } => {
            let id = mahpki_protocol::HpkiId::parse(&hpki_id)?;
            let (url, e) = mahpki_server::service::links::issue_link(
                &store, &config, &id, valid_days, replace,
            )
            .await?;
            eprintln!(
                "enrolment {} for {hpki_id}, valid {valid_days} days, on {} (public_origin)",
                e.id, config.public_origin
            );
            // stdout carries only the URL, so a script can take it.
            println!("{}", url.as_str());
        }
        EnrolmentCommand::CancelLink { id, hpki_id } => {
            let which = match (id, hpki_id.as_deref()) {
                (Some(id), _) => LinkRef::Id(id),
                (None, Some(hpki_id)) => LinkRef::Holder(hpki_id),
                (None, None) => return Err("give --id or --hpki-id".into()),
            };
            let now = mahpki_server::store::now_ms();
            let Some((id, hpki_id)) = store.enrolment_cancel_link(which, now).await? else {
                return Err("no live enrolment link matches".into());
            };
            println!("enrolment link {id} of {hpki_id} cancelled");
        }
    }
    Ok(())
}
