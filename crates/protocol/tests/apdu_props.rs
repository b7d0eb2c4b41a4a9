//! ISO 7816-4 command APDUs under hostile bytes: the virtual cards parse whatever a reader (or
//! pcscd, for cardsim) hands them, so `Command::parse` must answer every byte string with a
//! command or a typed `ParseError`, and what the helper encodes must parse back unchanged.
//!
//! The case count is proptest's default for `make test` (PROPTEST_CASES overrides it: `make fuzz`).

use mahpki_protocol::apdu::{Command, ParseError, SHORT_MAX_DATA};
use proptest::prelude::*;

/// Bytes shaped like APDUs more often than uniform noise would be: a header, then a body that
/// is sometimes a well-formed length field, sometimes a lie about one.
fn apdu_like() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::array::uniform4(any::<u8>());
    let body = prop_oneof![
        // Anything, short.
        prop::collection::vec(any::<u8>(), 0..12),
        prop::collection::vec(any::<u8>(), 0..300),
        // A short Lc that may or may not match what follows.
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..260), prop::option::of(any::<u8>()))
            .prop_map(|(lc, data, le)| {
                let mut b = vec![lc];
                b.extend(data);
                b.extend(le);
                b
            }),
        // An extended Lc (00 hi lo) that may or may not match what follows, up to beyond 64 KiB.
        (any::<u16>(), 0usize..70_000, prop::option::of(any::<u16>())).prop_map(|(lc, n, le)| {
            let mut b = vec![0x00];
            b.extend(lc.to_be_bytes());
            b.extend(std::iter::repeat_n(0x5a, n));
            b.extend(le.map(u16::to_be_bytes).into_iter().flatten());
            b
        }),
    ];
    (header, body).prop_map(|(h, b)| {
        let mut v = h.to_vec();
        v.extend(b);
        v
    })
}

fn command() -> impl Strategy<Value = Command> {
    (
        prop::array::uniform4(any::<u8>()),
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..=SHORT_MAX_DATA),
            prop::collection::vec(any::<u8>(), 0..2000),
        ],
        prop_oneof![Just(None), (1usize..=256).prop_map(Some), (1usize..=65536).prop_map(Some)],
    )
        .prop_map(|(h, data, le)| Command::new(h, &data, le))
}

proptest! {
    /// Every byte string: a command or a typed error, never a panic; a command never claims
    /// more data than the bytes carried.
    #[test]
    fn parse_answers_every_byte_string(bytes in apdu_like()) {
        match Command::parse(&bytes) {
            Ok(p) => {
                prop_assert!(bytes.len() >= 4);
                prop_assert!(p.command.data.len() <= bytes.len() - 4);
                prop_assert!(p.command.le.is_none_or(|le| (1..=65536).contains(&le)));
                if !p.extended {
                    prop_assert!(p.command.data.len() <= SHORT_MAX_DATA);
                }
                // What was parsed encodes again, in the same form, and means the same command.
                let again = p.command.encode(p.extended).expect("a parsed command re-encodes");
                let reparsed = Command::parse(&again).expect("a re-encoded command parses");
                prop_assert_eq!(reparsed.command, p.command);
                prop_assert_eq!(reparsed.extended, p.extended);
            }
            Err(ParseError::TooShort) => prop_assert!(bytes.len() < 4),
            Err(ParseError::WrongLength) => prop_assert!(bytes.len() > 4),
        }
    }

    /// Uniform noise too, including the lengths right around the header.
    #[test]
    fn parse_survives_noise(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Command::parse(&bytes);
        let _ = Command::from_short_bytes(&bytes);
    }

    /// What the helper sends (short, extended, or chained) is exactly what a card parses.
    #[test]
    fn encoded_commands_parse_back(cmd in command()) {
        for extended in [false, true] {
            match cmd.encode(extended) {
                Ok(bytes) => {
                    let p = Command::parse(&bytes).expect("an encoded command parses");
                    prop_assert_eq!(&p.command, &cmd);
                    // A command with neither data nor Le has no length field to tell its form.
                    let bare = cmd.data.is_empty() && cmd.le.is_none();
                    prop_assert!(bare || p.extended == extended);
                }
                Err(_) => prop_assert!(
                    (!extended && (cmd.data.len() > SHORT_MAX_DATA || cmd.le.is_some_and(|le| le > 256)))
                        || cmd.data.len() > 65535
                ),
            }
        }
        let links = cmd.chained();
        let rejoined: Vec<u8> = links.iter().flat_map(|c| c.data.iter().copied()).collect();
        prop_assert_eq!(rejoined, cmd.data.clone());
        for (i, link) in links.iter().enumerate() {
            let last = i + 1 == links.len();
            prop_assert!(link.data.len() <= SHORT_MAX_DATA);
            prop_assert_eq!(link.le, if last { cmd.le } else { None });
            if links.len() > 1 && !last {
                prop_assert_eq!(link.cla & 0x10, 0x10);
            }
        }
    }
}
