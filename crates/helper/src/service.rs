//! `mahpki-helper install | uninstall | status`: start the helper at log-on for the current user,
//! the way card middleware is installed, and say what a running helper sees.
//!
//! One log-on entry per system, written by this module and removed by it, nothing else:
//! - Windows: the value `mahpki-helper` under `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`
//!   (through `reg.exe`, which every Windows and Wine has);
//! - Linux: the systemd user unit `mahpki-helper.service` in `$XDG_CONFIG_HOME/systemd/user` and
//!   its `default.target.wants` link (exactly what `systemctl --user enable` makes);
//! - macOS: the LaunchAgent `~/Library/LaunchAgents/jp.mahpki.helper.plist`.
//!
//! The entry starts this same executable with `--port` and `--origins`, so it serves what
//! `install` was given. Installing twice leaves one entry; `--no-start` only writes the entry.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use mahpki_protocol::helper::HelperStatus;

use crate::settings::{Settings, SettingsError};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(
        "give the sites this helper serves: --origins https://… (or MAHPKI_HELPER_ALLOWED_ORIGINS)"
    )]
    NoOrigins,
    #[error("cannot find this program's own path: {0}")]
    OwnPath(std::io::Error),
    /// The path goes into the entry verbatim; quotes, `%`, `$` or control characters could change
    /// what the entry runs.
    #[error("this program's path {0:?} has characters the log-on entry cannot hold; move it")]
    UnsafePath(PathBuf),
    #[error("no home directory (HOME is not set)")]
    NoHome,
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0} failed: {1}")]
    Command(String, String),
}

// The file-based entries (Linux, macOS).
#[cfg(unix)]
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServiceError + '_ {
    move |source| ServiceError::Io { path: path.to_owned(), source }
}

/// The subcommand's entry point; `args` are the options after it.
pub fn run(command: &str, args: &[String]) -> Result<(), ServiceError> {
    let settings = Settings::from_env_and_args(args)?;
    let start = !args.iter().any(|a| a == "--no-start");
    match command {
        "install" => install(&settings, start),
        "uninstall" => uninstall(start),
        _ => {
            status(&settings);
            Ok(())
        }
    }
}

fn own_exe() -> Result<PathBuf, ServiceError> {
    let exe = std::env::current_exe().map_err(ServiceError::OwnPath)?;
    let s = exe.to_string_lossy();
    if s.chars().any(|c| c.is_control() || matches!(c, '"' | '%' | '$' | '`' | '\'')) {
        return Err(ServiceError::UnsafePath(exe));
    }
    Ok(exe)
}

fn install(settings: &Settings, start: bool) -> Result<(), ServiceError> {
    if settings.origins.is_empty() {
        return Err(ServiceError::NoOrigins);
    }
    let exe = own_exe()?;
    let entry = platform::install(&exe, settings, start)?;
    println!("installed: mahpki-helper starts at log-on ({entry})");
    println!("serves: {}", settings.origins.join(", "));
    Ok(())
}

fn uninstall(stop: bool) -> Result<(), ServiceError> {
    match platform::uninstall(stop)? {
        Some(entry) => println!("uninstalled: removed {entry}"),
        None => println!("not installed: nothing to remove"),
    }
    Ok(())
}

