//! The far end of `scripts/bench-http-map.sh`: an HTTP/1.1 endpoint on one thread that
//! answers every request after a fixed delay, on any number of keep-alive connections.
//! It stands in for a slow remote service; written in Rust so that, on a 2-core machine,
//! the load it puts on the CPU is small next to the server being measured.
//!
//! `slow_endpoint <port> [delay_ms]`

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"ok\": true}";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(18091);
    let delay = Duration::from_millis(args.next().and_then(|d| d.parse().ok()).unwrap_or(1000));
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async move {
        // A deep accept queue: thousands of connections arrive at once.
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(([127, 0, 0, 1], port).into())?;
        let listener = socket.listen(16384)?;
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(serve(stream, delay));
        }
    })
}

/// Reads requests (head and a `content-length` body) and answers each after `delay`.
async fn serve(mut stream: TcpStream, delay: Duration) {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let Some((head_end, length)) = read_head(&mut stream, &mut buf).await else { return };
        while buf.len() < head_end + length {
            if read_more(&mut stream, &mut buf).await.is_none() {
                return;
            }
        }
        buf.drain(..head_end + length);
        tokio::time::sleep(delay).await;
        if stream.write_all(ANSWER).await.is_err() {
            return;
        }
    }
}

/// The end of the next request head in `buf` and its body length, reading as needed.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(usize, usize)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            return Some((end + 4, length));
        }
        read_more(stream, buf).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 1024];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}
