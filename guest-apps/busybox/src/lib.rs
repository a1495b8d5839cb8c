//! A small busybox: `sh` (a POSIX-ish subset) plus the applets pod manifests commonly use.
//! Dispatch is on the basename of argv[0], so `/bin/sh -c …`, `cat …` and `busybox cat …` all work.

pub mod applets;
pub mod arith;
pub mod io;
pub mod lexer;
pub mod parser;
pub mod shell;

use io::Io;
use shell::Shell;

/// Runs the program named by `args[0]` with the process environment and stdio; returns the
/// exit status.
pub fn run_main(args: Vec<String>) -> i32 {
    let mut shell = Shell::new(std::env::vars());
    let io = Io::process();
    run_applet(&mut shell, args, &io)
}

/// Runs `args` as busybox would when invoked under the name `args[0]`.
pub fn run_applet(shell: &mut Shell, mut args: Vec<String>, io: &Io) -> i32 {
    let Some(first) = args.first() else { return 1 };
    let name = first.rsplit('/').next().unwrap_or(first).to_string();
    if name == "busybox" {
        args.remove(0);
        if args
            .first()
            .is_none_or(|arg| arg == "--list" || arg == "--help")
        {
            let mut io = io.clone();
            applets::list(&mut io);
            return 0;
        }
        return run_applet(shell, args, io);
    }
    args[0] = name;
    if applets::find(&args[0]).is_none() {
        io.clone()
            .error(format_args!("{}: applet not found", args[0]));
        return 127;
    }
    match shell.run_command(&args, io) {
        Ok(status) | Err(shell::Flow::Exit(status)) => status,
        Err(_) => 0,
    }
}
