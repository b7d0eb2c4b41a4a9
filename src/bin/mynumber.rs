//! Bundle `mynumber`: 別紙1 on the PC: binding a My Number card.

fn main() {
    mahpki::app::start(mahpki::bundles::mynumber);
}
