//! End-to-end tests: scripts run through the parser, evaluator and applets against a real
//! temporary directory, with stdio captured.

use crate::io::{Io, Sink, Source};
use crate::run_applet;
use crate::shell::Shell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// A fresh directory per test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "busybox-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_argv(argv: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut shell = Shell::new(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let (stdout, out) = Sink::buffer();
    let (stderr, err) = Sink::buffer();
    let io = Io {
        stdin: Source::Bytes(std::rc::Rc::new(stdin.as_bytes().to_vec())),
        stdout,
        stderr,
    };
    let status = run_applet(
        &mut shell,
        argv.iter().map(|a| a.to_string()).collect(),
        &io,
    );
    let text = |buffer: std::rc::Rc<std::cell::RefCell<Vec<u8>>>| {
        String::from_utf8_lossy(&buffer.take()).into_owned()
    };
    Run {
        status,
        stdout: text(out),
        stderr: text(err),
    }
}

fn sh(script: &str) -> Run {
    run_argv(
        &["/bin/sh", "-c", script],
        &[("HOSTNAME", "web-0"), ("GREETING", "hello world")],
        "",
    )
}

#[test]
fn kubernetes_liveness_probe_example() {
    let dir = TempDir::new();
    let healthy = dir.path("healthy");
    let script = format!("touch {healthy}; sleep 0.01; cat {healthy}; rm -f {healthy}; sleep 0");
    let run = sh(&script);
    assert_eq!(
        (run.status, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    assert!(!std::path::Path::new(&healthy).exists());

    let probe = run_argv(&["cat", &healthy], &[], "");
    assert_eq!(probe.status, 1);
    assert_eq!(
        probe.stderr,
        format!("cat: can't open '{healthy}': No such file or directory\n")
    );
}

#[test]
fn status_and_and_or_lists() {
    assert_eq!(sh("true && echo yes || echo no").stdout, "yes\n");
    assert_eq!(sh("false && echo yes || echo no").stdout, "no\n");
    assert_eq!(sh("false; echo $?; true; echo $?").stdout, "1\n0\n");
    assert_eq!(sh("false").status, 1);
    assert_eq!(sh("exit 7; echo unreachable").status, 7);
    assert_eq!(sh("echo a\n# comment\necho b # trailing").stdout, "a\nb\n");
    assert_eq!(sh("! false").status, 0);
}

#[test]
fn quoting_and_expansion() {
    assert_eq!(
        sh("echo '$GREETING' \"$GREETING\" ${HOSTNAME}").stdout,
        "$GREETING hello world web-0\n"
    );
    assert_eq!(
        sh("X=a; Y=\"$X b\"; echo \"[$Y]\" [${Z:-none}] [${#Y}]").stdout,
        "[a b] [none] [3]\n"
    );
    assert_eq!(
        sh("for w in $GREETING; do echo \"<$w>\"; done").stdout,
        "<hello>\n<world>\n"
    );
    assert_eq!(
        sh("echo \"$(echo inner)\" `echo tick` $((2 * (3 + 4)))").stdout,
        "inner tick 14\n"
    );
    assert_eq!(
        sh("echo -n a; echo b; echo -e 'x\\ty'").stdout,
        "ab\nx\ty\n"
    );
    assert_eq!(sh("A=1 env | grep '^A='").stdout, "A=1\n");
    assert_eq!(
        sh("A=1 env | grep -c '^A='; echo ${A:-unset}").stdout,
        "1\nunset\n"
    );
}

#[test]
fn redirections_create_append_and_merge() {
    let dir = TempDir::new();
    let log = dir.path("log");
    let run = sh(&format!("echo one > {log}; echo two >> {log}; cat missing 2>/dev/null; cat missing 2>>{log}; cat {log}"));
    assert_eq!(
        run.stdout,
        "one\ntwo\ncat: can't open 'missing': No such file or directory\n"
    );
    assert_eq!(run.stderr, "");
    let run = sh("cat missing 2>&1");
    assert_eq!(
        run.stdout,
        "cat: can't open 'missing': No such file or directory\n"
    );
    let run = sh("echo x > /nodir/file");
    assert_eq!(
        (run.status, run.stderr.as_str()),
        (1, "sh: can't create /nodir/file: nonexistent directory\n")
    );
    let run = sh(&format!(
        "echo in > {log}; read LINE < {log}; echo got $LINE"
    ));
    assert_eq!(run.stdout, "got in\n");
}

#[test]
fn compound_commands_run() {
    assert_eq!(
        sh("i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo $i; done").stdout,
        "1\n2\n3\n"
    );
    assert_eq!(
        sh("until true; do echo never; done; echo end").stdout,
        "end\n"
    );
    assert_eq!(
        sh("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done").stdout,
        "1\n2\n"
    );
    assert_eq!(
        sh("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done").stdout,
        "1\n3\n"
    );
    assert_eq!(
        sh("if [ -z \"\" ]; then echo empty; else echo full; fi").stdout,
        "empty\n"
    );
    assert_eq!(
        sh("if false; then echo a; elif true; then echo b; fi").stdout,
        "b\n"
    );
    assert_eq!(
        sh("(exit 4); echo $?; { echo grouped; }").stdout,
        "4\ngrouped\n"
    );
    assert_eq!(sh("echo a b c | wc -w").stdout, "3\n");
    assert_eq!(
        sh("set -e; echo before; false; echo after").stdout,
        "before\n"
    );
    assert_eq!(
        sh("set -e; false || echo rescued; if false; then :; fi; echo after").stdout,
        "rescued\nafter\n"
    );
}

#[test]
fn file_applets_and_their_errors() {
    let dir = TempDir::new();
    let base = dir.path("");
    let run = sh(&format!(
        "cd {base} && mkdir -p a/b && touch a/f && ls a && pwd"
    ));
    assert_eq!(
        run.stdout,
        format!("b\nf\n{}\n", base.trim_end_matches('/'))
    );
    let run = sh(&format!("rm {base}/missing"));
    assert_eq!(
        (run.status, run.stderr),
        (
            1,
            format!("rm: can't remove '{base}/missing': No such file or directory\n")
        )
    );
    let run = sh(&format!("rm {base}/a"));
    assert_eq!(run.stderr, format!("rm: '{base}/a' is a directory\n"));
    assert_eq!(
        sh(&format!("rm -r {base}/a && test -e {base}/a || echo gone")).stdout,
        "gone\n"
    );
    let run = sh(&format!("touch {base}/nodir/x"));
    assert_eq!(
        (run.status, run.stderr),
        (
            1,
            format!("touch: {base}/nodir/x: No such file or directory\n")
        )
    );
    let run = sh(&format!("mkdir {base}/x/y"));
    assert_eq!(
        run.stderr,
        format!("mkdir: can't create directory '{base}/x/y': No such file or directory\n")
    );
    let run = sh(&format!("printf 'a\\nb\\nc\\n' > {base}/f; head -n 2 {base}/f; tail -n 1 {base}/f; wc -l < {base}/f"));
    assert_eq!(run.stdout, "a\nb\nc\n3\n");
}

#[test]
fn test_applet_operators() {
    let dir = TempDir::new();
    let file = dir.path("f");
    std::fs::write(&file, "x").expect("write");
    let dir_path = dir.path("");
    let check = |expr: &str| sh(&format!("[ {expr} ]")).status;
    assert_eq!(check(&format!("-f {file}")), 0);
    assert_eq!(check(&format!("-d {file}")), 1);
    assert_eq!(check(&format!("-d {dir_path}")), 0);
    assert_eq!(check(&format!("-e {file}.no")), 1);
    assert_eq!(check("-n abc"), 0);
    assert_eq!(check("-z abc"), 1);
    assert_eq!(check("a = a"), 0);
    assert_eq!(check("a != a"), 1);
    assert_eq!(check("3 -gt 2 -a 1 -eq 1"), 0);
    assert_eq!(check("! 3 -lt 2"), 0);
    assert_eq!(check("x -eq 1"), 2);
    assert_eq!(sh("[ 1 = 1").stderr, "[: missing ]\n");
    assert_eq!(sh("test -n ''").status, 1);
}

#[test]
fn dispatch_by_name_and_unknown_commands() {
    assert_eq!(run_argv(&["busybox", "echo", "hi"], &[], "").stdout, "hi\n");
    assert_eq!(run_argv(&["/bin/echo", "hi"], &[], "").stdout, "hi\n");
    assert_eq!(
        run_argv(&["hostname"], &[("HOSTNAME", "pod-a")], "").stdout,
        "pod-a\n"
    );
    assert_eq!(
        run_argv(&["sh"], &[], "echo from stdin").stdout,
        "from stdin\n"
    );
    assert_eq!(
        run_argv(&["sh", "-c", "echo $0 $1", "name", "one"], &[], "").stdout,
        "name one\n"
    );
    assert_eq!(run_argv(&["env"], &[("A", "1")], "").stdout, "A=1\n");
    let run = sh("frobnicate --now");
    assert_eq!(
        (run.status, run.stderr.as_str()),
        (127, "sh: frobnicate: not found\n")
    );
    assert_eq!(sh("echo 'unterminated").status, 2);
}

#[test]
fn sleep_waits_about_as_long_as_asked() {
    let started = Instant::now();
    assert_eq!(sh("sleep 0.2").status, 0);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(sh("sleep 1x").stderr, "sleep: invalid number '1x'\n");
}

#[test]
fn date_formats_in_utc() {
    use super::time::format_time;
    assert_eq!(
        format_time("%a %b %e %H:%M:%S %Z %Y", 1136214245),
        "Mon Jan  2 15:04:05 UTC 2006"
    );
    assert_eq!(format_time("%F %T %s", 0), "1970-01-01 00:00:00 0");
    assert_eq!(format_time("%F %j", 951782400), "2000-02-29 060");
    assert_eq!(sh("date +%Y | wc -c").stdout, "5\n");
}

#[test]
fn grep_patterns() {
    use super::text::pattern_matches;
    assert!(pattern_matches("^ok$", "ok"));
    assert!(!pattern_matches("^ok$", "okay"));
    assert!(pattern_matches("o.*y", "xokay"));
    assert!(pattern_matches("[0-9][0-9]*", "v12"));
    assert!(!pattern_matches("[^a-z]", "abc"));
    assert_eq!(sh("printf 'a\\nB\\n' | grep -i b").stdout, "B\n");
    assert_eq!(sh("echo x | grep -q y").status, 1);
}

#[test]
fn wget_fetches_over_http_and_reports_refused_connections() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut request = [0u8; 1024];
        let read = stream.read(&mut request).expect("read");
        let request = String::from_utf8_lossy(&request[..read]).into_owned();
        stream
            .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n")
            .expect("write");
        request
    });
    let run = run_argv(
        &[
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://127.0.0.1:{port}/healthz"),
        ],
        &[],
        "",
    );
    assert_eq!(
        (run.status, run.stdout.as_str(), run.stderr.as_str()),
        (0, "hello\n", "")
    );
    assert!(server
        .join()
        .expect("server")
        .starts_with("GET /healthz HTTP/1.0\r\n"));

    // The listener is gone, so the port refuses connections.
    let run = run_argv(
        &[
            "wget",
            "-q",
            "-O",
            "-",
            &format!("http://127.0.0.1:{port}/"),
        ],
        &[],
        "",
    );
    assert_eq!(run.status, 1);
    assert_eq!(
        run.stderr,
        "wget: can't connect to remote host (127.0.0.1): Connection refused\n"
    );
    assert_eq!(
        run_argv(&["nc", "-z", "127.0.0.1", &port.to_string()], &[], "").status,
        1
    );
}
