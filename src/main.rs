fn main() {
    yew::Renderer::<mahpki::App>::new().render();
}
