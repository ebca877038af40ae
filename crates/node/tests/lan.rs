//! LAN discovery with real processes in two network namespaces joined by a veth pair:
//! a festival reaches a node that knows only its id, found by mDNS. Needs root (to make
//! the namespaces); as another user the test says so and does nothing.

mod support;

use std::process::{Child, Command, Stdio};

use support::{BIN, Person, eventually, s};

struct Namespaces {
    names: [String; 2],
    children: Vec<Child>,
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in &self.names {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("iproute2's ip");
    assert!(status.success(), "ip {args:?} failed");
}

#[test]
fn nodes_on_a_lan_find_each_other_by_mdns() {
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if !root {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    // Scenario: Ana's node in namespace A holds a festival; Bo's node in namespace B joined
    // it by id alone (an invite without peers). Assert: within seconds Bo's node holds it.
    let tag = std::process::id() % 100_000;
    let ns = Namespaces { names: [format!("pfa{tag}"), format!("pfb{tag}")], children: Vec::new() };
    let (va, vb) = (format!("pva{tag}"), format!("pvb{tag}"));
    ip(&["netns", "add", &ns.names[0]]);
    ip(&["netns", "add", &ns.names[1]]);
    ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb]);
    ip(&["link", "set", &va, "netns", &ns.names[0]]);
    ip(&["link", "set", &vb, "netns", &ns.names[1]]);
    ip(&["-n", &ns.names[0], "addr", "add", "10.213.9.1/24", "dev", &va]);
    ip(&["-n", &ns.names[1], "addr", "add", "10.213.9.2/24", "dev", &vb]);
    for (n, dev) in [(&ns.names[0], &va), (&ns.names[1], &vb)] {
        ip(&["-n", n, "link", "set", dev, "up"]);
        ip(&["-n", n, "link", "set", "lo", "up"]);
    }
    let mut ns = ns;
    let ana = Person::new("Ana");
    let bo = Person::new("Bo");
    let festival = s(&ana.json(&["festival", "create", "--name", "Field"])["id"]);
    let out = bo.ok(&["join", &format!("pandafest://join?festival={festival}")]);
    assert!(out.contains("no peer"), "{out}");
    for (p, n, addr) in [(&ana, &ns.names[0], "10.213.9.1:7878"), (&bo, &ns.names[1], "10.213.9.2:7878")] {
        let child = Command::new("ip")
            .args(["netns", "exec", n, BIN, "--data-dir"])
            .arg(p.path())
            .args(["serve", "--listen", addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        ns.children.push(child);
    }
    eventually(30, "Bo's node holds the festival found by mDNS", || {
        bo.json(&["festival", "list"]).as_array().is_some_and(|l| l.iter().any(|f| f["id"] == festival.as_str()))
    });
}
