//! LAN discovery with mDNS: a serving node announces `_pandafest._tcp.local.` with its
//! sync port and key, and browses for others; each one found is reported once.

use std::collections::HashSet;

use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};
use tokio::sync::mpsc;

pub const SERVICE: &str = "_pandafest._tcp.local.";

/// A running announcement and browse; dropping it stops both.
pub struct Discovery {
    daemon: ServiceDaemon,
}

impl Drop for Discovery {
    fn drop(&mut self) {
        let _ = self.daemon.shutdown();
    }
}

/// Announces this node (key in hex, sync port) and reports `ws://` addresses of other
/// pandafest nodes on the local network.
pub fn start(key_hex: &str, port: u16) -> Result<(Discovery, mpsc::UnboundedReceiver<String>), String> {
    let daemon = ServiceDaemon::new().map_err(|e| format!("mDNS unavailable: {e}"))?;
    let instance = format!("pandafest-{}", &key_hex[..16]);
    let host = format!("{instance}.local.");
    let info = ServiceInfo::new(SERVICE, &instance, &host, "", port, [("key", key_hex)].as_slice())
        .map_err(|e| e.to_string())?
        .enable_addr_auto();
    daemon.register(info).map_err(|e| e.to_string())?;
    let browse = daemon.browse(SERVICE).map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::unbounded_channel();
    let me = key_hex.to_string();
    std::thread::spawn(move || {
        let mut seen = HashSet::new();
        while let Ok(event) = browse.recv() {
            if let ServiceEvent::ServiceResolved(info) = event {
                if info.get_property_val_str("key") == Some(me.as_str()) {
                    continue;
                }
                for addr in info.get_addresses() {
                    let url = match addr {
                        std::net::IpAddr::V4(v4) => format!("ws://{v4}:{}/sync", info.get_port()),
                        // Link-local addresses need a zone to be dialled; the IPv4 one serves.
                        std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => continue,
                        std::net::IpAddr::V6(v6) => format!("ws://[{v6}]:{}/sync", info.get_port()),
                    };
                    if seen.insert(url.clone()) && tx.send(url).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok((Discovery { daemon }, rx))
}
