//! Text applets: `echo`, `printf`, `grep`, `seq`, `basename`, `dirname`.

use crate::io::Io;
use crate::shell::Shell;
use std::io::Write;

/// `echo [-neE] args…`: an argument is an option only if it consists of those letters.
pub fn echo(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut args = &argv[1..];
    while let Some(letters) = args.first().and_then(|arg| arg.strip_prefix('-')) {
        if letters.is_empty() || !letters.chars().all(|c| "neE".contains(c)) {
            break;
        }
        for letter in letters.chars() {
            match letter {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        args = &args[1..];
    }
    let mut text = args.join(" ");
    if escapes {
        let (expanded, stop) = unescape(&text);
        text = expanded;
        newline &= !stop;
    }
    if newline {
        text.push('\n');
    }
    let _ = io.stdout.write_all(text.as_bytes());
    0
}

/// Backslash escapes as in `echo -e` / `printf %b`; the flag says `\c` stopped output.
fn unescape(text: &str) -> (String, bool) {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('v') => out.push('\x0b'),
            Some('e') => out.push('\x1b'),
            Some('\\') => out.push('\\'),
            Some('c') => return (out, true),
            Some('0') => {
                let mut value = 0u32;
                for _ in 0..3 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(digit) => {
                            value = value * 8 + digit;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.extend(char::from_u32(value));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    (out, false)
}

/// `printf FORMAT args…`: `%s %b %d %i %u %x %X %o %c %%` with flags `-0`, width and precision;
/// the format is reused while arguments remain.
pub fn printf(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let Some(format) = argv.get(1) else {
        io.error(format_args!("printf: usage: printf FORMAT [ARG]..."));
        return 1;
    };
    let mut args = argv[2..].iter();
    let mut status = 0;
    let mut out = String::new();
    loop {
        let mut consumed = false;
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let mut escape = String::from('\\');
                    escape.extend(chars.next());
                    let (text, stop) = unescape(&escape);
                    out.push_str(&text);
                    if stop {
                        let _ = io.stdout.write_all(out.as_bytes());
                        return status;
                    }
                }
                '%' => {
                    let mut spec = String::new();
                    while let Some(&next) = chars.peek() {
                        if "-+ #0123456789.".contains(next) {
                            spec.push(next);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    let Some(conversion) = chars.next() else {
                        break;
                    };
                    if conversion == '%' {
                        out.push('%');
                        continue;
                    }
                    consumed = true;
                    let arg = args.next().map(String::as_str).unwrap_or("");
                    let value = match conversion {
                        's' => arg.to_string(),
                        'b' => unescape(arg).0,
                        'c' => arg.chars().next().map(String::from).unwrap_or_default(),
                        'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                            let number = match parse_integer(arg) {
                                Some(number) => number,
                                None => {
                                    io.error(format_args!("printf: invalid number '{arg}'"));
                                    status = 1;
                                    0
                                }
                            };
                            match conversion {
                                'x' => format!("{number:x}"),
                                'X' => format!("{number:X}"),
                                'o' => format!("{number:o}"),
                                _ => number.to_string(),
                            }
                        }
                        other => {
                            io.error(format_args!("printf: %{other}: invalid format"));
                            return 1;
                        }
                    };
                    out.push_str(&pad(&spec, value, conversion == 's' || conversion == 'b'));
                }
                _ => out.push(c),
            }
        }
        if !consumed || args.len() == 0 {
            break;
        }
    }
    let _ = io.stdout.write_all(out.as_bytes());
    status
}

fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    if let Some(quoted) = text.strip_prefix(['\'', '"']) {
        return quoted.chars().next().map(|c| c as i64);
    }
    text.parse().ok()
}

