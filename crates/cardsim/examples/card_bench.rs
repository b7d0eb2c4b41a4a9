//! `cargo run --release -p mahpki-cardsim --example card_bench`: APDUs and wall time for the
//! helper's authentication path ("read auth cert + verify PIN + sign") on every virtual card,
//! through pcscd + vpcd (reader "Virtual PCD 00 01") and in-process. Prints a Markdown table
//! for scripts/bench.sh. Measurements only; nothing here asserts a timing.

use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mahpki_cardsim::card::Card;
use mahpki_cardsim::pcscd::{self, Pcscd};
use mahpki_cardsim::profile::{self, HpkiProfile};
use mahpki_cardsim::serve::{SharedCard, VpcdLink};

/// Counts the APDUs that actually reach the card.
struct Counting<C> {
    inner: C,
    n: Arc<AtomicUsize>,
}

impl<C: Card> Card for Counting<C> {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }
    fn power_on(&mut self) {
        self.inner.power_on()
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.n.fetch_add(1, Ordering::Relaxed);
        self.inner.transmit(apdu)
    }
}

const DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn digest_info() -> Vec<u8> {
    let mut d = DIGEST_INFO_PREFIX.to_vec();
    d.extend([0x42u8; 32]);
    d
}

type Tx<'a> = dyn FnMut(&[u8]) -> Vec<u8> + 'a;

fn sw(r: &[u8]) -> u16 {
    u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
}

fn read_current(tx: &mut Tx) -> usize {
    let mut len = 0usize;
    loop {
        let [hi, lo] = (len as u16).to_be_bytes();
        let r = tx(&[0x00, 0xB0, hi, lo, 0x00]);
        if sw(&r) != 0x9000 {
            return len;
        }
        len += r.len() - 2;
        if r.len() - 2 < 256 {
            return len;
        }
    }
}

fn jpki_flow(tx: &mut Tx, pin: &str) {
    tx(&[0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]);
    tx(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
    read_current(tx);
    tx(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18]);
    let mut v = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
    v.extend(pin.as_bytes());
    assert_eq!(sw(&tx(&v)), 0x9000);
    tx(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17]);
    let di = digest_info();
    let mut s = vec![0x80, 0x2A, 0x00, 0x80, di.len() as u8];
    s.extend(&di);
    s.push(0);
    assert_eq!(sw(&tx(&s)), 0x9000);
}

fn hpki_flow(tx: &mut Tx, p: &HpkiProfile, pin: &str) {
    let mut sel = vec![0x00, 0xA4, 0x04, 0x0C, p.layout.auth_aid.len() as u8];
    sel.extend(p.layout.auth_aid);
    tx(&sel);
    let [hi, lo] = p.layout.cert_ef.fid.to_be_bytes();
    tx(&[0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo]);
    read_current(tx);
    let mut v = vec![0x00, 0x20, 0x00, p.layout.verify_p2, pin.len() as u8];
    v.extend(pin.as_bytes());
    assert_eq!(sw(&tx(&v)), 0x9000);
    tx(p.layout.mse_set);
    let di = digest_info();
    let mut block = vec![0x00, 0x01];
    block.resize(256 - di.len() - 1, 0xFF);
    block.push(0);
    block.extend(&di);
    let r = if p.layout.extended_length {
        let mut a = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
        a.extend(&block);
        a.extend([0, 0]);
        tx(&a)
    } else {
        let mut a = vec![0x10, 0x2A, 0x9E, 0x9A, 0x80];
        a.extend(&block[..128]);
        tx(&a);
        let mut b = vec![0x00, 0x2A, 0x9E, 0x9A, 0x80];
        b.extend(&block[128..]);
        b.push(0);
        tx(&b)
    };
    assert_eq!(sw(&r), 0x9000);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (reader, port) = pcscd::READER_1;
    let _pcscd = Pcscd::ensure(reader)?;
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let pki = mahpki_cardsim::pki::generate(1)?;
    let h = &pki.holders[0];
    let rounds = 5u32;

    println!("| card | APDUs | in-process (ms) | through pcscd+vpcd (ms) |");
    println!("|---|---:|---:|---:|");
    let cards: Vec<(String, Option<&HpkiProfile>)> = std::iter::once(("jpki".to_string(), None))
        .chain(profile::ALL.iter().map(|p| (format!("hpki {}", p.name), Some(*p))))
        .collect();
    for (name, prof) in cards {
        let n = Arc::new(AtomicUsize::new(0));
        let make = || -> Box<dyn Card> {
            match prof {
                None => Box::new(h.jpki_card()),
                Some(p) => Box::new(h.hpki_card_with(p)),
            }
        };
        let run = |tx: &mut Tx| match prof {
            None => jpki_flow(tx, &h.spec.jpki_auth_pin),
            Some(p) => hpki_flow(tx, p, &h.spec.hpki_pin),
        };

        // In-process.
        let mut card = make();
        card.power_on();
        let t = Instant::now();
        for _ in 0..rounds {
            run(&mut |a| card.transmit(a));
        }
        let inproc = t.elapsed() / rounds;

        // Through pcscd.
        let shared: SharedCard = Arc::new(Mutex::new(Counting { inner: make(), n: n.clone() }));
        let link = VpcdLink::start(shared, ([127, 0, 0, 1], port).into());
        pcscd::wait_card(&ctx, reader, true, Duration::from_secs(15))?;
        let c =
            ctx.connect(&CString::new(reader)?, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)?;
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let before = n.load(Ordering::Relaxed);
        let t = Instant::now();
        for _ in 0..rounds {
            run(&mut |a| c.transmit(a, &mut buf).expect("transmit").to_vec());
        }
        let via = t.elapsed() / rounds;
        let apdus = (n.load(Ordering::Relaxed) - before) / rounds as usize;
        drop(c);
        link.stop();
        pcscd::wait_card(&ctx, reader, false, Duration::from_secs(15))?;
        println!(
            "| {name} | {apdus} | {:.1} | {:.1} |",
            inproc.as_secs_f64() * 1e3,
            via.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
