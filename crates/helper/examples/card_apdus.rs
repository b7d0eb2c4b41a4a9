//! `cargo run --release -p mahpki-helper --example card_apdus`: the APDUs the helper's own
//! drivers exchange with each virtual card (crates/cardsim) for one authentication, step by
//! step as the helper runs them: identify the card, read its certificate (and PIN tries),
//! verify the PIN and sign. In-process, so every APDU is the driver's (through pcscd the same
//! APDUs travel; see cardsim's card_bench for the time). Prints Markdown table rows for
//! BENCHMARKS.md; a measurement, asserted only to have worked.

use mahpki_cardsim::{Card, pki, profile as sim};
use mahpki_helper::{
    card::driver::{self, Detected, hpki, jpki},
    card::transport::{Transport, TransportError},
    pin::Pin,
    signing::{authentication_digest, sha256_digest_info},
};
use mahpki_protocol::{card_profile::HpkiProfile, helper::CardType};

/// A powered cardsim card that counts the APDUs sent to it.
struct Counting<C> {
    card: C,
    n: usize,
}

impl<C: Card> Transport for Counting<C> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.n += 1;
        Ok(self.card.transmit(apdu))
    }
}

impl<C: Card> Counting<C> {
    fn new(mut card: C) -> Self {
        card.power_on();
        Self { card, n: 0 }
    }

    /// APDUs since the last call.
    fn take(&mut self) -> usize {
        std::mem::take(&mut self.n)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pki = pki::generate(1)?;
    let h = &pki.holders[0];
    let di = sha256_digest_info(&authentication_digest("https://hpki.example.jp", &[7; 32]));

    let mut card = Counting::new(h.jpki_card());
    assert_eq!(driver::identify(&mut card)?, Detected::Jpki);
    let identify = card.take();
    jpki::read_info(&mut card)?;
    let read = card.take();
    let pin = Pin::parse(CardType::Jpki, h.spec.jpki_auth_pin.clone())?;
    jpki::authenticate(&mut card, &pin, &di)?;
    let sign = card.take();
    row("jpki (My Number card)", identify, read, sign);

    let pin = Pin::parse(CardType::Hpki, h.spec.hpki_pin.clone())?;
    for p in sim::ALL {
        let mut card = Counting::new(h.hpki_card_with(p));
        let Detected::Hpki(ours) = driver::identify(&mut card)? else {
            return Err(format!("{} not identified as HPKI", p.name).into());
        };
        let ours: &HpkiProfile = ours;
        let identify = card.take();
        let info = hpki::read_info(&mut card, ours)?;
        let read = card.take();
        hpki::authenticate(&mut card, ours, &info.certificate, &pin, &di)?;
        let sign = card.take();
        row(&format!("hpki {}", p.name), identify, read, sign);
    }
    Ok(())
}

fn row(card: &str, identify: usize, read: usize, sign: usize) {
    println!(
        "| {card} | {identify} | {read} | {sign} | {} | {} |",
        read + sign,
        identify + read + sign
    );
}
