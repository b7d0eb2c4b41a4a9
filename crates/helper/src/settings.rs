//! What a helper process serves: its loopback port and the sites allowed to call it. From the
//! command line (`--port N --origins A,B`, which is how a log-on entry starts it) or else the
//! environment (`MAHPKI_HELPER_PORT`, `MAHPKI_HELPER_ALLOWED_ORIGINS`).

use mahpki_protocol::helper::DEFAULT_PORT;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{0:?} is not a port number")]
    Port(String),
    /// An origin is written into the log-on entry (a unit file, a plist, a registry value), so
    /// only plain `scheme://host[:port]` gets through: nothing that could end or extend it.
    #[error(
        "{0:?} is not a site origin: use https://host[:port] (http only for localhost/127.0.0.1)"
    )]
    Origin(String),
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("unknown option {0:?}")]
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub port: u16,
    pub origins: Vec<String>,
}

impl Settings {
    /// The environment's settings, then `args` (options after the subcommand) over them.
    pub fn from_env_and_args(args: &[String]) -> Result<Self, SettingsError> {
        let mut s = Self { port: DEFAULT_PORT, origins: Vec::new() };
        if let Ok(p) = std::env::var("MAHPKI_HELPER_PORT") {
            s.port = parse_port(&p)?;
        }
        if let Ok(v) = std::env::var("MAHPKI_HELPER_ALLOWED_ORIGINS") {
            s.origins = parse_origins(&v)?;
        }
        s.apply_args(args)?;
        Ok(s)
    }

    /// `--port N`, `--origins A,B`; `--demo` and `--no-start` belong to others and are skipped.
    pub fn apply_args(&mut self, args: &[String]) -> Result<(), SettingsError> {
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--port" => {
                    self.port = parse_port(it.next().ok_or(SettingsError::MissingValue("--port"))?)?
                }
                "--origins" => {
                    self.origins =
                        parse_origins(it.next().ok_or(SettingsError::MissingValue("--origins"))?)?
                }
                "--demo" | "--no-start" => {}
                other => return Err(SettingsError::Unknown(other.into())),
            }
        }
        Ok(())
    }

    /// The arguments that start a helper with these settings (after the program).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec!["--port".to_owned(), self.port.to_string()];
        if !self.origins.is_empty() {
            args.extend(["--origins".to_owned(), self.origins.join(",")]);
        }
        args
    }
}

fn parse_port(s: &str) -> Result<u16, SettingsError> {
    s.trim().parse().ok().filter(|p| *p != 0).ok_or_else(|| SettingsError::Port(s.into()))
}

/// Comma-separated origins, each checked by [`check_origin`]; blanks between commas are dropped.
pub fn parse_origins(s: &str) -> Result<Vec<String>, SettingsError> {
    s.split(',').map(str::trim).filter(|o| !o.is_empty()).map(check_origin).collect()
}

/// An origin exactly as browsers send it: lower-case scheme and host, no path, no default port.
pub fn check_origin(o: &str) -> Result<String, SettingsError> {
    let bad = || SettingsError::Origin(o.into());
    let (scheme, rest) = o.split_once("://").ok_or_else(bad)?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !host.starts_with(['.', '-']);
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && !p.starts_with('0') && p.len() <= 5 && p.parse::<u16>().is_ok()
    });
    let scheme_ok =
        scheme == "https" || (scheme == "http" && matches!(host, "localhost" | "127.0.0.1"));
    if host_ok && port_ok && scheme_ok { Ok(o.to_owned()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn origins_are_plain_scheme_host_port() {
        for ok in ["https://hpki.example.jp", "https://a-b.example:8443", "http://localhost:8080"] {
            assert_eq!(check_origin(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "hpki.example.jp",
            "http://hpki.example.jp",
            "https://HPKI.example.jp",
            "https://hpki.example.jp/",
            "https://hpki.example.jp:0443",
            "https://hpki.example.jp:99999",
            "https://a b",
            "https://a\nExecStart=/bin/sh",
            "https://a\"",
            "https://a%20",
            "https://",
            "https://.x",
        ] {
            assert!(check_origin(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn arguments_round_trip() {
        let mut s = Settings { port: 1, origins: vec![] };
        s.apply_args(&args(&[
            "--port",
            "24399",
            "--origins",
            "https://a.example, https://b.example",
        ]))
        .unwrap();
        assert_eq!(s.port, 24399);
        assert_eq!(s.origins, ["https://a.example", "https://b.example"]);
        let mut back = Settings { port: 1, origins: vec![] };
        back.apply_args(&s.to_args()).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.apply_args(&args(&["--port"])), Err(SettingsError::MissingValue("--port")));
        assert_eq!(s.apply_args(&args(&["--port", "0"])), Err(SettingsError::Port("0".into())));
        assert_eq!(s.apply_args(&args(&["--x"])), Err(SettingsError::Unknown("--x".into())));
    }
}
