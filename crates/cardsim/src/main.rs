//! `cardsim pki` writes the deterministic test PKI; `cardsim serve` puts virtual cards into a
//! vpcd reader of a running pcscd and takes `insert`/`remove` commands on a control port.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cardsim", about = "Virtual JPKI and HPKI cards and their test PKI")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the test PKI (certificates, keys, CRLs, holders.json) for a seed.
    Pki {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// As the test PKI's HPKI CAs, issue HPKI second certificates from PKCS#10 requests: each
    /// `<HPKI_ID>.csr.pem` (as `mahpki-server second-cert request` writes it) gets a
    /// `<HPKI_ID>.cert.pem` beside it, for that holder, by the holder's CA.
    SecondCert {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(required = true)]
        csr: Vec<PathBuf>,
    },
    /// Connect virtual cards to vpcd and serve the control interface.
    Serve {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// vpcd's TCP port: 35963 is reader "Virtual PCD 00 00", 35964 "Virtual PCD 00 01".
        #[arg(long, default_value_t = mahpki_cardsim::serve::DEFAULT_VPCD_PORT)]
        vpcd_port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        vpcd_host: String,
        /// Control interface port on 127.0.0.1 (0: pick a free one; printed at start).
        #[arg(long, default_value_t = 35990)]
        control_port: u16,
        /// A card to insert at start, as for the control command `insert`.
        #[arg(long)]
        insert: Option<String>,
    },
    /// Send one command to a running `serve` (e.g. `cardsim ctl insert jpki`) and print the reply.
    Ctl {
        #[arg(long, default_value_t = 35990)]
        control_port: u16,
        #[arg(required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result: Result<(), Box<dyn std::error::Error>> = match cli.cmd {
        Cmd::Pki { seed, out } => (|| {
            let pki = mahpki_cardsim::pki::generate(seed)?;
            let m = mahpki_cardsim::pki::write_pki(&pki, &out)?;
            println!(
                "wrote test PKI for seed {seed} with {} holders to {}",
                m.holders.len(),
                out.display()
            );
            Ok(())
        })(),
        Cmd::SecondCert { seed, csr } => (|| {
            let pki = mahpki_cardsim::pki::generate(seed)?;
            for path in csr {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                let hpki_id = name
                    .strip_suffix(".csr.pem")
                    .ok_or_else(|| format!("{}: name it <HPKI_ID>.csr.pem", path.display()))?;
                let text = std::fs::read(&path)?;
                let (_, pem) = x509_parser::pem::parse_x509_pem(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let der = pki.second_certificate(hpki_id, &pem.contents)?;
                let out = path.with_file_name(format!("{hpki_id}.cert.pem"));
                std::fs::write(&out, mahpki_cardsim::pki::certificate_pem(&der))?;
                println!("issued the second certificate of {hpki_id}: {}", out.display());
            }
            Ok(())
        })(),
        Cmd::Serve { seed, vpcd_port, vpcd_host, control_port, insert } => (|| {
            let pki = mahpki_cardsim::pki::generate(seed)?;
            let server = mahpki_cardsim::serve::Server::new(pki, (vpcd_host, vpcd_port));
            let control =
                mahpki_cardsim::control::ControlServer::bind(server.clone(), control_port)?;
            if let Some(card) = insert {
                server.insert(&card)?;
            }
            // Scripts wait for this line before talking to the control port.
            println!("cardsim control listening on {}", control.local_addr());
            control.run();
            Ok(())
        })(),
        Cmd::Ctl { control_port, command } => (|| {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], control_port));
            let reply = mahpki_cardsim::control::send(addr, &command.join(" "))?;
            println!("{reply}");
            if reply.starts_with("ok") { Ok(()) } else { Err(reply.into()) }
        })(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cardsim: {e}");
            ExitCode::FAILURE
        }
    }
}
