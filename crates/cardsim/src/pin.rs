//! PIN objects: the reference value, a retry counter that survives power cycles, and the answer
//! a card gives to VERIFY.

use crate::card::sw;

/// A card PIN with its retry counter.
#[derive(Clone)]
pub struct Pin {
    value: Vec<u8>,
    max_tries: u8,
    tries_left: u8,
    /// The SW a blocked PIN answers with: JPKI uses `69 83`, HPKI cards `69 84`.
    blocked_sw: u16,
}

impl std::fmt::Debug for Pin {
    // Never print the PIN itself, even in test logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pin")
            .field("max_tries", &self.max_tries)
            .field("tries_left", &self.tries_left)
            .finish_non_exhaustive()
    }
}

/// What a VERIFY did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Correct PIN: counter reset, caller sets its security state.
    Ok,
    /// Answer with this SW and leave the security state unverified.
    Sw(u16),
}

impl Pin {
    pub fn new(value: impl AsRef<[u8]>, max_tries: u8, blocked_sw: u16) -> Self {
        Self { value: value.as_ref().to_vec(), max_tries, tries_left: max_tries, blocked_sw }
    }

    pub fn tries_left(&self) -> u8 {
        self.tries_left
    }

    pub fn is_blocked(&self) -> bool {
        self.tries_left == 0
    }

    /// VERIFY. Empty `candidate` is the ISO tries-left query and never costs a try.
    pub fn verify(&mut self, candidate: &[u8]) -> Verify {
        if self.is_blocked() {
            return Verify::Sw(self.blocked_sw);
        }
        if candidate.is_empty() {
            return Verify::Sw(sw::tries_left(self.tries_left));
        }
        // Constant-time comparison is moot for a simulator; equality is the behaviour we model.
        if candidate == self.value.as_slice() {
            self.tries_left = self.max_tries;
            Verify::Ok
        } else {
            self.tries_left -= 1;
            Verify::Sw(sw::tries_left(self.tries_left))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_blocks_and_resets_on_success() {
        let mut p = Pin::new("1234", 3, 0x6983);
        assert_eq!(p.verify(b""), Verify::Sw(0x63C3));
        assert_eq!(p.verify(b"0000"), Verify::Sw(0x63C2));
        assert_eq!(p.verify(b"1234"), Verify::Ok);
        assert_eq!(p.tries_left(), 3);
        for left in [2u16, 1, 0] {
            assert_eq!(p.verify(b"9999"), Verify::Sw(0x63C0 | left));
        }
        assert_eq!(p.verify(b"1234"), Verify::Sw(0x6983));
        assert_eq!(p.verify(b""), Verify::Sw(0x6983));
        assert!(format!("{p:?}").find("1234").is_none());
    }
}
