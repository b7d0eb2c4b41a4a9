//! Bundle `signin-smartphone`: the daily sign-in on the PC with the smartphone (its 2D code and
//! confirmation code, or the browser's own passkey).

fn main() {
    mahpki::app::start(mahpki::bundles::signin_smartphone);
}
