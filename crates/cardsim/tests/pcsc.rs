//! The virtual cards through the real stack: pcsc crate → pcscd → vpcd → cardsim. Tests are
//! serialised on one lock (one pcscd, one reader) and every wait is bounded.

mod common;

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use common::stack::{Stack, tx};
use common::*;
use mahpki_cardsim::profile;
use mahpki_cardsim::serve::{SharedCard, VpcdLink};

const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";

fn select_aid(aid: &[u8]) -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x0C, aid.len() as u8];
    a.extend(aid);
    a
}

fn verify(p2: u8, pin: &str) -> Vec<u8> {
    let mut v = vec![0x00, 0x20, 0x00, p2, pin.len() as u8];
    v.extend(pin.as_bytes());
    v
}

fn read_short(card: &pcsc::Card) -> Vec<u8> {
    common::read_ef_short(|apdu| tx(card, apdu).unwrap())
}

#[test]
fn jpki_card_through_pcscd() {
    let stack = Stack::start();
    let h = &pki().holders[0];
    let card: SharedCard = Arc::new(Mutex::new(h.jpki_card()));
    let link = VpcdLink::start(card.clone(), stack.vpcd_addr());
    stack.wait_card(true);
    let mut c = stack.connect();
    assert_eq!(c.status2_owned().unwrap().atr(), hex("3B E0 00 FF 81 31 FE 45 14"));
    let t = c.transaction().unwrap();
    assert_eq!(tx(&t, &hex(SELECT_JPKI)).unwrap().1, 0x9000);
    assert_eq!(tx(&t, &hex("00 A4 02 0C 02 00 0A")).unwrap().1, 0x9000);
    assert_eq!(read_short(&t), h.jpki_auth_cert);
    // Extended Le passes through pcscd and vpcd.
    let (all, sw) = tx(&t, &hex("00 B0 00 00 00 00 00")).unwrap();
    assert_eq!((all, sw), (h.jpki_auth_cert.clone(), 0x9000));

    tx(&t, &hex("00 A4 02 0C 02 00 18")).unwrap();
    assert_eq!(tx(&t, &hex("00 20 00 80")).unwrap().1, 0x63C3);
    assert_eq!(tx(&t, &verify(0x80, "0000")).unwrap().1, 0x63C2);
    assert_eq!(tx(&t, &verify(0x80, &h.spec.jpki_auth_pin)).unwrap().1, 0x9000);
    tx(&t, &hex("00 A4 02 0C 02 00 17")).unwrap();
    let msg = b"through pcscd";
    let di = digest_info_sha256(msg);
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, di.len() as u8];
    sign.extend(&di);
    sign.push(0x00);
    let (sig, sw) = tx(&t, &sign).unwrap();
    assert_eq!(sw, 0x9000);
    assert!(verify_sha256(&h.jpki_auth_cert, msg, &sig));
    t.end(pcsc::Disposition::LeaveCard).map_err(|(_, e)| e).unwrap();
    drop(c);
    link.stop();
    stack.wait_card(false);
}

#[test]
fn hpki_extended_and_chained_pso_through_pcscd() {
    let stack = Stack::start();
    let h = &pki().holders[0];
    let msg = b"hpki through pcscd";
    let block = pkcs1_block(&digest_info_sha256(msg), 256);
    for p in [&profile::JMA, &profile::GUIDELINE_SHORT] {
        let card: SharedCard = Arc::new(Mutex::new(h.hpki_card_with(p)));
        let link = VpcdLink::start(card, stack.vpcd_addr());
        stack.wait_card(true);
        let c = stack.connect();
        assert_eq!(tx(&c, &select_aid(p.layout.auth_aid)).unwrap().1, 0x9000);
        let [hi, lo] = p.layout.cert_ef.fid.to_be_bytes();
        tx(&c, &[0x00, 0xA4, 0x02, 0x0C, 0x02, hi, lo]).unwrap();
        assert_eq!(read_short(&c), h.hpki_cert, "{}", p.name);
        assert_eq!(tx(&c, &verify(p.layout.verify_p2, &h.spec.hpki_pin)).unwrap().1, 0x9000);
        assert_eq!(tx(&c, p.layout.mse_set).unwrap().1, 0x9000);
        let (sig, sw) = if p.layout.extended_length {
            let mut a = vec![0x00, 0x2A, 0x9E, 0x9A, 0x00, 0x01, 0x00];
            a.extend(&block);
            a.extend([0x00, 0x00]);
            tx(&c, &a).unwrap()
        } else {
            let mut first = vec![0x10, 0x2A, 0x9E, 0x9A, 0x80];
            first.extend(&block[..128]);
            assert_eq!(tx(&c, &first).unwrap().1, 0x9000);
            let mut last = vec![0x00, 0x2A, 0x9E, 0x9A, 0x80];
            last.extend(&block[128..]);
            last.push(0x00);
            tx(&c, &last).unwrap()
        };
        assert_eq!(sw, 0x9000, "{}", p.name);
        assert!(verify_sha256(&h.hpki_cert, msg, &sig), "{}", p.name);
        drop(c);
        link.stop();
        stack.wait_card(false);
    }
}

