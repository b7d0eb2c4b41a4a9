//! The 2D code the phone's camera reads, as inline SVG (no image request, no canvas).

use qrcode::{EcLevel, QrCode, render::svg};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct QrProps {
    pub data: AttrValue,
    /// What a screen reader says instead of the picture.
    pub label: AttrValue,
}

/// Level M (15 % recovery): a phone camera reading a screen copes with glare and moiré, and the
/// code stays small enough (version 6 or so for our URLs) for large modules.
pub fn svg(data: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

#[function_component(Qr)]
pub fn qr(props: &QrProps) -> Html {
    let Some(svg) = svg(&props.data) else {
        return html! {};
    };
    html! {
        <div class="qr" role="img" aria-label={props.label.clone()}>
            { Html::from_html_unchecked(AttrValue::from(svg)) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_an_svg_of_the_url() {
        let svg = super::svg(
            "https://hpki.example.jp/enroll#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(!svg.contains("style="), "inline styles would break the CSP: {svg}");
    }
}
