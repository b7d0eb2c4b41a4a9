//! Bundle `phone`: the phone's enrolment (別紙2), opened from the 2D code or a CA's link.

fn main() {
    mahpki::app::start(mahpki::bundles::phone);
}
