//! `test` / `[`: file tests, string and integer comparisons, `!`, `-a`, `-o`.

use crate::io::Io;
use crate::shell::Shell;
use std::fs;

pub fn test(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    evaluate_status(shell, &argv[1..], io, "test")
}

pub fn bracket(shell: &mut Shell, argv: &[String], io: &mut Io) -> i32 {
    match argv[1..].split_last() {
        Some((last, inner)) if last == "]" => evaluate_status(shell, inner, io, "["),
        _ => {
            io.error(format_args!("[: missing ]"));
            2
        }
    }
}

fn evaluate_status(shell: &Shell, args: &[String], io: &mut Io, applet: &str) -> i32 {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match evaluate(shell, &args) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(message) => {
            io.error(format_args!("sh: {}", message.replace("{applet}", applet)));
            2
        }
    }
}

/// Evaluates an expression; `-o` binds looser than `-a`, which binds looser than `!`.
pub fn evaluate(shell: &Shell, args: &[&str]) -> Result<bool, String> {
    // Split at binary -o / -a only where they cannot be operands of a primary.
    if args.len() > 3 {
        for connective in ["-o", "-a"] {
            if let Some(index) = args
                .iter()
                .rposition(|arg| *arg == connective)
                .filter(|i| *i > 0 && *i + 1 < args.len())
            {
                let left = evaluate(shell, &args[..index])?;
                let right = evaluate(shell, &args[index + 1..])?;
                return Ok(if connective == "-o" {
                    left || right
                } else {
                    left && right
                });
            }
        }
    }
    match args {
        [] => Ok(false),
        [single] => Ok(!single.is_empty()),
        ["!", rest @ ..] => Ok(!evaluate(shell, rest)?),
        ["(", inner @ .., ")"] => evaluate(shell, inner),
        [op, operand] => unary(shell, op, operand),
        [left, op, right] => binary(left, op, right),
        _ => Err(format!("{{applet}}: {}: unknown operand", args[0])),
    }
}

fn unary(shell: &Shell, op: &str, operand: &str) -> Result<bool, String> {
    let path = || shell.resolve(operand);
    Ok(match op {
        "-z" => operand.is_empty(),
        "-n" => !operand.is_empty(),
        "-e" | "-a" => path().exists(),
        "-f" => path().is_file(),
        "-d" => path().is_dir(),
        "-s" => fs::metadata(path()).is_ok_and(|meta| meta.len() > 0),
        "-L" | "-h" => fs::symlink_metadata(path()).is_ok_and(|meta| meta.file_type().is_symlink()),
        "-r" | "-w" => path().exists(),
        "-x" => path().is_dir(),
        "-p" | "-S" | "-b" | "-c" | "-t" => false,
        _ => return Err(format!("{{applet}}: {op}: unary operator expected")),
    })
}

fn binary(left: &str, op: &str, right: &str) -> Result<bool, String> {
    let number = |text: &str| -> Result<i64, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("{{applet}}: invalid number '{text}'"))
    };
    Ok(match op {
        "=" | "==" => left == right,
        "!=" => left != right,
        "<" => left < right,
        ">" => left > right,
        "-eq" => number(left)? == number(right)?,
        "-ne" => number(left)? != number(right)?,
        "-lt" => number(left)? < number(right)?,
        "-le" => number(left)? <= number(right)?,
        "-gt" => number(left)? > number(right)?,
        "-ge" => number(left)? >= number(right)?,
        "-a" => !left.is_empty() && !right.is_empty(),
        "-o" => !left.is_empty() || !right.is_empty(),
        _ => return Err(format!("{{applet}}: {op}: binary operator expected")),
    })
}
