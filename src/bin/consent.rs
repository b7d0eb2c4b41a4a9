//! Bundle `consent`: the OpenID Provider's consent page, on the way to a relying service.

fn main() {
    mahpki::app::start(mahpki::bundles::consent);
}
