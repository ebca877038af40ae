//! What a session holds in memory: a community node keeps one per connected peer, and holds
//! a thousand festivals (issue 15).

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use support::Net;
use sync::{Session, SessionConfig};

/// Counts the bytes allocated and not yet freed, by everything in this test binary.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes that dropping a node's session frees, after it served a peer that wants one of the
/// node's `festivals` (a browser on a community node) through its handshake and catch-up.
/// With `shared`, every session of the node is given one list, as a hub gives it.
fn session_bytes(festivals: usize, shared: bool) -> isize {
    // The count is of the whole process: one measure at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Net::new(7);
    let node = net.node(1, &[]);
    let festival = net.create_festival(node, "Shared", None);
    for i in 0..festivals - 1 {
        let mut id = [0u8; 64];
        id[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        id[8] = 0xfe;
        net.nodes[node].festivals.push(model::Id(bamboo::Hash(id)));
    }
    let mut list = net.nodes[node].festivals.clone();
    list.sort_unstable();
    let list: Arc<[model::Id]> = list.into();
    if shared {
        net.nodes[node].shared = Some(list.clone());
    }
    let peer = net.node(2, &[festival]);
    net.write(node, festival, 3);
    let link = net.connect(node, peer);
    net.run();
    let of_festival = |inventory: Vec<(model::Id, sync::LogHeight)>| {
        inventory.into_iter().filter(|(f, _)| *f == festival).collect::<Vec<_>>()
    };
    assert_eq!(net.inventory(peer), of_festival(net.inventory(node)));
    // Only the session's own memory: the test net's record of the messages goes first.
    for side in 0..2 {
        net.links[link].sent[side] = Vec::new();
        net.links[link].seen[side] = Vec::new();
    }
    let spare = Session::new(net.nodes[peer].writer.keypair().clone(), SessionConfig::new([]), [0; 32]);
    let session = std::mem::replace(&mut net.links[link].sessions[0], spare);
    let before = live();
    drop(session);
    let held = before - live();
    println!("a session of a node of {festivals} festivals (shared list: {shared}) holds {held} bytes");
    held
}

// Scenario: a node holding 1,000 festivals serves a peer that wants one of them; its session
// is given a list of its own.
// Assert: the session holds at most 120 bytes per festival of the node (what dropping it
// frees): it held 454 KB, 87 KB since the festivals and tokens are kept in `Ours`.
#[test]
fn a_session_holds_little_per_festival_of_its_node() {
    let held = session_bytes(1_000, false);
    assert!(held <= 1_000 * 120, "{held} bytes");
}

// Scenario: as above, the node's sessions given one list, as the hub gives it.
// Assert: the session holds at most 30 bytes per festival: the list is not its own, only the
// index of the peer's tokens (16 bytes a festival) is.
#[test]
fn sessions_given_one_list_hold_it_once() {
    let held = session_bytes(1_000, true);
    assert!(held <= 1_000 * 30, "{held} bytes");
}
