//! `mahpki-helperw`: the same program as `mahpki-helper` without a console window on Windows
//! (like `pythonw`/`javaw`). The log-on entry `install` writes on Windows starts this one, so no
//! black window opens at every log-on and none can be closed by mistake, ending the helper.

#![cfg_attr(windows, windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    mahpki_helper::cli::main()
}