#[test]
fn pin_counter_survives_remove_and_insert_and_locks() {
    use mahpki_cardsim::control::{ControlServer, send};
    use mahpki_cardsim::serve::Server;

    let stack = Stack::start();
    let server = Server::new(
        mahpki_cardsim::pki::generate_for(SEED, vec![pki().holders[1].spec.clone()]).unwrap(),
        ("127.0.0.1".into(), common::stack::VPCD_PORT),
    );
    let h = &server.pki().holders[0];
    let ctl = ControlServer::bind(server.clone(), 0).unwrap().spawn();
    let insert = format!("insert jpki {}", h.spec.hpki_id);
    assert!(send(ctl, &insert).unwrap().starts_with("ok inserted jpki/"));
    stack.wait_card(true);
    {
        let c = stack.connect();
        tx(&c, &hex(SELECT_JPKI)).unwrap();
        tx(&c, &hex("00 A4 02 0C 02 00 18")).unwrap();
        assert_eq!(tx(&c, &verify(0x80, "0000")).unwrap().1, 0x63C2);
    }
    // Swap in the HPKI card and back, like a holder moving cards in one reader.
    assert!(send(ctl, "insert hpki").unwrap().starts_with("ok inserted hpki/"));
    stack.wait_card(true);
    assert_eq!(
        send(ctl, "remove").unwrap(),
        format!("ok removed hpki/{}/{}", h.spec.hpki_id, h.spec.hpki_profile)
    );
    stack.wait_card(false);
    assert_eq!(send(ctl, "status").unwrap(), "ok empty");
    assert!(send(ctl, &insert).unwrap().starts_with("ok"));
    stack.wait_card(true);
    let c = stack.connect();
    tx(&c, &hex(SELECT_JPKI)).unwrap();
    tx(&c, &hex("00 A4 02 0C 02 00 18")).unwrap();
    assert_eq!(tx(&c, &hex("00 20 00 80")).unwrap().1, 0x63C2, "counter persisted");
    assert_eq!(tx(&c, &verify(0x80, "0000")).unwrap().1, 0x63C1);
    assert_eq!(tx(&c, &verify(0x80, "0000")).unwrap().1, 0x63C0);
    assert_eq!(tx(&c, &verify(0x80, &h.spec.jpki_auth_pin)).unwrap().1, 0x6983);
    drop(c);
    assert!(send(ctl, "remove").unwrap().starts_with("ok removed"));
    stack.wait_card(false);
}

#[test]
fn removal_mid_operation_is_an_error_not_a_hang() {
    let stack = Stack::start();
    let h = &pki().holders[0];
    let card: SharedCard = Arc::new(Mutex::new(h.jpki_card()));
    let link = VpcdLink::start(card, stack.vpcd_addr());
    stack.wait_card(true);
    let c = stack.connect();
    assert_eq!(tx(&c, &hex(SELECT_JPKI)).unwrap().1, 0x9000);
    link.stop();
    // The next command must fail promptly (removed/reset/no card), never block.
    let (done, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = tx(&c, &hex("00 A4 02 0C 02 00 0A"));
        let _ = done.send(r.map(|(_, sw)| sw));
    });
    let r = rx.recv_timeout(Duration::from_secs(20)).expect("transmit after removal hung");
    assert!(r.is_err(), "transmit to a removed card answered {r:?}");
    stack.wait_card(false);
}
