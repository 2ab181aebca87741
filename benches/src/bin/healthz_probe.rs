//! The `/healthz` probe of `scripts/bench-http-map.sh`: one process that opens a new
//! connection every `interval_ms`, as a load balancer's health check does, and writes one
//! line per probe: `<unix ms at the start> <connect µs> <total µs> <HTTP status>`.
//! It replaces a shell loop that started `curl` and `date` for every probe: on 2 cores
//! those processes took a fifth of the CPU, and their own start-up was counted in the
//! latency measured.
//!
//! `healthz_probe <port> <interval_ms> <out_file>` (runs until killed)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(18090);
    let interval = Duration::from_millis(args.next().and_then(|i| i.parse().ok()).unwrap_or(20));
    let out_path = args.next().unwrap_or_else(|| "/dev/stdout".into());
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(out_path)?;
    let mut answer = Vec::with_capacity(1024);
    loop {
        let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let start = Instant::now();
        let (connect_us, status) = match probe(port, &mut answer) {
            Ok((connected, status)) => (connected.as_micros(), status),
            Err(_) => (0, 0),
        };
        let total_us = start.elapsed().as_micros();
        writeln!(out, "{at_ms} {connect_us} {total_us} {status}")?;
        std::thread::sleep(interval);
    }
}

/// One probe: the time to connect and the answer's status (0 if unreadable).
fn probe(port: u16, answer: &mut Vec<u8>) -> std::io::Result<(Duration, u16)> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    let connected = start.elapsed();
    stream.write_all(REQUEST)?;
    answer.clear();
    stream.read_to_end(answer)?;
    let status = answer.get(9..12).and_then(|s| std::str::from_utf8(s).ok()).and_then(|s| s.parse().ok());
    Ok((connected, status.unwrap_or(0)))
}
