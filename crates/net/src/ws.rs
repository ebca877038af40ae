//! Sessions over WebSocket: dialing out, one-shot syncs, and staying connected.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub use service::invite::{SYNC_PATH, ws_url as sync_url};

use crate::host::{ConnectionInfo, Direction, NetError, Summary, SyncContext, drive};

/// A WebSocket sends a ping after this long without sending anything…
pub const PING_INTERVAL: Duration = Duration::from_secs(20);
/// …and is closed after this long without receiving anything (a ping's pong included).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Dials a peer's sync endpoint; returns the channels [`drive`] runs on.
pub async fn connect(address: &str) -> Result<(mpsc::Sender<Vec<u8>>, mpsc::Receiver<Vec<u8>>), NetError> {
    let url = sync_url(address);
    // Without TCP_NODELAY a message sent while the previous one is unacknowledged waits for
    // the peer's delayed ACK (40 ms on Linux): a handshake paid that several times.
    // tungstenite writes each message in one piece, so this adds no tiny packets.
    let dial = tokio_tungstenite::connect_async_with_config(url.as_str(), None, true);
    let (ws, _) = tokio::time::timeout(Duration::from_secs(10), dial)
        .await
        .map_err(|_| NetError::Connect { address: url.clone(), reason: "no answer within 10 s".into() })?
        .map_err(|e| NetError::Connect { address: url.clone(), reason: e.to_string() })?;
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    let (in_tx, in_rx) = mpsc::channel::<Vec<u8>>(64);
    tokio::spawn(async move {
        loop {
            let message = match tokio::time::timeout(PING_INTERVAL, out_rx.recv()).await {
                Ok(Some(bytes)) => WsMessage::Binary(bytes.into()),
                Ok(None) => break,
                Err(_) => WsMessage::Ping(Vec::new().into()),
            };
            if sink.send(message).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        // A peer that sends nothing, not even a pong, for IDLE_TIMEOUT is gone.
        while let Ok(Some(Ok(message))) = tokio::time::timeout(IDLE_TIMEOUT, stream.next()).await {
            let bytes = match message {
                WsMessage::Binary(b) => b.to_vec(),
                WsMessage::Close(_) => break,
                // Text is not part of the protocol: the session refuses it as malformed.
                WsMessage::Text(t) => t.as_bytes().to_vec(),
                _ => continue,
            };
            if in_tx.send(bytes).await.is_err() {
                break;
            }
        }
    });
    Ok((out_tx, in_rx))
}

/// Syncs once with the peer at `address`: catches up every shared festival both ways,
/// then closes. `progress` hears (stored, announced).
pub async fn sync_once(
    ctx: SyncContext,
    address: &str,
    progress: impl FnMut(u64, u64) + Send,
) -> Result<Summary, NetError> {
    let (tx, rx) = connect(address).await?;
    let info = ConnectionInfo { address: sync_url(address), direction: Direction::Outgoing, once: true };
    drive(&ctx, tx, rx, info, progress).await
}
