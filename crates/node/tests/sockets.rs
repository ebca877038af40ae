//! Both ends of a sync connection send each message at once: the sockets the node accepts
//! and the ones `net::connect` dials have TCP_NODELAY. Without it a message sent while the
//! previous one is unacknowledged waits for the peer's delayed ACK (40 ms on Linux), which a
//! session's handshake paid several times (`benches/community.rs`: 46 ms for one session
//! alone, 5 ms without the waits).

use std::mem::ManuallyDrop;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::FromRawFd;

use axum::extract::{ConnectInfo, WebSocketUpgrade};
use axum::routing::get;

/// TCP_NODELAY of every socket of this process that connects `a` and `b`, either way.
fn nodelay_between(a: SocketAddr, b: SocketAddr) -> Vec<bool> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        // SAFETY: the fd stays open (ManuallyDrop) and is only queried; calls on an fd that
        // is no TCP socket fail, and it is skipped.
        let socket = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        let (Ok(local), Ok(peer)) = (socket.local_addr(), socket.peer_addr()) else { continue };
        if (local, peer) == (a, b) || (local, peer) == (b, a) {
            found.push(socket.nodelay().unwrap());
        }
    }
    found
}

#[tokio::test]
async fn sync_connections_send_without_waiting_for_acks() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = listener.local_addr().unwrap();
    let (tell, mut told) = tokio::sync::mpsc::unbounded_channel();
    let sync = get(move |ws: WebSocketUpgrade, ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
        ws.on_upgrade(move |socket| async move {
            let _ = tell.send(peer);
            // Open until the test has looked at both ends.
            let _socket = socket;
            std::future::pending::<()>().await
        })
    });
    tokio::spawn(pandafest::http::serve(listener, axum::Router::new().route("/sync", sync)));
    let _pipes = net::connect(&server.to_string()).await.unwrap();
    let client = told.recv().await.unwrap();
    assert_eq!(nodelay_between(server, client), vec![true, true], "both ends turn off Nagle's algorithm");
}
