//! File applets: `cat`, `touch`, `rm`, `mkdir`, `ls`, `cp`, `mv`, `head`, `tail`, `tee`, `wc`.

use super::{bad_option, options};
use crate::io::{error_text, Io, Sink};
use crate::shell::Shell;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime};

/// Reads a named file (`-` = stdin), reporting failures as `APPLET: can't open 'F': reason`.
fn read_input(shell: &Shell, applet: &str, name: &str, io: &mut Io) -> Option<Vec<u8>> {
    if name == "-" {
        return io.stdin.read_all().ok();
    }
    let path = shell.resolve(name);
    match fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) if path.is_dir() || error.kind() == ErrorKind::IsADirectory => {
            io.error(format_args!("{applet}: read error: Is a directory"));
            None
        }
        Err(error) => {
            io.error(format_args!(
                "{applet}: can't open '{name}': {}",
                error_text(&error)
            ));
            None
        }
    }
}

/// Operands, or stdin (`-`) when there are none.
fn inputs(operands: Vec<String>) -> Vec<String> {
    if operands.is_empty() {
        vec!["-".into()]
    } else {
        operands
    }
}

pub fn cat(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let operands = match options(&argv[1..], "uvetnAb") {
        Ok((_, operands)) => operands,
        Err(bad) => return bad_option(io, "cat", bad),
    };
    let mut status = 0;
    for name in inputs(operands) {
        if name == "-" {
            if io.stdin.copy_to(&mut io.stdout.clone()).is_err() {
                status = 1;
            }
            continue;
        }
        match read_input(shell, "cat", &name, io) {
            Some(bytes) => {
                let _ = io.stdout.write_all(&bytes);
            }
            None => status = 1,
        }
    }
    status
}

pub fn touch(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (flags, operands) = match options(&argv[1..], "cham") {
        Ok(parsed) => parsed,
        Err(bad) => return bad_option(io, "touch", bad),
    };
    let mut status = 0;
    for name in operands {
        let path = shell.resolve(&name);
        if flags.contains('c') && !path.exists() {
            continue;
        }
        let opened = OpenOptions::new().create(true).append(true).open(&path);
        match opened {
            // Updating the time can be unsupported by the filesystem; the file exists either way.
            Ok(file) => {
                let _ = file.set_modified(SystemTime::now());
            }
            Err(error) if path.is_dir() && error.kind() != ErrorKind::NotFound => {}
            Err(error) => {
                io.error(format_args!("touch: {name}: {}", error_text(&error)));
                status = 1;
            }
        }
    }
    status
}

pub fn rm(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (flags, operands) = match options(&argv[1..], "friRv") {
        Ok(parsed) => parsed,
        Err(bad) => return bad_option(io, "rm", bad),
    };
    let force = flags.contains('f');
    let recursive = flags.contains('r') || flags.contains('R');
    if operands.is_empty() && !force {
        io.error(format_args!("rm: missing operand"));
        return 1;
    }
    let mut status = 0;
    for name in operands {
        let path = shell.resolve(&name);
        let result = match fs::symlink_metadata(&path) {
            Err(error) if error.kind() == ErrorKind::NotFound && force => continue,
            Err(error) => Err(error),
            Ok(meta) if meta.is_dir() => {
                if !recursive {
                    io.error(format_args!("rm: '{name}' is a directory"));
                    status = 1;
                    continue;
                }
                fs::remove_dir_all(&path)
            }
            Ok(_) => fs::remove_file(&path),
        };
        if let Err(error) = result {
            io.error(format_args!(
                "rm: can't remove '{name}': {}",
                error_text(&error)
            ));
            status = 1;
        }
    }
    status
}

pub fn rmdir(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut status = 0;
    for name in argv[1..].iter().filter(|arg| !arg.starts_with('-')) {
        if let Err(error) = fs::remove_dir(shell.resolve(name)) {
            io.error(format_args!("rmdir: '{name}': {}", error_text(&error)));
            status = 1;
        }
    }
    status
}

pub fn mkdir(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    // `-m MODE` takes a value; permissions do not exist in WASI, so it is skipped.
    let mut args = Vec::new();
    let mut iter = argv[1..].iter();
    while let Some(arg) = iter.next() {
        if arg == "-m" {
            iter.next();
        } else if !arg.starts_with("--mode") {
            args.push(arg.clone());
        }
    }
    let (flags, operands) = match options(&args, "pv") {
        Ok(parsed) => parsed,
        Err(bad) => return bad_option(io, "mkdir", bad),
    };
    let mut status = 0;
    for name in operands {
        let path = shell.resolve(&name);
        let result = if flags.contains('p') {
            fs::create_dir_all(&path)
        } else {
            fs::create_dir(&path)
        };
        if let Err(error) = result {
            io.error(format_args!(
                "mkdir: can't create directory '{name}': {}",
                error_text(&error)
            ));
            status = 1;
        }
    }
    status
}

