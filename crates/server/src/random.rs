//! Unpredictable bytes from the operating system, for session ids and challenges.

pub fn bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // Without OS randomness no secret we issue would be safe: refusing to run is right.
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    b
}
