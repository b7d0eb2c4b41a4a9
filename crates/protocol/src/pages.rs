//! Which page is at which path, and which bundle (html + wasm) a browser downloads for it.
//!
//! The app is split by page so a phone fetches only the phone's code and each PC page only its
//! own (issue 14). One row per page in [`pages!`]: the server picks the bundle's html by it
//! (`server/src/http/assets.rs`), the app renders the page by it (`src/bundles.rs`), and each
//! bundle is one binary of the web app (`src/bin/<bundle>.rs`, built by `scripts/web.sh` into
//! `dist/<bundle>/`).

/// One download: a binary of the web app, its html and wasm under `dist/<name>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bundle {
    /// The top page and the page for unknown paths.
    Home,
    /// 別紙1 on the PC: a My Number card.
    MyNumber,
    /// 別紙2 and スマートフォン変更 on the PC: the HPKI card or the JMA path, and the 2D code.
    Smartphone,
    /// The phone's enrolment, opened from the 2D code or a CA's link. The phone's bundles are
    /// one per flow and kept smallest: phones on mobile data download them.
    Phone,
    /// スマートフォン変更 on the old phone, opened from the change's first code.
    PhoneChange,
    /// The daily sign-in on the phone.
    PhoneSignIn,
    /// The daily sign-in on the PC with a card: the HPKI card or the My Number card.
    SignIn,
    /// The daily sign-in on the PC with the smartphone: its 2D code, or the browser's passkey.
    SignInSmartphone,
    /// After a sign-in: the holder's page (登録状況).
    Account,
    /// A relying service's consent: what a holder sees on the way to a service, not their page.
    Consent,
}

impl Bundle {
    pub const ALL: &'static [Bundle] = &[
        Bundle::Home,
        Bundle::MyNumber,
        Bundle::Smartphone,
        Bundle::Phone,
        Bundle::PhoneChange,
        Bundle::PhoneSignIn,
        Bundle::SignIn,
        Bundle::SignInSmartphone,
        Bundle::Account,
        Bundle::Consent,
    ];

    /// The binary's name (`src/bin/<name>.rs`) and its folder under `dist/`.
    pub fn name(self) -> &'static str {
        match self {
            Bundle::Home => "home",
            Bundle::MyNumber => "mynumber",
            Bundle::Smartphone => "smartphone",
            Bundle::Phone => "phone",
            Bundle::PhoneChange => "phone-change",
            Bundle::PhoneSignIn => "phone-signin",
            Bundle::SignIn => "signin",
            Bundle::SignInSmartphone => "signin-smartphone",
            Bundle::Account => "account",
            Bundle::Consent => "consent",
        }
    }
}

/// Declares [`Page`] from one row per page (name, path, bundle), so a page's path and bundle
/// are written once.
macro_rules! pages {
    ($(
        $(#[$attr:meta])*
        $page:ident: $path:literal => $bundle:ident;
    )*) => {
        /// A page of the web app, served at one path.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Page {
            $( $(#[$attr])* $page, )*
        }

        impl Page {
            pub const ALL: &'static [Page] = &[$(Page::$page),*];

            /// The path the page is served at (and linked by).
            pub fn path(self) -> &'static str {
                match self {
                    $(Page::$page => $path,)*
                }
            }

            /// The bundle whose html the server sends for this page.
            pub fn bundle(self) -> Bundle {
                match self {
                    $(Page::$page => Bundle::$bundle,)*
                }
            }

            /// The page at a URL path; `None` is the 404 page.
            pub fn at(path: &str) -> Option<Page> {
                match path {
                    $($path => Some(Page::$page),)*
                    _ => None,
                }
            }
        }
    };
}

pages! {
    Index: "/" => Home;
    /// 別紙1: bind a My Number card.
    MyNumber: "/mynumber" => MyNumber;
    /// 別紙2: bind a smartphone with the HPKI card.
    Smartphone: "/smartphone" => Smartphone;
    /// 別紙2 by the JMA path: the numbers printed on the card instead of the card.
    SmartphoneJma: "/smartphone/jma" => Smartphone;
    /// スマートフォン変更 on the PC: the old phone proves the holder, then the new one enrols.
    SmartphoneChange: "/smartphone/change" => Smartphone;
    /// Opened on the old phone from a change's first code; the token is in the fragment.
    Change: "/change" => PhoneChange;
    /// Opened on the phone from the 2D code or a CA's link; the token is in the fragment.
    Enrol: "/enrol" => Phone;
    /// The same page under its old spelling: CA links printed with it stay valid for months.
    EnrollLegacy: "/enroll" => Phone;
    /// The daily sign-in on the phone: for the PC whose 2D code it opened (token in the
    /// fragment), or for this phone itself.
    SignInPhone: "/signin/phone" => PhoneSignIn;
    /// The daily sign-in: HPKI card, My Number card, or a link to the smartphone's way.
    SignIn: "/signin" => SignIn;
    /// The daily sign-in on a PC with the smartphone: its 2D code, or the browser's passkey.
    SignInSmartphone: "/signin/smartphone" => SignInSmartphone;
    /// 登録状況: the holder's own page after any sign-in.
    Account: "/account" => Account;
    /// The OpenID Provider's consent page (`?request=…`), the first time a holder signs in to a
    /// service.
    Consent: "/consent" => Consent;
}

/// The bundle served (with status 404) for a path that is no page.
pub const NOT_FOUND_BUNDLE: Bundle = Bundle::Home;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_round_trip() {
        for &p in Page::ALL {
            assert_eq!(Page::at(p.path()), Some(p), "{p:?}");
            assert!(p.path().starts_with('/'), "{p:?}");
            // The server sends a page for extension-less paths only: a dot would make it a file.
            assert!(!p.path().contains('.'), "{p:?}");
        }
        assert_eq!(Page::at("/no/such/page"), None);
        assert_eq!(Page::at("/enrol/"), None);
    }

    #[test]
    fn every_bundle_has_a_page_and_a_distinct_name() {
        for &b in Bundle::ALL {
            assert!(Page::ALL.iter().any(|p| p.bundle() == b) || b == NOT_FOUND_BUNDLE, "{b:?}");
            assert_eq!(Bundle::ALL.iter().filter(|o| o.name() == b.name()).count(), 1);
            // A bundle's folder must not shadow a page's path.
            assert!(Page::at(&format!("/{}", b.name())).is_none_or(|p| p.bundle() == b));
        }
    }
}
