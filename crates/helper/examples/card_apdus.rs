//! `cargo run --release -p mahpki-helper --example card_apdus [-- --opensc SIGN --opensc-read READ]`:
//! the APDUs of one card authentication, step by step, on every card profile: the helper's (what
//! the operation runner does: find and read the card, then after the PIN page verify and sign,
//! through the in-process virtual reader, so every APDU is the helper's own), and beside the JPKI
//! rows OpenSC's, from the transcripts scripts/opensc-apdus.sh records at the card (`SIGN`: one
//! `pkcs11-tool --login --sign` run; `READ`: one `pkcs15-tool --read-certificate 01` run).
//! One classifier sorts both. Prints Markdown for BENCHMARKS.md; a measurement, asserted only to
//! have worked (both signed).

use std::sync::{Arc, Mutex};

use mahpki_cardsim::{Card, pki, profile as sim};
use mahpki_helper::{
    card::backend::{
        Search, find_card,
        virtual_card::{VirtualCard, VirtualReaders},
    },
    card::driver::jpki,
    pin::Pin,
    signing::{authentication_digest, sha256_digest_info},
};
use mahpki_protocol::{apdu::Command, card_profile::EfRef, helper::CardType};

/// One APDU as the card got it and the status word it answered.
#[derive(Debug, Clone)]
struct Exchange {
    command: Vec<u8>,
    sw: u16,
}

/// The steps of one authentication, in the order the table shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Commands sent before the card's application answered: probing other applications
    /// (the helper: the other kind's AIDs; OpenSC: its other drivers' matching).
    Recognise,
    SelectApp,
    ReadCert,
    /// Reading any other file (the JPKI CA certificate; OpenSC: every certificate file).
    ReadOther,
    PinTries,
    Verify,
    Sign,
    Other,
}

const STEPS: [(Step, &str); 8] = [
    (Step::Recognise, "recognise the card (probe other applications)"),
    (Step::SelectApp, "select the application"),
    (Step::ReadCert, "read the authentication certificate"),
    (Step::ReadOther, "read other files"),
    (Step::PinTries, "PIN tries left"),
    (Step::Verify, "verify the PIN"),
    (Step::Sign, "sign"),
    (Step::Other, "other"),
];

/// What the classifier needs to know of a card: its application and its certificate's EF.
struct Layout {
    aid: &'static [u8],
    cert: EfRef,
}

/// Sorts a transcript into steps. A SELECT of an EF counts for what is done with the EF (the
/// command after it); GET RESPONSE for the command it continues.
fn classify(layout: &Layout, transcript: &[Exchange]) -> Vec<Step> {
    let mut steps = vec![Step::Other; transcript.len()];
    let mut app_seen = false;
    let mut current_is_cert = false;
    let mut pending_selects: Vec<usize> = vec![];
    let mut last = Step::Other;
    for (i, x) in transcript.iter().enumerate() {
        let Ok(parsed) = Command::parse(&x.command) else {
            steps[i] = Step::Other;
            continue;
        };
        let c = parsed.command;
        let step = match (c.ins, c.p1) {
            (0xa4, 0x04) if c.data == layout.aid && x.sw == 0x9000 => {
                app_seen = true;
                current_is_cert = false;
                Step::SelectApp
            }
            (0xa4, 0x04) => Step::Recognise,
            _ if !app_seen => Step::Recognise,
            (0xa4, _) => {
                if x.sw == 0x9000 {
                    current_is_cert = c.data == layout.cert.fid_bytes();
                }
                pending_selects.push(i);
                continue;
            }
            (0xb0 | 0xb1, p1) => {
                if p1 & 0x80 != 0 {
                    current_is_cert = Some(p1 & 0x1f) == layout.cert.sfi;
                }
                if current_is_cert { Step::ReadCert } else { Step::ReadOther }
            }
            (0x20, _) if c.data.is_empty() => Step::PinTries,
            (0x20, _) => Step::Verify,
            (0x22 | 0x2a, _) => Step::Sign,
            (0xc0, _) => last,
            _ => Step::Other,
        };
        for j in pending_selects.drain(..) {
            steps[j] = step;
        }
        steps[i] = step;
        last = step;
    }
    steps
}

fn count(steps: &[Step], step: Step) -> usize {
    steps.iter().filter(|s| **s == step).count()
}

/// Whether the transcript verified a PIN and signed, both answered 9000.
fn signed(transcript: &[Exchange], steps: &[Step]) -> bool {
    let ok = |want: Step| transcript.iter().zip(steps).any(|(x, s)| *s == want && x.sw == 0x9000);
    ok(Step::Verify) && ok(Step::Sign)
}

