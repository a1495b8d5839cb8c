//! A network namespace joined to the host by a veth pair, for partition tests: a process
//! started inside reaches the host only through `host_address()`, and `partition()` cuts that
//! path with iptables inside the namespace (or by taking the link down where iptables is
//! missing) until `heal()`.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

pub struct NetworkNamespace {
    pub name: String,
    host_link: String,
    namespace_link: String,
    subnet: u8,
    cut: Option<Cut>,
}

#[derive(Clone, Copy, Debug)]
enum Cut {
    Iptables,
    LinkDown,
}

impl NetworkNamespace {
    /// A new namespace, or `None` (with the reason printed) where namespaces cannot be made:
    /// not root, no `ip`, or a kernel/sandbox that refuses.
    pub fn create(tag: u8) -> Option<NetworkNamespace> {
        let id = std::process::id() % 10_000;
        let subnet = (std::process::id() % 200) as u8 + tag;
        let namespace = NetworkNamespace {
            name: format!("wasmpod-{id}-{tag}"),
            host_link: format!("wph{id}t{tag}"),
            namespace_link: format!("wpn{id}t{tag}"),
            subnet,
            cut: None,
        };
        let steps: Vec<Vec<String>> = vec![
            words(&format!("ip netns add {}", namespace.name)),
            words(&format!(
                "ip link add {} type veth peer name {}",
                namespace.host_link, namespace.namespace_link
            )),
            words(&format!(
                "ip link set {} netns {}",
                namespace.namespace_link, namespace.name
            )),
            words(&format!(
                "ip addr add {}/30 dev {}",
                namespace.host_address(),
                namespace.host_link
            )),
            words(&format!("ip link set {} up", namespace.host_link)),
            words(&format!(
                "ip -n {} addr add {}/30 dev {}",
                namespace.name,
                namespace.inner_address(),
                namespace.namespace_link
            )),
            words(&format!(
                "ip -n {} link set {} up",
                namespace.name, namespace.namespace_link
            )),
            words(&format!("ip -n {} link set lo up", namespace.name)),
        ];
        for step in steps {
            if let Err(error) = run(&step) {
                eprintln!("skipping: cannot make a network namespace ({error})");
                return None;
            }
        }
        Some(namespace)
    }

    /// The host's end of the veth pair: what processes inside use to reach host services.
    pub fn host_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 251, self.subnet, 1)
    }

    pub fn inner_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 251, self.subnet, 2)
    }

    /// A command that runs `program` inside the namespace (`ip netns exec` keeps the pid, so
    /// signals reach the program itself).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Drops every packet between the namespace and the host. Returns how.
    pub fn partition(&mut self) -> &'static str {
        let host = self.host_address().to_string();
        let iptables = [
            vec!["-A", "OUTPUT", "-d", &host, "-j", "DROP"],
            vec!["-A", "INPUT", "-s", &host, "-j", "DROP"],
        ];
        if iptables.iter().all(|rule| self.iptables(rule).is_ok()) {
            self.cut = Some(Cut::Iptables);
            return "iptables DROP";
        }
        let _ = self.iptables(&["-F", "OUTPUT"]);
        let _ = self.iptables(&["-F", "INPUT"]);
        run(&words(&format!(
            "ip -n {} link set {} down",
            self.name, self.namespace_link
        )))
        .expect("take the namespace's link down");
        self.cut = Some(Cut::LinkDown);
        "link down"
    }

    pub fn heal(&mut self) {
        match self.cut.take() {
            Some(Cut::Iptables) => {
                let host = self.host_address().to_string();
                self.iptables(&["-D", "OUTPUT", "-d", &host, "-j", "DROP"])
                    .expect("remove the OUTPUT rule");
                self.iptables(&["-D", "INPUT", "-s", &host, "-j", "DROP"])
                    .expect("remove the INPUT rule");
            }
            Some(Cut::LinkDown) => run(&words(&format!(
                "ip -n {} link set {} up",
                self.name, self.namespace_link
            )))
            .expect("bring the namespace's link up"),
            None => {}
        }
    }

    fn iptables(&self, rule: &[&str]) -> Result<(), String> {
        let mut args = vec!["netns", "exec", &self.name, "iptables", "-w"];
        args.extend_from_slice(rule);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut full = vec!["ip".to_string()];
        full.extend(args);
        run(&full)
    }
}

impl Drop for NetworkNamespace {
    fn drop(&mut self) {
        // Deleting the namespace destroys its end of the veth pair, and with it the host end.
        let _ = run(&words(&format!("ip netns del {}", self.name)));
        let _ = run(&words(&format!("ip link del {}", self.host_link)));
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn run(argv: &[String]) -> Result<(), String> {
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("{}: {error}", argv.join(" ")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            argv.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
