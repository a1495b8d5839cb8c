//! `agnhost pause` (test/images/agnhost/pause/pause.go): prints `Paused`, waits for the stop
//! request (polled every 100 ms), optionally sleeps `--delay-shutdown` seconds, prints
//! `exiting 2` and exits 2 as Go does on SIGTERM (WASI 0.2 reports any non-zero code as 1).

use crate::flags::{Kind, Spec};
use std::io::Write;
use std::time::Duration;

pub const FLAGS: [Spec; 1] = [Spec {
    name: "delay-shutdown",
    kind: Kind::Int,
    default: "0",
}];

const POLL: Duration = Duration::from_millis(100);
/// pause.go's code for SIGTERM.
pub const SIGTERM_EXIT_CODE: i32 = 2;

pub fn run(delay_shutdown_secs: i64, stop_requested: &dyn Fn() -> bool) -> i32 {
    println!("Paused");
    while !stop_requested() {
        std::thread::sleep(POLL);
    }
    if delay_shutdown_secs > 0 {
        print!("Sleeping {delay_shutdown_secs} seconds before exit ...");
        let _ = std::io::stdout().flush();
        std::thread::sleep(Duration::from_secs(delay_shutdown_secs as u64));
    }
    println!("exiting {SIGTERM_EXIT_CODE}");
    SIGTERM_EXIT_CODE
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn returns_the_sigterm_code_once_asked_to_stop() {
        let polls = Cell::new(0);
        let code = run(0, &|| {
            polls.set(polls.get() + 1);
            polls.get() >= 3
        });
        assert_eq!(code, 2);
        assert_eq!(polls.get(), 3);
    }
}
