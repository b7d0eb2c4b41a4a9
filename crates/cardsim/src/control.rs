//! The control interface: a line protocol on 127.0.0.1 for tests and the demo.
//!
//! One command per line, one reply line per command, replies start with `ok` or `err`:
//!
//! | command | reply |
//! |---|---|
//! | `insert hpki [HOLDER [PROFILE]]` | `ok inserted hpki/HOLDER/PROFILE` |
//! | `insert jpki [HOLDER]` | `ok inserted jpki/HOLDER` |
//! | `insert HOLDER` | that holder's HPKI card |
//! | `remove` | `ok removed KEY` or `ok empty` |
//! | `status` | `ok KEY` or `ok empty` |
//! | `holders` | `ok ID ID …` |
//!
//! Inserting swaps cards in the one reader; every card keeps its state (PIN counters) for the
//! life of the process. `echo "insert jpki" | nc -q1 127.0.0.1 35990` works from a shell.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use tracing::warn;

use crate::serve::Server;

pub struct ControlServer {
    server: Server,
    listener: TcpListener,
}

impl ControlServer {
    /// Binds 127.0.0.1:`port` (0 picks a free port; see [`Self::local_addr`]).
    pub fn bind(server: Server, port: u16) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        Ok(Self { server, listener })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// Serves connections forever, one thread each.
    pub fn run(self) {
        for conn in self.listener.incoming() {
            match conn {
                Ok(c) => {
                    let server = self.server.clone();
                    std::thread::spawn(move || {
                        if let Err(e) = handle(&server, c) {
                            warn!(error = %e, "control connection failed");
                        }
                    });
                }
                Err(e) => warn!(error = %e, "control accept failed"),
            }
        }
    }

    /// Runs [`Self::run`] on a background thread.
    pub fn spawn(self) -> SocketAddr {
        let addr = self.local_addr();
        std::thread::spawn(move || self.run());
        addr
    }
}

/// Executes one control command.
pub fn execute(server: &Server, line: &str) -> String {
    let line = line.trim();
    let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    match cmd {
        "insert" => match server.insert(rest) {
            Ok(key) => format!("ok inserted {key}"),
            Err(e) => format!("err {e}"),
        },
        "remove" => match server.remove() {
            Some(key) => format!("ok removed {key}"),
            None => "ok empty".into(),
        },
        "status" => match server.inserted() {
            Some(key) => format!("ok {key}"),
            None => "ok empty".into(),
        },
        "holders" => {
            let ids: Vec<&str> =
                server.pki().holders.iter().map(|h| h.spec.hpki_id.as_str()).collect();
            format!("ok {}", ids.join(" "))
        }
        _ => format!("err unknown command {cmd:?}"),
    }
}

fn handle(server: &Server, c: TcpStream) -> io::Result<()> {
    let mut w = c.try_clone()?;
    for line in BufReader::new(c).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if line.trim() == "quit" {
            break;
        }
        writeln!(w, "{}", execute(server, &line))?;
    }
    Ok(())
}

/// Client side, for tests and tools: sends one command and returns the reply line.
pub fn send(addr: SocketAddr, command: &str) -> io::Result<String> {
    let mut c = TcpStream::connect(addr)?;
    writeln!(c, "{command}")?;
    let mut reply = String::new();
    BufReader::new(c.try_clone()?).read_line(&mut reply)?;
    let _ = writeln!(c, "quit");
    Ok(reply.trim_end().to_string())
}