/// Applies `-`/`0` flags, width and (for strings) precision.
fn pad(spec: &str, mut value: String, is_text: bool) -> String {
    let left = spec.contains('-');
    let spec = spec.trim_start_matches(['-', '+', ' ', '#']);
    let zero = spec.starts_with('0') && !left && !is_text;
    let (width, precision) = match spec.split_once('.') {
        Some((width, precision)) => (width, precision.parse::<usize>().ok()),
        None => (spec, None),
    };
    if let (Some(precision), true) = (precision, is_text) {
        value = value.chars().take(precision).collect();
    }
    let width: usize = width.trim_start_matches('0').parse().unwrap_or(0);
    let length = value.chars().count();
    if length >= width {
        return value;
    }
    let fill = width - length;
    if left {
        format!("{value}{}", " ".repeat(fill))
    } else if zero {
        match value.strip_prefix('-') {
            Some(digits) => format!("-{}{digits}", "0".repeat(fill)),
            None => format!("{}{value}", "0".repeat(fill)),
        }
    } else {
        format!("{}{value}", " ".repeat(fill))
    }
}

pub fn basename(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let Some(path) = argv.get(1) else {
        io.error(format_args!("basename: missing operand"));
        return 1;
    };
    let trimmed = path.trim_end_matches('/');
    let mut base = if trimmed.is_empty() && !path.is_empty() {
        "/"
    } else {
        trimmed.rsplit('/').next().unwrap_or("")
    };
    if let Some(suffix) = argv.get(2) {
        if base != suffix.as_str() {
            base = base.strip_suffix(suffix.as_str()).unwrap_or(base);
        }
    }
    let _ = writeln!(io.stdout, "{base}");
    0
}

pub fn dirname(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let Some(path) = argv.get(1) else {
        io.error(format_args!("dirname: missing operand"));
        return 1;
    };
    let trimmed = path.trim_end_matches('/');
    let dir = match trimmed.rfind('/') {
        None if path.starts_with('/') => "/",
        None => ".",
        Some(0) => "/",
        Some(cut) => trimmed[..cut].trim_end_matches('/'),
    };
    let _ = writeln!(io.stdout, "{}", if dir.is_empty() { "/" } else { dir });
    0
}

/// `seq [FIRST [STEP]] LAST` (integers).
pub fn seq(_: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut numbers = Vec::new();
    for arg in &argv[1..] {
        match arg.parse::<i64>() {
            Ok(number) => numbers.push(number),
            Err(_) => {
                io.error(format_args!("seq: invalid number '{arg}'"));
                return 1;
            }
        }
    }
    let (first, step, last) = match numbers.as_slice() {
        [last] => (1, 1, *last),
        [first, last] => (*first, 1, *last),
        [first, step, last] if *step != 0 => (*first, *step, *last),
        _ => {
            io.error(format_args!("seq: usage: seq [FIRST [INC]] LAST"));
            return 1;
        }
    };
    let mut value = first;
    let mut out = String::new();
    while (step > 0 && value <= last) || (step < 0 && value >= last) {
        out.push_str(&format!("{value}\n"));
        value += step;
    }
    let _ = io.stdout.write_all(out.as_bytes());
    0
}

