//! Bundle `account`: the holder's page (登録状況) and a relying service's consent.

fn main() {
    mahpki::app::start(mahpki::bundles::account);
}
