//! Bundle `phone-signin`: the daily sign-in on the phone.

fn main() {
    mahpki::app::start(mahpki::bundles::phone_signin);
}