/// `grep [-qvicnFE] PATTERN [file…]` with basic patterns: `^ $ . * [set]` and `\` escapes.
pub fn grep(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    let mut flags = String::new();
    let mut operands = Vec::new();
    let mut pattern = None;
    let mut iter = argv[1..].iter();
    while let Some(arg) = iter.next() {
        match arg
            .strip_prefix('-')
            .filter(|letters| !letters.is_empty() && operands.is_empty() && pattern.is_none())
        {
            Some("e") => pattern = iter.next().cloned(),
            Some(letters) => flags.push_str(letters),
            None if pattern.is_none() => pattern = Some(arg.clone()),
            None => operands.push(arg.clone()),
        }
    }
    let Some(pattern) = pattern else {
        io.error(format_args!("grep: usage: grep [-qvicn] PATTERN [FILE]..."));
        return 2;
    };
    let fixed = flags.contains('F');
    let ignore_case = flags.contains('i');
    let pattern = if ignore_case {
        pattern.to_lowercase()
    } else {
        pattern
    };
    let files = if operands.is_empty() {
        vec!["-".to_string()]
    } else {
        operands
    };
    let show_names = files.len() > 1;
    let mut matched_any = false;
    let mut status_error = false;
    for name in &files {
        let bytes = if name == "-" {
            io.stdin.read_all().unwrap_or_default()
        } else {
            match std::fs::read(shell.resolve(name)) {
                Ok(bytes) => bytes,
                Err(error) => {
                    if !flags.contains('s') {
                        io.error(format_args!(
                            "grep: {name}: {}",
                            crate::io::error_text(&error)
                        ));
                    }
                    status_error = true;
                    continue;
                }
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut count = 0;
        for (number, line) in text.lines().enumerate() {
            let subject = if ignore_case {
                line.to_lowercase()
            } else {
                line.to_string()
            };
            let hit = if fixed {
                subject.contains(&pattern)
            } else {
                pattern_matches(&pattern, &subject)
            };
            if hit == flags.contains('v') {
                continue;
            }
            matched_any = true;
            count += 1;
            if flags.contains('q') {
                return 0;
            }
            if flags.contains('c') || flags.contains('l') {
                continue;
            }
            let prefix = if show_names {
                format!("{name}:")
            } else {
                String::new()
            };
            let number = if flags.contains('n') {
                format!("{}:", number + 1)
            } else {
                String::new()
            };
            let _ = writeln!(io.stdout, "{prefix}{number}{line}");
        }
        if flags.contains('c') {
            let prefix = if show_names {
                format!("{name}:")
            } else {
                String::new()
            };
            let _ = writeln!(io.stdout, "{prefix}{count}");
        } else if flags.contains('l') && count > 0 {
            let _ = writeln!(io.stdout, "{name}");
        }
    }
    match (matched_any, status_error) {
        (true, _) => 0,
        (false, true) => 2,
        (false, false) => 1,
    }
}

/// One pattern element: a literal, `.` (any) or a bracket set.
#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Set {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(expected) => *expected == c,
            Atom::Any => true,
            Atom::Set { negated, items } => {
                items.iter().any(|(low, high)| (*low..=*high).contains(&c)) != *negated
            }
        }
    }
}

/// Whether a basic regular expression (subset) matches anywhere in `text`.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let (anchored, body) = match pattern.strip_prefix('^') {
        Some(body) => (true, body),
        None => (false, pattern),
    };
    let (end_anchored, body) = match body.strip_suffix('$').filter(|b| !b.ends_with('\\')) {
        Some(body) => (true, body),
        None => (false, body),
    };
    let Some(items) = compile(body) else {
        return text.contains(pattern);
    };
    let chars: Vec<char> = text.chars().collect();
    let starts = if anchored { 0..1 } else { 0..chars.len() + 1 };
    starts
        .into_iter()
        .any(|start| match_here(&items, &chars[start..], end_anchored))
}

fn compile(pattern: &str) -> Option<Vec<(Atom, bool)>> {
    let mut items: Vec<(Atom, bool)> = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let atom = match c {
            '*' if !items.is_empty() => {
                items.last_mut()?.1 = true;
                continue;
            }
            '.' => Atom::Any,
            '\\' => Atom::Char(chars.next()?),
            '[' => {
                let negated = chars.peek() == Some(&'^');
                if negated {
                    chars.next();
                }
                let mut set = Vec::new();
                let mut first = true;
                loop {
                    let c = chars.next()?;
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    if chars.peek() == Some(&'-') {
                        chars.next();
                        match chars.peek() {
                            Some(']') | None => {
                                set.push((c, c));
                                set.push(('-', '-'));
                            }
                            Some(_) => {
                                let high = chars.next()?;
                                set.push((c, high));
                            }
                        }
                    } else {
                        set.push((c, c));
                    }
                }
                Atom::Set {
                    negated,
                    items: set,
                }
            }
            other => Atom::Char(other),
        };
        items.push((atom, false));
    }
    Some(items)
}

fn match_here(items: &[(Atom, bool)], text: &[char], end_anchored: bool) -> bool {
    match items.split_first() {
        None => !end_anchored || text.is_empty(),
        Some(((atom, true), rest)) => {
            let mut taken = 0;
            while taken < text.len() && atom.matches(text[taken]) {
                taken += 1;
            }
            (0..=taken)
                .rev()
                .any(|count| match_here(rest, &text[count..], end_anchored))
        }
        Some(((atom, false), rest)) => {
            text.first().is_some_and(|c| atom.matches(*c))
                && match_here(rest, &text[1..], end_anchored)
        }
    }
}