pub fn ls(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (flags, operands) = match options(&argv[1..], "1aAlhFd") {
        Ok(parsed) => parsed,
        Err(bad) => return bad_option(io, "ls", bad),
    };
    let long = flags.contains('l');
    let all = flags.contains('a') || flags.contains('A');
    let operands = if operands.is_empty() {
        vec![".".to_string()]
    } else {
        operands
    };
    let mut status = 0;
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for name in &operands {
        match fs::metadata(shell.resolve(name)) {
            Ok(meta) if meta.is_dir() && !flags.contains('d') => dirs.push(name.clone()),
            Ok(meta) => files.push((name.clone(), meta)),
            Err(error) => {
                io.error(format_args!("ls: {name}: {}", error_text(&error)));
                status = 1;
            }
        }
    }
    for (name, meta) in &files {
        print_entry(io, name, meta, long);
    }
    let headers = operands.len() > 1;
    for (index, dir) in dirs.iter().enumerate() {
        if headers {
            let blank = if index > 0 || !files.is_empty() {
                "\n"
            } else {
                ""
            };
            let _ = writeln!(io.stdout, "{blank}{dir}:");
        }
        let entries = match fs::read_dir(shell.resolve(dir)) {
            Ok(entries) => entries,
            Err(error) => {
                io.error(format_args!(
                    "ls: can't open '{dir}': {}",
                    error_text(&error)
                ));
                status = 1;
                continue;
            }
        };
        let mut listed: Vec<_> = entries
            .flatten()
            .map(|entry| {
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    entry.metadata().ok(),
                )
            })
            .filter(|(name, _)| all || !name.starts_with('.'))
            .collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, meta) in listed {
            match meta {
                Some(meta) => print_entry(io, &name, &meta, long),
                None => {
                    let _ = writeln!(io.stdout, "{name}");
                }
            }
        }
    }
    status
}

fn print_entry(io: &mut Io, name: &str, meta: &fs::Metadata, long: bool) {
    if !long {
        let _ = writeln!(io.stdout, "{name}");
        return;
    }
    let mode = if meta.is_dir() {
        "drwxr-xr-x"
    } else {
        "-rw-r--r--"
    };
    let modified = meta
        .modified()
        .ok()
        .map(super::time::ls_time)
        .unwrap_or_default();
    let _ = writeln!(
        io.stdout,
        "{mode}    1 root     root     {:>9} {modified} {name}",
        meta.len()
    );
}

pub fn cp(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    transfer(shell, argv, io, "cp", "rRfapv")
}

pub fn mv(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    transfer(shell, argv, io, "mv", "fiv")
}

fn transfer(shell: &mut Shell, argv: &[String], io: &mut Io, applet: &str, known: &str) -> i32 {
    let mut operands = match options(&argv[1..], known) {
        Ok((_, operands)) => operands,
        Err(bad) => return bad_option(io, applet, bad),
    };
    if operands.len() < 2 {
        io.error(format_args!("{applet}: missing file operand"));
        return 1;
    }
    let target_name = operands.pop().unwrap_or_default();
    let target = shell.resolve(&target_name);
    let mut status = 0;
    for name in operands {
        let source = shell.resolve(&name);
        let destination = match (target.is_dir(), source.file_name()) {
            (true, Some(file_name)) => target.join(file_name),
            _ => target.clone(),
        };
        let result = if applet == "mv" {
            fs::rename(&source, &destination).or_else(|_| {
                fs::copy(&source, &destination)?;
                fs::remove_file(&source)
            })
        } else {
            fs::copy(&source, &destination).map(|_| ())
        };
        if let Err(error) = result {
            let reason = error_text(&error);
            match fs::metadata(&source) {
                Err(_) => io.error(format_args!("{applet}: can't stat '{name}': {reason}")),
                Ok(_) => io.error(format_args!(
                    "{applet}: can't create '{target_name}': {reason}"
                )),
            }
            status = 1;
        }
    }
    status
}