/// A cardsim card in the helper's virtual reader, recording what it is sent.
struct Recording<C> {
    card: C,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl<C: Card> VirtualCard for Recording<C> {
    fn power_on(&mut self) {
        self.card.power_on();
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let resp = self.card.transmit(apdu);
        let sw = u16::from_be_bytes([resp[resp.len() - 2], resp[resp.len() - 1]]);
        self.log.lock().expect("log").push(Exchange { command: apdu.to_vec(), sw });
        resp
    }
}

/// One authentication as the operation runner does it: find the card of kind `wanted` and read
/// it, then (after the PIN page) verify and sign. Returns what the card was sent.
fn ours<C: Card + 'static>(
    card: C,
    wanted: CardType,
    pin: &Pin,
) -> Result<Vec<Exchange>, Box<dyn std::error::Error>> {
    let log = Arc::new(Mutex::new(vec![]));
    let readers = VirtualReaders::new(&["Reader"]);
    readers.insert("Reader", Arc::new(Mutex::new(Recording { card, log: log.clone() })));
    let Search::Found(mut session, detected, info) = find_card(&readers, wanted, &|| {})? else {
        return Err(format!("no {wanted:?} card found").into());
    };
    let info = info?;
    let di = sha256_digest_info(&authentication_digest("https://hpki.example.jp", &[7; 32]));
    session.authenticate(detected, &info, pin, &di)?;
    let transcript = log.lock().expect("log").clone();
    Ok(transcript)
}

/// Reads a transcript scripts/opensc-apdus.sh wrote: `apdu <command hex> <SW hex>` per line,
/// hidden PIN bytes as `xx`.
fn read_transcript(path: &str) -> Result<Vec<Exchange>, Box<dyn std::error::Error>> {
    let hex = |s: &str| -> Result<Vec<u8>, std::num::ParseIntError> {
        (0..s.len() / 2)
            .map(|i| match &s[2 * i..2 * i + 2] {
                "xx" => Ok(0),
                h => u8::from_str_radix(h, 16),
            })
            .collect()
    };
    let mut out = vec![];
    for line in std::fs::read_to_string(path)?.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["apdu", command, sw] = words.as_slice() else {
            return Err(format!("{path}: not a transcript line: {line:?}").into());
        };
        out.push(Exchange { command: hex(command)?, sw: u16::from_str_radix(sw, 16)? });
    }
    Ok(out)
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pki = pki::generate(1)?;
    let h = &pki.holders[0];
    let jpki_layout = Layout { aid: jpki::AUTH_AP, cert: EfRef { fid: 0x000a, sfi: None } };
    let jpki_pin = Pin::parse(CardType::Jpki, h.spec.jpki_auth_pin.clone())?;
    let hpki_pin = Pin::parse(CardType::Hpki, h.spec.hpki_pin.clone())?;

    let opensc = match arg("--opensc") {
        Some(path) => {
            let t = read_transcript(&path)?;
            let steps = classify(&jpki_layout, &t);
            if !signed(&t, &steps) {
                return Err(format!("{path}: OpenSC did not verify and sign").into());
            }
            Some(steps)
        }
        None => None,
    };

    let mut rows: Vec<(String, Vec<Step>, Option<Vec<Step>>)> = vec![];
    let t = ours(h.jpki_card(), CardType::Jpki, &jpki_pin)?;
    rows.push(("JPKI 利用者証明用 (My Number card)".into(), classify(&jpki_layout, &t), opensc));
    for p in sim::ALL {
        let t = ours(h.hpki_card_with(p), CardType::Hpki, &hpki_pin)?;
        let layout = Layout { aid: p.layout.auth_aid, cert: p.layout.cert_ef };
        let name = match p.name {
            "jma" => "HPKI JMA",
            "guideline" => "HPKI JAHIS annex B",
            "guideline-short" => "HPKI JAHIS annex B, no extended APDUs",
            other => other,
        };
        rows.push((name.into(), classify(&layout, &t), None));
    }

    println!("| profile | step | ours | OpenSC |");
    println!("|---|---|---:|---:|");
    for (name, ours, opensc) in &rows {
        let cell = |s: Option<Step>| -> String {
            match (opensc, s) {
                (None, _) => "–".into(),
                (Some(o), Some(s)) => count(o, s).to_string(),
                (Some(o), None) => o.len().to_string(),
            }
        };
        for (step, label) in STEPS {
            if count(ours, step) == 0 && opensc.as_ref().is_none_or(|o| count(o, step) == 0) {
                continue;
            }
            println!("| {name} | {label} | {} | {} |", count(ours, step), cell(Some(step)));
        }
        println!("| {name} | **total** | **{}** | **{}** |", ours.len(), cell(None));
    }

    if let Some(path) = arg("--opensc-read") {
        let t = read_transcript(&path)?;
        let steps = classify(&jpki_layout, &t);
        let parts: Vec<String> = STEPS
            .iter()
            .filter(|(s, _)| count(&steps, *s) > 0)
            .map(|(s, label)| format!("{label} {}", count(&steps, *s)))
            .collect();
        println!();
        println!(
            "OpenSC reading the certificate alone (`pkcs15-tool --read-certificate 01`): {} APDUs ({}).",
            steps.len(),
            parts.join(", ")
        );
    }
    Ok(())
}
