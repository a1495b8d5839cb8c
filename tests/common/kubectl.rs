//! The real kubectl as a test oracle.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether a kubectl is on PATH (tests that need one say they skip).
pub fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipping: no kubectl on PATH");
    }
    found
}

/// The real kubectl with its own HOME and cache dir, against one kubeconfig.
pub struct Kubectl {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
}

impl Kubectl {
    pub fn run(&self, args: &[&str]) -> (bool, String) {
        let output = Command::new("kubectl")
            .env("HOME", &self.dir)
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .output()
            .expect("run kubectl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, text) = self.run(args);
        assert!(ok, "kubectl {args:?} failed: {text}");
        text
    }

    /// kubectl in the background, its stdout piped (killed when the test ends).
    pub fn spawn(&self, args: &[&str]) -> Child {
        Command::new("kubectl")
            .env("HOME", &self.dir)
            .env_remove("KUBECONFIG")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.join("cache"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubectl")
    }

    /// Polls `kubectl get pod NAME -o jsonpath=…` until `done` holds.
    pub fn wait_for(
        &self,
        pod: &str,
        path: &str,
        what: &str,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, value) = self.run(&["get", "pod", pod, "-o", &format!("jsonpath={path}")]);
            if done(value.trim()) {
                return value.trim().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{what}: last {path} was {value:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
