//! Bundle `smartphone`: 別紙2 and スマートフォン変更 on the PC.

fn main() {
    mahpki::app::start(mahpki::bundles::smartphone);
}