/// What the helper does with `settings`' port: installed or not, running or not, and for each
/// origin whether it is served; the readers and cards a served origin is told about.
fn status(settings: &Settings) {
    let installed = platform::installed();
    // Without origins given, the installed entry says which ones the helper serves.
    let settings = match (&installed, settings.origins.is_empty()) {
        (Some((_, args)), true) => {
            let mut s = settings.clone();
            s.apply_args(args).map(|()| s).unwrap_or_else(|_| settings.clone())
        }
        _ => settings.clone(),
    };
    match &installed {
        Some((entry, _)) => println!("start at log-on: yes ({entry})"),
        None => println!("start at log-on: no (run `mahpki-helper install --origins https://…`)"),
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], settings.port));
    if settings.origins.is_empty() {
        let running = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok();
        println!("running on {addr}: {}", if running { "something listens" } else { "no" });
        println!("origins: none configured, so no site can use it (install --origins https://…)");
        return;
    }
    let mut readers_shown = false;
    let mut any_answer = false;
    for origin in &settings.origins {
        match probe(addr, origin) {
            Probe::Served(st) => {
                any_answer = true;
                println!("origin {origin}: served");
                if !readers_shown {
                    readers_shown = true;
                    println!("running on {addr}: yes ({} {})", st.service, st.version);
                    if st.readers.is_empty() {
                        println!(
                            "readers: none (connect the IC card reader; is its driver installed?)"
                        );
                    }
                    for r in &st.readers {
                        println!("reader {}: {}", r.name, card_name(r.card));
                    }
                }
            }
            Probe::Refused(code) => {
                any_answer = true;
                println!("origin {origin}: not served (HTTP {code})");
            }
            Probe::Down(why) => println!("origin {origin}: no answer ({why})"),
        }
    }
    if !any_answer {
        println!("running on {addr}: no");
    }
}

fn card_name(c: mahpki_protocol::helper::CardPresence) -> &'static str {
    use mahpki_protocol::helper::CardPresence::*;
    match c {
        Empty => "no card",
        Hpki => "HPKI card",
        Jpki => "My Number card",
        Unsupported => "an unsupported card",
    }
}

enum Probe {
    Served(HelperStatus),
    Refused(u16),
    Down(String),
}

/// `GET /v1/status` as the site's page sends it (its `Origin`, the helper's own `Host`).
fn probe(addr: SocketAddr, origin: &str) -> Probe {
    let answer = (|| -> std::io::Result<Vec<u8>> {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        // Reading the readers can take a few seconds on a slow smart-card service.
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(
            s,
            "GET /v1/status HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = Vec::new();
        s.take(1 << 16).read_to_end(&mut buf)?;
        Ok(buf)
    })();
    let buf = match answer {
        Ok(b) => b,
        Err(e) => return Probe::Down(e.to_string()),
    };
    let text = String::from_utf8_lossy(&buf);
    let code = text.split(' ').nth(1).and_then(|c| c.parse::<u16>().ok());
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    match code {
        Some(200) => match serde_json::from_str::<HelperStatus>(body) {
            Ok(st) if st.service == "mahpki-helper" => Probe::Served(st),
            _ => Probe::Down("another program answers on this port".into()),
        },
        Some(c) => Probe::Refused(c),
        None => Probe::Down("not an HTTP answer".into()),
    }
}

// The file-based entries (Linux, macOS).
#[cfg(unix)]
fn home() -> Result<PathBuf, ServiceError> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or(ServiceError::NoHome)
}

/// Runs a system tool; a failure is reported, with its message.
fn tool(cmd: &mut Command) -> Result<String, ServiceError> {
    let name = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| ServiceError::Command(name.clone(), e.to_string()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(ServiceError::Command(name, String::from_utf8_lossy(&out.stderr).trim().to_owned()))
    }
}

// The file-based entries (Linux, macOS).
#[cfg(unix)]
/// Writes `content` to `path` unless it already holds exactly that; whether it changed.
fn write_if_changed(path: &Path, content: &str) -> Result<bool, ServiceError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::write(path, content).map_err(io(path))?;
    Ok(true)
}

