//! The control protocol and card bookkeeping, without pcscd: nothing listens on the vpcd port
//! used here, so inserted cards just wait for a vpcd that never comes.

mod common;

use common::*;
use mahpki_cardsim::control::{ControlServer, execute, send};
use mahpki_cardsim::serve::Server;

fn server() -> Server {
    let spec = pki().holders.iter().map(|h| h.spec.clone()).take(2).collect();
    // Port 9 (discard) on loopback: refused at once, nothing real is touched.
    Server::new(mahpki_cardsim::pki::generate_for(SEED, spec).unwrap(), ("127.0.0.1".into(), 9))
}

#[test]
fn commands_and_replies() {
    let s = server();
    let ids: Vec<String> = s.pki().holders.iter().map(|h| h.spec.hpki_id.clone()).collect();
    assert_eq!(execute(&s, "holders"), format!("ok {} {}", ids[0], ids[1]));
    assert_eq!(execute(&s, "status"), "ok empty");
    assert_eq!(execute(&s, "remove"), "ok empty");
    assert_eq!(execute(&s, "insert jpki"), format!("ok inserted jpki/{}", ids[0]));
    assert_eq!(execute(&s, "status"), format!("ok jpki/{}", ids[0]));
    // Inserting swaps the card in the one reader.
    assert_eq!(execute(&s, "insert hpki"), format!("ok inserted hpki/{}/jma", ids[0]));
    assert_eq!(
        execute(&s, &format!("insert {}", ids[1])),
        format!("ok inserted hpki/{}/guideline", ids[1])
    );
    assert_eq!(
        execute(&s, &format!("insert hpki {} guideline-short", ids[1])),
        format!("ok inserted hpki/{}/guideline-short", ids[1])
    );
    assert_eq!(
        execute(&s, &format!("insert jpki {}", ids[1])),
        format!("ok inserted jpki/{}", ids[1])
    );
    assert_eq!(execute(&s, "remove"), format!("ok removed jpki/{}", ids[1]));
    assert!(execute(&s, "insert hpki NOBODY").starts_with("err unknown card"));
    assert!(execute(&s, "insert hpki HP0000000001 nosuchprofile").starts_with("err"));
    assert!(execute(&s, "frobnicate").starts_with("err unknown command"));
}

#[test]
fn the_same_card_comes_back_with_its_state() {
    let s = server();
    let id = &s.pki().holders[0].spec.hpki_id;
    let spec = s.parse_spec(&format!("jpki {id}")).unwrap();
    let card = s.card(&spec);
    {
        let mut c = card.lock().unwrap();
        c.power_on();
        c.transmit(&hex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"));
        c.transmit(&hex("00 A4 02 0C 02 00 18"));
        assert_eq!(c.transmit(&hex("00 20 00 80 04 30 30 30 30")), [0x63, 0xC2]);
    }
    let again = s.card(&s.parse_spec("jpki").unwrap());
    let mut c = again.lock().unwrap();
    c.power_on();
    c.transmit(&hex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"));
    c.transmit(&hex("00 A4 02 0C 02 00 18"));
    assert_eq!(c.transmit(&hex("00 20 00 80")), [0x63, 0xC2]);
    // `hpki` and `hpki <id> <its own profile>` are one card.
    let a = s.card(&s.parse_spec("hpki").unwrap());
    let b = s.card(&s.parse_spec(&format!("hpki {id} jma")).unwrap());
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}

#[test]
fn line_protocol_over_tcp() {
    let addr = ControlServer::bind(server(), 0).unwrap().spawn();
    assert_eq!(send(addr, "status").unwrap(), "ok empty");
    assert!(send(addr, "insert jpki").unwrap().starts_with("ok inserted jpki/"));
    assert!(send(addr, "remove").unwrap().starts_with("ok removed jpki/"));
}
