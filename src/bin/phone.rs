//! Bundle `phone`: The phone's pages: enrolment and the old phone's side of スマートフォン変更.

fn main() {
    mahpki::app::start(mahpki::bundles::phone);
}
