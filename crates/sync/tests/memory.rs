//! What a session holds in memory: a community node keeps one per connected peer, and holds
//! a thousand festivals (issue 15).

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
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

// Scenario: a node holding 1,000 festivals serves a peer that wants one of them (a browser on
// a community node); the session runs its handshake and catch-up to the end.
// Assert: the node's session then holds at most 120 bytes per festival of the node (what
// dropping it frees): it held 454 KB, 87 KB since the festivals and tokens are kept in `Ours`.
#[test]
fn a_session_holds_little_per_festival_of_its_node() {
    const FESTIVALS: usize = 1_000;
    let mut net = Net::new(7);
    let node = net.node(1, &[]);
    let shared = net.create_festival(node, "Shared", None);
    for i in 0..FESTIVALS - 1 {
        let mut id = [0u8; 64];
        id[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        id[8] = 0xfe;
        net.nodes[node].festivals.push(model::Id(bamboo::Hash(id)));
    }
    let peer = net.node(2, &[shared]);
    net.write(node, shared, 3);
    let link = net.connect(node, peer);
    net.run();
    assert_eq!(net.inventory(peer), net.inventory(node).into_iter().filter(|(f, _)| *f == shared).collect::<Vec<_>>());
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
    println!("a session of a node of {FESTIVALS} festivals holds {held} bytes");
    assert!(held <= (FESTIVALS * 120) as isize, "{held} bytes");
}
