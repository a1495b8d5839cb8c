//! Builtins that read or change shell state: `sh`, `cd`, `export`, `set`, `env`, …

use super::options;
use crate::io::{error_text, Io};
use crate::parser::is_name;
use crate::shell::Shell;
use std::io::{BufRead, Write};

pub fn succeed(_: &mut Shell, _: &[String], _: &mut Io) -> i32 {
    0
}

pub fn fail(_: &mut Shell, _: &[String], _: &mut Io) -> i32 {
    1
}

/// `sh [-ex] -c script [name [args…]]`, `sh file [args…]`, or a script on stdin.
pub fn sh(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut child = Shell::new(shell.environment());
    child.cwd = shell.cwd.clone();
    let mut command_mode = false;
    let mut rest = argv[1..].iter().peekable();
    while let Some(arg) = rest.peek() {
        let Some(letters) = arg.strip_prefix('-').filter(|letters| !letters.is_empty()) else {
            break;
        };
        rest.next();
        if letters == "-" {
            break;
        }
        for letter in letters.chars() {
            match letter {
                'c' => command_mode = true,
                'e' => child.errexit = true,
                // Tracing, nounset, login and interactive flags change nothing that matters here.
                'x' | 'u' | 'l' | 'i' | 's' | 'o' => {}
                other => {
                    io.error(format_args!("sh: -{other}: invalid option"));
                    return 2;
                }
            }
        }
    }
    let script = if command_mode {
        let Some(script) = rest.next() else {
            io.error(format_args!("sh: -c requires an argument"));
            return 2;
        };
        if let Some(name) = rest.next() {
            child.script_name = name.clone();
        }
        script.clone()
    } else if let Some(file) = rest.next() {
        child.script_name = file.clone();
        match std::fs::read_to_string(shell.resolve(file)) {
            Ok(script) => script,
            Err(error) => {
                io.error(format_args!(
                    "sh: can't open '{file}': {}",
                    error_text(&error)
                ));
                return 2;
            }
        }
    } else {
        match io.stdin.read_all() {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        }
    };
    child.positional = rest.cloned().collect();
    child.run_script(&script, io)
}

pub fn cd(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let target = match argv.get(1).map(String::as_str) {
        Some("-") => shell.var("OLDPWD").unwrap_or_else(|| "/".into()),
        Some(dir) => dir.to_string(),
        None => shell.var("HOME").unwrap_or_else(|| "/".into()),
    };
    let resolved = shell.resolve(&target);
    match std::fs::metadata(&resolved) {
        Ok(meta) if meta.is_dir() => {
            let old = shell.cwd.to_string_lossy().into_owned();
            shell.set_var("OLDPWD", old);
            shell.cwd = resolved;
            shell.set_var("PWD", shell.cwd.to_string_lossy().into_owned());
            0
        }
        Ok(_) => {
            io.error(format_args!(
                "sh: cd: can't cd to {target}: Not a directory"
            ));
            2
        }
        Err(error) => {
            io.error(format_args!(
                "sh: cd: can't cd to {target}: {}",
                error_text(&error)
            ));
            2
        }
    }
}

pub fn pwd(shell: &mut Shell, _: &[String], io: &mut Io) -> i32 {
    let _ = writeln!(io.stdout, "{}", shell.cwd.display());
    0
}

/// `export NAME[=value]…`; without names, lists exported variables.
pub fn export(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let names: Vec<&String> = argv[1..].iter().filter(|arg| *arg != "-p").collect();
    if names.is_empty() {
        for (name, value) in shell.environment() {
            let _ = writeln!(
                io.stdout,
                "export {name}='{}'",
                value.replace('\'', "'\\''")
            );
        }
        return 0;
    }
    let mut status = 0;
    for arg in names {
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg.as_str(), None),
        };
        if !is_name(name) {
            io.error(format_args!("sh: export: bad variable name '{arg}'"));
            status = 2;
            continue;
        }
        if let Some(value) = value {
            shell.set_var(name, value.to_string());
        }
        shell.export(name);
    }
    status
}

pub fn unset(shell: &mut Shell, argv: &[String], _: &mut Io) -> i32 {
    for name in argv[1..].iter().filter(|arg| !arg.starts_with('-')) {
        shell.unset(name);
    }
    0
}

/// `set -e`/`+e` (others accepted and ignored), `set -- args` for the positional parameters.
pub fn set(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            shell.positional = args.cloned().collect();
            return 0;
        }
        let (enable, letters) = match (arg.strip_prefix('-'), arg.strip_prefix('+')) {
            (Some(letters), _) => (true, letters),
            (_, Some(letters)) => (false, letters),
            _ => {
                shell.positional = std::iter::once(arg).chain(args).cloned().collect();
                return 0;
            }
        };
        if letters == "o" {
            args.next();
            continue;
        }
        if letters.contains('e') {
            shell.errexit = enable;
        }
    }
    if argv.len() == 1 {
        for (name, value) in shell.environment() {
            let _ = writeln!(io.stdout, "{name}='{value}'");
        }
    }
    0
}

