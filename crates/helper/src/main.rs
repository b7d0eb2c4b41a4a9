//! `mahpki-helper`: the local helper the holder runs on the PC with the card reader; a console
//! program, for `install`, `status` and running it by hand. See [`mahpki_helper::cli`].

fn main() -> std::process::ExitCode {
    mahpki_helper::cli::main()
}
