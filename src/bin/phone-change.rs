//! Bundle `phone-change`: スマートフォン変更 on the old phone (the change's first code).

fn main() {
    mahpki::app::start(mahpki::bundles::phone_change);
}
