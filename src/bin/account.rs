//! Bundle `account`: the holder's page (登録状況).

fn main() {
    mahpki::app::start(mahpki::bundles::account);
}
