//! Bundle `signin`: the daily sign-in on the PC (HPKI card, My Number card, smartphone).

fn main() {
    mahpki::app::start(mahpki::bundles::signin);
}
