//! Applets: each gets the shell (for variables and cwd), its argv (argv[0] = applet name) and
//! its stdio, and returns an exit status.

mod files;
mod net;
mod shell_builtins;
mod test;
mod text;
mod time;

use crate::io::Io;
use crate::shell::Shell;
use std::io::Write;

pub type Applet = fn(&mut Shell, &[String], &mut Io) -> i32;

const APPLETS: &[(&str, Applet)] = &[
    ("[", test::bracket),
    (":", shell_builtins::succeed),
    ("ash", shell_builtins::sh),
    ("basename", text::basename),
    ("cat", files::cat),
    ("cd", shell_builtins::cd),
    ("cp", files::cp),
    ("date", time::date),
    ("dirname", text::dirname),
    ("echo", text::echo),
    ("env", shell_builtins::env),
    ("export", shell_builtins::export),
    ("false", shell_builtins::fail),
    ("grep", text::grep),
    ("head", files::head),
    ("hostname", shell_builtins::hostname),
    ("id", shell_builtins::id),
    ("ls", files::ls),
    ("mkdir", files::mkdir),
    ("mv", files::mv),
    ("nc", net::nc),
    ("printenv", shell_builtins::printenv),
    ("printf", text::printf),
    ("pwd", shell_builtins::pwd),
    ("read", shell_builtins::read),
    ("rm", files::rm),
    ("rmdir", files::rmdir),
    ("seq", text::seq),
    ("set", shell_builtins::set),
    ("sh", shell_builtins::sh),
    ("shift", shell_builtins::shift),
    ("sleep", time::sleep),
    ("tail", files::tail),
    ("tee", files::tee),
    ("test", test::test),
    ("touch", files::touch),
    ("trap", shell_builtins::succeed),
    ("true", shell_builtins::succeed),
    ("ulimit", shell_builtins::succeed),
    ("umask", shell_builtins::succeed),
    ("uname", shell_builtins::uname),
    ("unset", shell_builtins::unset),
    ("wait", shell_builtins::succeed),
    ("wc", files::wc),
    ("wget", net::wget),
    ("whoami", shell_builtins::whoami),
];

/// The applet called `name`; a path in a standard bin directory (`/bin/cat`) names its basename.
pub fn find(name: &str) -> Option<Applet> {
    let name = match name.rsplit_once('/') {
        Some(("/bin" | "/usr/bin" | "/sbin" | "/usr/sbin", base)) => base,
        Some(_) => return None,
        None => name,
    };
    APPLETS
        .iter()
        .find(|(applet, _)| *applet == name)
        .map(|(_, applet)| *applet)
}

pub fn list(io: &mut Io) {
    for (name, _) in APPLETS {
        let _ = writeln!(io.stdout, "{name}");
    }
}

/// Splits leading `-abc` options (letters from `known`) from operands; `--` ends options.
/// An unknown letter is returned as the error.
pub(crate) fn options(args: &[String], known: &str) -> Result<(String, Vec<String>), char> {
    let mut flags = String::new();
    let mut rest = args.iter();
    let mut operands = Vec::new();
    for arg in rest.by_ref() {
        if arg == "--" {
            break;
        }
        match arg.strip_prefix('-') {
            Some(letters) if !letters.is_empty() => {
                if let Some(bad) = letters.chars().find(|c| !known.contains(*c)) {
                    return Err(bad);
                }
                flags.push_str(letters);
            }
            _ => {
                operands.push(arg.clone());
                break;
            }
        }
    }
    operands.extend(rest.cloned());
    Ok((flags, operands))
}

/// Reports an unknown option busybox-style and returns the usage status.
pub(crate) fn bad_option(io: &mut Io, applet: &str, option: char) -> i32 {
    io.error(format_args!("{applet}: invalid option -- '{option}'"));
    1
}

#[cfg(test)]
mod tests;