pub fn shift(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let count: usize = match argv.get(1).map(|n| n.parse()) {
        None => 1,
        Some(Ok(count)) => count,
        Some(Err(_)) => {
            io.error(format_args!("sh: shift: Illegal number: {}", argv[1]));
            return 2;
        }
    };
    if count > shell.positional.len() {
        return 1;
    }
    shell.positional.drain(..count);
    0
}

/// `read [-r] NAME…`: one line from stdin, split on whitespace; the last name takes the rest.
pub fn read(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let names: Vec<&String> = argv[1..]
        .iter()
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let line = match &io.stdin {
        crate::io::Source::Stdin => {
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line),
            }
        }
        // Captured input (pipelines) is consumed whole: no shared offset to advance.
        crate::io::Source::Bytes(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            text.lines().next().map(str::to_string)
        }
    };
    let Some(line) = line else { return 1 };
    let line = line.trim_end_matches(['\n', '\r']);
    let default_name = String::from("REPLY");
    let names = if names.is_empty() {
        vec![&default_name]
    } else {
        names
    };
    let mut rest = line.trim_start();
    for (index, name) in names.iter().enumerate() {
        let value = if index + 1 == names.len() {
            std::mem::take(&mut rest).trim_end().to_string()
        } else {
            let end = rest.find([' ', '\t']).unwrap_or(rest.len());
            let (field, after) = rest.split_at(end);
            rest = after.trim_start();
            field.to_string()
        };
        shell.set_var(name, value);
    }
    0
}

/// `env [-i] [NAME=value…] [command args…]`.
pub fn env(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut args = argv[1..].iter().peekable();
    let mut vars = shell.environment();
    if args.peek().is_some_and(|arg| *arg == "-i" || *arg == "-") {
        args.next();
        vars.clear();
    }
    while let Some((name, value)) = args.peek().and_then(|arg| arg.split_once('=')) {
        vars.retain(|(existing, _)| existing != name);
        vars.push((name.to_string(), value.to_string()));
        args.next();
    }
    let command: Vec<String> = args.cloned().collect();
    if command.is_empty() {
        for (name, value) in vars {
            let _ = writeln!(io.stdout, "{name}={value}");
        }
        return 0;
    }
    let mut child = Shell::new(vars);
    child.cwd = shell.cwd.clone();
    match super::find(&command[0]) {
        Some(_) => match child.run_command(&command, io) {
            Ok(status) | Err(crate::shell::Flow::Exit(status)) => status,
            Err(_) => 0,
        },
        None => {
            io.error(format_args!(
                "env: can't execute '{}': No such file or directory",
                command[0]
            ));
            127
        }
    }
}

pub fn printenv(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    if argv.len() == 1 {
        for (name, value) in shell.environment() {
            let _ = writeln!(io.stdout, "{name}={value}");
        }
        return 0;
    }
    let mut status = 0;
    for name in &argv[1..] {
        match shell
            .environment()
            .into_iter()
            .find(|(existing, _)| existing == name)
        {
            Some((_, value)) => {
                let _ = writeln!(io.stdout, "{value}");
            }
            None => status = 1,
        }
    }
    status
}

/// The pod's hostname: Kubernetes puts it in `HOSTNAME`.
pub fn hostname(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let name = shell
        .var("HOSTNAME")
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let name = match options(&argv[1..], "sfid") {
        Ok((flags, _)) if flags.contains('s') => {
            name.split('.').next().unwrap_or_default().to_string()
        }
        _ => name,
    };
    let _ = writeln!(io.stdout, "{name}");
    0
}

pub fn uname(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let host = shell.var("HOSTNAME").unwrap_or_else(|| "localhost".into());
    let line = match options(&argv[1..], "asnrvmpio") {
        Ok((flags, _)) if flags.contains('a') => format!("Linux {host} 6.0.0 #1 wasm32 wasi"),
        Ok((flags, _)) if flags.contains('n') => host,
        Ok((flags, _)) if flags.contains('m') || flags.contains('p') => "wasm32".into(),
        _ => "Linux".into(),
    };
    let _ = writeln!(io.stdout, "{line}");
    0
}

pub fn id(_: &mut Shell, _: &[String], io: &mut Io) -> i32 {
    let _ = writeln!(io.stdout, "uid=0(root) gid=0(root) groups=0(root)");
    0
}

pub fn whoami(_: &mut Shell, _: &[String], io: &mut Io) -> i32 {
    let _ = writeln!(io.stdout, "root");
    0
}