// The file-based entries (Linux, macOS).
#[cfg(unix)]
fn remove_if_present(path: &Path) -> Result<bool, ServiceError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(path)(e)),
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::*;

    const UNIT: &str = "mahpki-helper.service";

    fn unit_dir() -> Result<PathBuf, ServiceError> {
        let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => home()?.join(".config"),
        };
        Ok(config.join("systemd").join("user"))
    }

    fn unit_text(exe: &Path, settings: &Settings) -> String {
        format!(
            "# Written by `mahpki-helper install`; `mahpki-helper uninstall` removes it.\n\
             [Unit]\n\
             Description=mahpki helper: IC card reader and PIN entry for the HPKI platform\n\n\
             [Service]\n\
             ExecStart=\"{}\" {}\n\
             Restart=on-failure\n\n\
             [Install]\n\
             WantedBy=default.target\n",
            exe.display(),
            settings.to_args().join(" ")
        )
    }

    /// `systemctl --user …`, or why it cannot be used (no user session bus in containers).
    fn systemctl(args: &[&str]) -> Result<(), String> {
        tool(Command::new("systemctl").arg("--user").args(args))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    pub fn install(exe: &Path, settings: &Settings, start: bool) -> Result<String, ServiceError> {
        let dir = unit_dir()?;
        let unit = dir.join(UNIT);
        let changed = write_if_changed(&unit, &unit_text(exe, settings))?;
        let wants = dir.join("default.target.wants");
        let link = wants.join(UNIT);
        if std::fs::read_link(&link).ok().as_deref() != Some(unit.as_path()) {
            std::fs::create_dir_all(&wants).map_err(io(&wants))?;
            remove_if_present(&link)?;
            std::os::unix::fs::symlink(&unit, &link).map_err(io(&link))?;
        }
        if start {
            let now = if changed { "restart" } else { "start" };
            if let Err(e) = systemctl(&["daemon-reload"]).and_then(|()| systemctl(&[now, UNIT])) {
                println!("systemctl --user is not available ({e}): the unit is written and");
                println!("enabled, and starts at the next log-on with a systemd user session");
            }
        }
        Ok(unit.display().to_string())
    }

    pub fn uninstall(stop: bool) -> Result<Option<String>, ServiceError> {
        let dir = unit_dir()?;
        let unit = dir.join(UNIT);
        if stop && unit.exists() {
            // A helper that is not running, or no user session: nothing to stop.
            let _ = systemctl(&["stop", UNIT]);
        }
        let linked = remove_if_present(&dir.join("default.target.wants").join(UNIT))?;
        let removed = remove_if_present(&unit)?;
        if stop && removed {
            let _ = systemctl(&["daemon-reload"]);
        }
        Ok((removed || linked).then(|| unit.display().to_string()))
    }

    /// The installed unit and the arguments its `ExecStart` passes.
    pub fn installed() -> Option<(String, Vec<String>)> {
        let unit = unit_dir().ok()?.join(UNIT);
        let text = std::fs::read_to_string(&unit).ok()?;
        let exec = text.lines().find_map(|l| l.strip_prefix("ExecStart="))?;
        let args = exec.rsplit_once('"').map(|(_, a)| a).unwrap_or_default();
        Some((unit.display().to_string(), args.split_whitespace().map(str::to_owned).collect()))
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    const LABEL: &str = "jp.mahpki.helper";

    fn plist_path() -> Result<PathBuf, ServiceError> {
        Ok(home()?.join("Library/LaunchAgents").join(format!("{LABEL}.plist")))
    }

    fn xml(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    }

    fn plist_text(exe: &Path, settings: &Settings) -> String {
        let mut args = vec![xml(&exe.display().to_string())];
        args.extend(settings.to_args().iter().map(|a| xml(a)));
        let args: String = args.iter().map(|a| format!("    <string>{a}</string>\n")).collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
             \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
             <plist version=\"1.0\">\n<dict>\n\
             \x20 <key>Label</key><string>{LABEL}</string>\n\
             \x20 <key>ProgramArguments</key>\n  <array>\n{args}  </array>\n\
             \x20 <key>RunAtLoad</key><true/>\n\
             \x20 <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>\n\
             </dict>\n</plist>\n"
        )
    }

    pub fn install(exe: &Path, settings: &Settings, start: bool) -> Result<String, ServiceError> {
        let path = plist_path()?;
        let changed = write_if_changed(&path, &plist_text(exe, settings))?;
        if start {
            if changed {
                let _ = tool(Command::new("launchctl").arg("unload").arg(&path));
            }
            tool(Command::new("launchctl").args(["load", "-w"]).arg(&path))?;
        }
        Ok(path.display().to_string())
    }

    pub fn uninstall(stop: bool) -> Result<Option<String>, ServiceError> {
        let path = plist_path()?;
        if stop && path.exists() {
            let _ = tool(Command::new("launchctl").arg("unload").arg(&path));
        }
        Ok(remove_if_present(&path)?.then(|| path.display().to_string()))
    }

    pub fn installed() -> Option<(String, Vec<String>)> {
        let path = plist_path().ok()?;
        let text = std::fs::read_to_string(&path).ok()?;
        let args = text
            .split("<string>")
            .skip(2) // the label, then the program
            .filter_map(|s| s.split_once("</string>").map(|(a, _)| a.replace("&amp;", "&")))
            .collect();
        Some((path.display().to_string(), args))
    }
}

