//! This node's reachable addresses, for invite links (the links themselves are
//! `service::invite`, shared with the browser peer).

/// Addresses at which a node listening on `listen` can be reached by others: the
/// address itself, or for an unspecified one (0.0.0.0) the machine's primary address,
/// found without sending anything.
pub fn reachable_addresses(listen: std::net::SocketAddr) -> Vec<String> {
    if !listen.ip().is_unspecified() {
        return vec![format!("ws://{listen}/sync")];
    }
    let primary = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip());
    match primary {
        Ok(ip) if !ip.is_unspecified() => vec![format!("ws://{ip}:{}/sync", listen.port())],
        _ => Vec::new(),
    }
}