/// `-n N`, `-N` or `-nN` → N (default 10).
fn line_count(
    args: &[String],
    io: &mut Io,
    applet: &str,
) -> Result<(usize, bool, Vec<String>), i32> {
    let mut count = 10;
    let mut follow = false;
    let mut operands = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = match arg.as_str() {
            "-n" => iter.next().cloned().unwrap_or_default(),
            "-f" | "-F" => {
                follow = true;
                continue;
            }
            _ if arg.starts_with("-n") => arg[2..].to_string(),
            _ if arg.len() > 1 && arg.starts_with('-') => arg[1..].to_string(),
            _ => {
                operands.push(arg.clone());
                continue;
            }
        };
        count = text.trim_start_matches('+').parse().map_err(|_| {
            io.error(format_args!("{applet}: invalid number '{text}'"));
            1
        })?;
    }
    Ok((count, follow, operands))
}

pub fn head(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (count, _, operands) = match line_count(&argv[1..], io, "head") {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut status = 0;
    for name in inputs(operands) {
        match read_input(shell, "head", &name, io) {
            Some(bytes) => {
                for line in bytes.split_inclusive(|b| *b == b'\n').take(count) {
                    let _ = io.stdout.write_all(line);
                }
            }
            None => status = 1,
        }
    }
    status
}

/// `tail [-n N] [-f] [file]`; `-f` keeps following the file (forever, like busybox), which is
/// also the classic `tail -f /dev/null` keep-alive.
pub fn tail(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (count, follow, operands) = match line_count(&argv[1..], io, "tail") {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let mut status = 0;
    let names = inputs(operands);
    for name in &names {
        if name == "/dev/null" {
            continue;
        }
        match read_input(shell, "tail", name, io) {
            Some(bytes) => {
                let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
                for line in &lines[lines.len().saturating_sub(count)..] {
                    let _ = io.stdout.write_all(line);
                }
            }
            None => status = 1,
        }
    }
    if !follow {
        return status;
    }
    let followed = names
        .last()
        .filter(|name| *name != "-" && *name != "/dev/null")
        .map(|name| shell.resolve(name));
    let mut offset = followed
        .as_ref()
        .and_then(|path| fs::metadata(path).ok())
        .map_or(0, |meta| meta.len());
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let Some(path) = &followed else { continue };
        let Ok(mut file) = fs::File::open(path) else {
            continue;
        };
        let length = file.metadata().map_or(offset, |meta| meta.len());
        if length < offset {
            offset = 0;
        }
        if length > offset && file.seek(SeekFrom::Start(offset)).is_ok() {
            let mut fresh = Vec::new();
            if file.read_to_end(&mut fresh).is_ok() {
                offset += fresh.len() as u64;
                let _ = io.stdout.write_all(&fresh);
            }
        }
    }
}

pub fn tee(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (flags, operands) = match options(&argv[1..], "ai") {
        Ok(parsed) => parsed,
        Err(bad) => return bad_option(io, "tee", bad),
    };
    let input = io.stdin.read_all().unwrap_or_default();
    let mut status = 0;
    for name in operands {
        let append = flags.contains('a');
        let opened = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(shell.resolve(&name));
        match opened {
            Ok(file) => {
                let _ = Sink::file(file).write_all(&input);
            }
            Err(error) => {
                io.error(format_args!("tee: {name}: {}", error_text(&error)));
                status = 1;
            }
        }
    }
    let _ = io.stdout.write_all(&input);
    status
}

pub fn wc(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let (flags, operands) = match options(&argv[1..], "lwcm") {
        Ok(parsed) => parsed,
        Err(bad) => return bad_option(io, "wc", bad),
    };
    let flags = if flags.is_empty() {
        "lwc".to_string()
    } else {
        flags
    };
    let mut status = 0;
    for name in inputs(operands) {
        let Some(bytes) = read_input(shell, "wc", &name, io) else {
            status = 1;
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut counts = Vec::new();
        if flags.contains('l') {
            counts.push(bytes.iter().filter(|b| **b == b'\n').count());
        }
        if flags.contains('w') {
            counts.push(text.split_whitespace().count());
        }
        if flags.contains('c') || flags.contains('m') {
            counts.push(bytes.len());
        }
        let mut line: String = if counts.len() == 1 {
            counts[0].to_string()
        } else {
            counts
                .iter()
                .map(|count| format!("{count:>9}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if name != "-" {
            line = format!("{line} {name}");
        }
        let _ = writeln!(io.stdout, "{line}");
    }
    status
}