#[cfg(windows)]
mod platform {
    use super::*;
    use std::os::windows::process::CommandExt as _;

    const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";
    const VALUE: &str = "mahpki-helper";
    // Started at install without a console window of its own, and apart from this one.
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;

    fn entry() -> String {
        format!(r"{RUN_KEY}\{VALUE}")
    }

    fn query() -> Option<String> {
        let out = tool(Command::new("reg").args(["query", RUN_KEY, "/v", VALUE])).ok()?;
        // `    mahpki-helper    REG_SZ    "C:\…\mahpki-helper.exe" --port …`
        out.lines()
            .find_map(|l| l.split_once("REG_SZ").filter(|(name, _)| name.trim() == VALUE))
            .map(|(_, data)| data.trim().to_owned())
    }

    /// The program the entry starts: `mahpki-helperw.exe` beside this one (the same helper
    /// without a console window, so none opens at log-on), or this one if it was not shipped.
    fn windowless(exe: &Path) -> PathBuf {
        let w = exe.with_file_name("mahpki-helperw.exe");
        if w.is_file() { w } else { exe.to_path_buf() }
    }

    pub fn install(exe: &Path, settings: &Settings, start: bool) -> Result<String, ServiceError> {
        let exe = &windowless(exe);
        let command = format!("\"{}\" {}", exe.display(), settings.to_args().join(" "));
        let was = query();
        if was.as_deref() != Some(command.as_str()) {
            tool(
                Command::new("reg")
                    .args(["add", RUN_KEY, "/v", VALUE, "/t", "REG_SZ", "/d"])
                    .arg(&command)
                    .arg("/f"),
            )?;
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], settings.port));
        if start && TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            Command::new(exe)
                .args(settings.to_args())
                .creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP)
                .spawn()
                .map_err(|e| ServiceError::Command(format!("{exe:?}"), e.to_string()))?;
        } else if start && was.is_some_and(|w| w != command) {
            println!(
                "a helper already runs: sign out and in again to start it with the new settings"
            );
        }
        Ok(entry())
    }

    pub fn uninstall(stop: bool) -> Result<Option<String>, ServiceError> {
        if query().is_none() {
            return Ok(None);
        }
        tool(Command::new("reg").args(["delete", RUN_KEY, "/v", VALUE, "/f"]))?;
        if stop {
            // Every other mahpki-helper.exe of this user; not this one, which is uninstalling.
            let me = format!("PID ne {}", std::process::id());
            let _ =
                tool(Command::new("taskkill").args(["/im", "mahpki-helper.exe", "/fi", &me, "/f"]));
        }
        Ok(Some(entry()))
    }

    pub fn installed() -> Option<(String, Vec<String>)> {
        let data = query()?;
        let args = data.rsplit_once('"').map(|(_, a)| a).unwrap_or_default();
        Some((entry(), args.split_whitespace().map(str::to_owned).collect()))
    }
}

#[cfg(not(any(windows, target_os = "linux", target_os = "macos")))]
mod platform {
    use super::*;

    const UNSUPPORTED: &str = "starting at log-on is made for Windows, Linux and macOS only";

    pub fn install(_: &Path, _: &Settings, _: bool) -> Result<String, ServiceError> {
        Err(ServiceError::Command("install".into(), UNSUPPORTED.into()))
    }

    pub fn uninstall(_: bool) -> Result<Option<String>, ServiceError> {
        Err(ServiceError::Command("uninstall".into(), UNSUPPORTED.into()))
    }

    pub fn installed() -> Option<(String, Vec<String>)> {
        None
    }
}
