//! Bundle `home`: The top page (and the page for unknown paths).

fn main() {
    mahpki::app::start(mahpki::bundles::home);
}
