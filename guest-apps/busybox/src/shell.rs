//! The evaluator: runs a parsed command tree against shell state (variables, cwd, `$?`).

use crate::applets;
use crate::arith;
use crate::io::{error_text, Io, Sink, Source};
use crate::lexer::{Part, RedirKind, Word};
use crate::parser::{parse, AndOr, Command, CommandKind, Connector, List, Pipeline, Redirect};
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// Non-local control flow out of a list of commands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Flow {
    Exit(i32),
    Break(u32),
    Continue(u32),
}

/// A command's status, or control flow that unwinds past it.
pub type Outcome = Result<i32, Flow>;

#[derive(Debug, Clone)]
struct Variable {
    value: String,
    exported: bool,
}

#[derive(Debug, Clone)]
pub struct Shell {
    vars: BTreeMap<String, Variable>,
    /// The working directory; relative paths are resolved against it here because the guest
    /// process itself always starts at `/`.
    pub cwd: PathBuf,
    /// `$?`.
    pub status: i32,
    /// `$0`.
    pub script_name: String,
    /// `$1`…
    pub positional: Vec<String>,
    /// `set -e`.
    pub errexit: bool,
    condition_depth: usize,
    loop_depth: u32,
}

impl Shell {
    /// A shell whose variables are the (exported) environment; `PWD` sets the working directory.
    pub fn new(env: impl IntoIterator<Item = (String, String)>) -> Shell {
        let vars: BTreeMap<String, Variable> = env
            .into_iter()
            .map(|(name, value)| {
                (
                    name,
                    Variable {
                        value,
                        exported: true,
                    },
                )
            })
            .collect();
        let cwd = vars
            .get("PWD")
            .map(|pwd| PathBuf::from(&pwd.value))
            .filter(|pwd| pwd.is_absolute())
            .unwrap_or_else(|| PathBuf::from("/"));
        Shell {
            vars,
            cwd,
            status: 0,
            script_name: "sh".into(),
            positional: Vec::new(),
            errexit: false,
            condition_depth: 0,
            loop_depth: 0,
        }
    }

    pub fn var(&self, name: &str) -> Option<String> {
        let special = match name {
            "?" => self.status.to_string(),
            "$" => "1".into(),
            "#" => self.positional.len().to_string(),
            "0" => self.script_name.clone(),
            "@" | "*" => self.positional.join(" "),
            "!" => String::new(),
            "-" => {
                if self.errexit {
                    "e".into()
                } else {
                    String::new()
                }
            }
            _ if name.chars().all(|c| c.is_ascii_digit()) => {
                let index: usize = name.parse().ok()?;
                return self.positional.get(index.checked_sub(1)?).cloned();
            }
            _ => return self.vars.get(name).map(|var| var.value.clone()),
        };
        Some(special)
    }

    pub fn set_var(&mut self, name: &str, value: String) {
        match self.vars.get_mut(name) {
            Some(var) => var.value = value,
            None => {
                self.vars.insert(
                    name.to_string(),
                    Variable {
                        value,
                        exported: false,
                    },
                );
            }
        }
    }

    pub fn export(&mut self, name: &str) {
        self.vars
            .entry(name.to_string())
            .or_insert_with(|| Variable {
                value: String::new(),
                exported: true,
            })
            .exported = true;
    }

    pub fn unset(&mut self, name: &str) {
        self.vars.remove(name);
    }

    /// The exported variables, as a child program's environment.
    pub fn environment(&self) -> Vec<(String, String)> {
        self.vars
            .iter()
            .filter(|(_, var)| var.exported)
            .map(|(name, var)| (name.clone(), var.value.clone()))
            .collect()
    }

    /// An absolute, lexically normalised path for `path` as seen from the working directory.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let joined = self.cwd.join(path);
        let mut normal = PathBuf::from("/");
        for component in joined.components() {
            match component {
                Component::Normal(name) => normal.push(name),
                Component::ParentDir => {
                    normal.pop();
                }
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        normal
    }

    /// Parses and runs a whole script; syntax errors are reported like ash does (status 2).
    pub fn run_script(&mut self, script: &str, io: &Io) -> i32 {
        let list = match parse(script) {
            Ok(list) => list,
            Err(error) => {
                io.clone().error(format_args!("sh: {error}"));
                return 2;
            }
        };
        match self.exec_list(&list, io) {
            Ok(status) | Err(Flow::Exit(status)) => status,
            Err(Flow::Break(_) | Flow::Continue(_)) => self.status,
        }
    }

    pub fn exec_list(&mut self, list: &List, io: &Io) -> Outcome {
        let mut status = 0;
        for and_or in list {
            status = self.exec_and_or(and_or, io)?;
        }
        Ok(status)
    }

    fn exec_and_or(&mut self, and_or: &AndOr, io: &Io) -> Outcome {
        let mut status = self.exec_pipeline(&and_or.first, io)?;
        let mut last_ran = and_or.rest.is_empty();
        let mut negated = and_or.first.negated;
        for (index, (connector, pipeline)) in and_or.rest.iter().enumerate() {
            let run = match connector {
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if run {
                status = self.exec_pipeline(pipeline, io)?;
                last_ran = index + 1 == and_or.rest.len();
                negated = pipeline.negated;
            }
        }
        // `set -e` ignores failures of conditions, of non-final parts of && / ||, and of `!`.
        if self.errexit && status != 0 && last_ran && !negated && self.condition_depth == 0 {
            return Err(Flow::Exit(status));
        }
        Ok(status)
    }

    fn exec_pipeline(&mut self, pipeline: &Pipeline, io: &Io) -> Outcome {
        let status = if let [command] = pipeline.commands.as_slice() {
            self.exec_command(command, io)?
        } else {
            // No processes to connect: run each stage to completion, feeding its output onward.
            let mut input = io.stdin.clone();
            let mut status = 0;
            for (index, command) in pipeline.commands.iter().enumerate() {
                let last = index + 1 == pipeline.commands.len();
                let (sink, buffer) = Sink::buffer();
                let stage_io = Io {
                    stdin: input.clone(),
                    stdout: if last { io.stdout.clone() } else { sink },
                    stderr: io.stderr.clone(),
                };
                let mut stage = self.clone();
                status = match stage.exec_command(command, &stage_io) {
                    Ok(status) | Err(Flow::Exit(status)) => status,
                    Err(_) => stage.status,
                };
                input = Source::Bytes(Rc::new(buffer.take()));
            }
            status
        };
        let status = if pipeline.negated {
            i32::from(status == 0)
        } else {
            status
        };
        self.status = status;
        Ok(status)
    }

    fn exec_command(&mut self, command: &Command, io: &Io) -> Outcome {
        if let CommandKind::Simple { assignments, words } = &command.kind {
            return self.exec_simple(assignments, words, &command.redirects, io);
        }
        let io = match self.redirected(&command.redirects, io)? {
            Ok(io) => io,
            Err(status) => return Ok(status),
        };
        let status = match &command.kind {
            CommandKind::Simple { .. } => unreachable!("handled above"),
            CommandKind::Group(body) => self.exec_list(body, &io)?,
            CommandKind::Subshell(body) => {
                let mut child = self.clone();
                match child.exec_list(body, &io) {
                    Ok(status) | Err(Flow::Exit(status)) => status,
                    Err(_) => child.status,
                }
            }
            CommandKind::If {
                branches,
                otherwise,
            } => {
                let mut status = 0;
                let mut taken = false;
                for (condition, body) in branches {
                    if self.exec_condition(condition, &io)? == 0 {
                        status = self.exec_list(body, &io)?;
                        taken = true;
                        break;
                    }
                }
                match otherwise {
                    Some(body) if !taken => self.exec_list(body, &io)?,
                    _ => status,
                }
            }
            CommandKind::Loop {
                until,
                condition,
                body,
            } => {
                self.loop_depth += 1;
                let result = self.exec_loop(*until, condition, body, &io);
                self.loop_depth -= 1;
                result?
            }
            CommandKind::For {
                variable,
                items,
                body,
            } => {
                let values = match items {
                    Some(words) => {
                        let mut values = Vec::new();
                        for word in words {
                            values.extend(self.expand(word, true, &io)?);
                        }
                        values
                    }
                    None => self.positional.clone(),
                };
                self.loop_depth += 1;
                let result = self.exec_for(variable, values, body, &io);
                self.loop_depth -= 1;
                result?
            }
        };
        self.status = status;
        Ok(status)
    }

    fn exec_condition(&mut self, condition: &List, io: &Io) -> Outcome {
        self.condition_depth += 1;
        let result = self.exec_list(condition, io);
        self.condition_depth -= 1;
        result
    }

    fn exec_loop(&mut self, until: bool, condition: &List, body: &List, io: &Io) -> Outcome {
        let mut status = 0;
        loop {
            let passed = self.exec_condition(condition, io)? == 0;
            if passed == until {
                return Ok(status);
            }
            match self.exec_list(body, io) {
                Ok(body_status) => status = body_status,
                Err(Flow::Break(1)) => return Ok(0),
                Err(Flow::Break(n)) => return Err(Flow::Break(n - 1)),
                Err(Flow::Continue(1)) => {}
                Err(Flow::Continue(n)) => return Err(Flow::Continue(n - 1)),
                Err(exit) => return Err(exit),
            }
        }
    }

    fn exec_for(&mut self, variable: &str, values: Vec<String>, body: &List, io: &Io) -> Outcome {
        let mut status = 0;
        for value in values {
            self.set_var(variable, value);
            match self.exec_list(body, io) {
                Ok(body_status) => status = body_status,
                Err(Flow::Break(1)) => return Ok(0),
                Err(Flow::Break(n)) => return Err(Flow::Break(n - 1)),
                Err(Flow::Continue(1)) => {}
                Err(Flow::Continue(n)) => return Err(Flow::Continue(n - 1)),
                Err(exit) => return Err(exit),
            }
        }
        Ok(status)
    }

    fn exec_simple(
        &mut self,
        assignments: &[(String, Word)],
        words: &[Word],
        redirects: &[Redirect],
        io: &Io,
    ) -> Outcome {
        let mut argv = Vec::new();
        for word in words {
            argv.extend(self.expand(word, true, io)?);
        }
        let mut values = Vec::new();
        for (name, word) in assignments {
            values.push((name.clone(), self.expand(word, false, io)?.join(" ")));
        }
        let io = match self.redirected(redirects, io)? {
            Ok(io) => io,
            Err(status) => {
                self.status = status;
                return Ok(status);
            }
        };
        if argv.is_empty() {
            let status = if assignments.is_empty() {
                0
            } else {
                self.status
            };
            for (name, value) in values {
                self.set_var(&name, value);
            }
            self.status = status;
            return Ok(status);
        }
        // Prefix assignments (`A=1 cmd`) are exported to that one command only.
        let saved: Vec<_> = values
            .iter()
            .map(|(name, _)| (name.clone(), self.vars.get(name).cloned()))
            .collect();
        for (name, value) in values {
            self.set_var(&name, value);
            self.export(&name);
        }
        let outcome = self.run_command(&argv, &io);
        for (name, previous) in saved {
            match previous {
                Some(var) => self.vars.insert(name, var),
                None => self.vars.remove(&name),
            };
        }
        let status = outcome?;
        self.status = status;
        Ok(status)
    }

    /// Runs one command by name: flow-control builtins first, then applets.
    pub fn run_command(&mut self, argv: &[String], io: &Io) -> Outcome {
        let mut io = io.clone();
        let name = argv[0].as_str();
        let number_arg = |io: &mut Io, default: i32| -> Result<i32, i32> {
            match argv.get(1) {
                None => Ok(default),
                Some(text) => text.parse().map_err(|_| {
                    io.error(format_args!("sh: {name}: Illegal number: {text}"));
                    2
                }),
            }
        };
        match name {
            "exit" => match number_arg(&mut io, self.status) {
                Ok(code) => Err(Flow::Exit(code & 0xff)),
                Err(status) => Err(Flow::Exit(status)),
            },
            "break" | "continue" => {
                let levels = match number_arg(&mut io, 1) {
                    Ok(levels) if levels >= 1 => levels as u32,
                    Ok(_) => return Ok(1),
                    Err(status) => return Ok(status),
                };
                if self.loop_depth == 0 {
                    return Ok(0);
                }
                let levels = levels.min(self.loop_depth);
                Err(if name == "break" {
                    Flow::Break(levels)
                } else {
                    Flow::Continue(levels)
                })
            }
            "eval" => {
                let list = match parse(&argv[1..].join(" ")) {
                    Ok(list) => list,
                    Err(error) => {
                        io.error(format_args!("sh: {error}"));
                        return Ok(2);
                    }
                };
                self.exec_list(&list, &io)
            }
            "." | "source" => {
                let Some(file) = argv.get(1) else {
                    io.error(format_args!("sh: .: filename argument required"));
                    return Ok(2);
                };
                match std::fs::read_to_string(self.resolve(file)) {
                    Ok(script) => match parse(&script) {
                        Ok(list) => self.exec_list(&list, &io),
                        Err(error) => {
                            io.error(format_args!("sh: {file}: {error}"));
                            Ok(2)
                        }
                    },
                    Err(_) => {
                        io.error(format_args!("sh: .: can't open '{file}'"));
                        Ok(2)
                    }
                }
            }
            // No processes to replace: run the command, then end the shell with its status.
            "exec" if argv.len() > 1 => {
                let status = self.run_command(&argv[1..], &io)?;
                Err(Flow::Exit(status))
            }
            _ => match applets::find(name) {
                Some(applet) => Ok(applet(self, argv, &mut io)),
                None => {
                    io.error(format_args!("sh: {name}: not found"));
                    Ok(127)
                }
            },
        }
    }

    /// Applies redirections to a copy of `io`; a failure is reported and gives its status.
    fn redirected(&mut self, redirects: &[Redirect], io: &Io) -> Result<Result<Io, i32>, Flow> {
        let mut io = io.clone();
        for redirect in redirects {
            let target = self.expand(&redirect.target, false, &io)?.join(" ");
            match self.redirect(redirect, &target, &mut io) {
                Ok(()) => {}
                Err(message) => {
                    io.error(format_args!("sh: {message}"));
                    return Ok(Err(1));
                }
            }
        }
        Ok(Ok(io))
    }

    fn redirect(&self, redirect: &Redirect, target: &str, io: &mut Io) -> Result<(), String> {
        let sink = match (redirect.kind, target) {
            (RedirKind::Dup, "1") => io.stdout.clone(),
            (RedirKind::Dup, "2") => io.stderr.clone(),
            (RedirKind::Dup, "-") => Sink::Null,
            (RedirKind::Dup, "0") if redirect.fd == 0 => return Ok(()),
            (RedirKind::Dup, _) => return Err(format!("{target}: bad file descriptor")),
            (RedirKind::In, _) => {
                if redirect.fd == 0 {
                    io.stdin = self.input_from(target)?;
                }
                return Ok(());
            }
            (RedirKind::Out | RedirKind::Append, "/dev/null") => Sink::Null,
            (RedirKind::Out | RedirKind::Append, "/dev/stdout") => io.stdout.clone(),
            (RedirKind::Out | RedirKind::Append, "/dev/stderr") => io.stderr.clone(),
            (kind, _) => {
                let append = kind == RedirKind::Append;
                let file = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(self.resolve(target))
                    .map_err(|error| {
                        let reason = match error.kind() {
                            std::io::ErrorKind::NotFound => "nonexistent directory".into(),
                            _ => error_text(&error),
                        };
                        format!("can't create {target}: {reason}")
                    })?;
                Sink::file(file)
            }
        };
        match redirect.fd {
            1 => io.stdout = sink,
            2 => io.stderr = sink,
            _ => {}
        }
        Ok(())
    }

    fn input_from(&self, target: &str) -> Result<Source, String> {
        if target == "/dev/null" {
            return Ok(Source::empty());
        }
        std::fs::read(self.resolve(target))
            .map(|bytes| Source::Bytes(Rc::new(bytes)))
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::NotFound => format!("can't open {target}: no such file"),
                _ => format!("can't open {target}: {}", error_text(&error)),
            })
    }

    /// Expands a word to fields; with `split`, unquoted expansions are split on whitespace.
    pub fn expand(&mut self, word: &Word, split: bool, io: &Io) -> Result<Vec<String>, Flow> {
        let mut fields = Vec::new();
        let mut current: Option<String> = None;
        for part in word {
            let (value, quoted) = match part {
                Part::Lit(text) | Part::Quoted(text) => {
                    current.get_or_insert_with(String::new).push_str(text);
                    continue;
                }
                Part::Var {
                    name,
                    quoted: true,
                    default: None,
                } if name == "@" => {
                    // "$@": one field per positional parameter.
                    for (index, arg) in self.positional.iter().enumerate() {
                        if index > 0 {
                            fields.extend(current.take());
                        }
                        current.get_or_insert_with(String::new).push_str(arg);
                    }
                    continue;
                }
                Part::Var {
                    name,
                    default,
                    quoted,
                } => (self.parameter(name, default.as_ref(), io)?, *quoted),
                Part::Subst { script, quoted } => (self.capture(script, io), *quoted),
                Part::Arith { expr, quoted } => match arith::evaluate(expr, self) {
                    Ok(value) => (value.to_string(), *quoted),
                    Err(error) => {
                        io.clone()
                            .error(format_args!("sh: arithmetic syntax error: {error}"));
                        return Err(Flow::Exit(2));
                    }
                },
            };
            if quoted || !split {
                current.get_or_insert_with(String::new).push_str(&value);
                continue;
            }
            for c in value.chars() {
                if matches!(c, ' ' | '\t' | '\n') {
                    fields.extend(current.take());
                } else {
                    current.get_or_insert_with(String::new).push(c);
                }
            }
        }
        fields.extend(current);
        Ok(fields)
    }

    fn parameter(
        &mut self,
        name: &str,
        default: Option<&crate::lexer::Default>,
        io: &Io,
    ) -> Result<String, Flow> {
        if let Some(target) = name.strip_prefix('#').filter(|rest| !rest.is_empty()) {
            return Ok(self
                .var(target)
                .unwrap_or_default()
                .chars()
                .count()
                .to_string());
        }
        let value = self.var(name);
        let Some(default) = default else {
            return Ok(value.unwrap_or_default());
        };
        let missing = match &value {
            None => true,
            Some(text) => default.colon && text.is_empty(),
        };
        let word = || -> Word { default.word.clone() };
        match default.op {
            '-' if missing => Ok(self.expand(&word(), false, io)?.join(" ")),
            '=' if missing => {
                let assigned = self.expand(&word(), false, io)?.join(" ");
                self.set_var(name, assigned.clone());
                Ok(assigned)
            }
            '+' if missing => Ok(String::new()),
            '+' => Ok(self.expand(&word(), false, io)?.join(" ")),
            '?' if missing => {
                let message = self.expand(&word(), false, io)?.join(" ");
                let message = if message.is_empty() {
                    "parameter not set".into()
                } else {
                    message
                };
                io.clone().error(format_args!("sh: {name}: {message}"));
                Err(Flow::Exit(1))
            }
            _ => Ok(value.unwrap_or_default()),
        }
    }

    /// `$(script)`: runs it in a copy of this shell and returns its output minus trailing newlines.
    pub fn capture(&mut self, script: &str, io: &Io) -> String {
        let (sink, buffer) = Sink::buffer();
        let capture_io = Io {
            stdin: io.stdin.clone(),
            stdout: sink,
            stderr: io.stderr.clone(),
        };
        let mut child = self.clone();
        self.status = child.run_script(script, &capture_io);
        let output = String::from_utf8_lossy(&buffer.take()).into_owned();
        output.trim_end_matches('\n').to_string()
    }

    /// Whether `path` (as given to a command) names an existing directory.
    pub fn is_dir(&self, path: &str) -> bool {
        Path::new(&self.resolve(path)).is_dir()
    }
}
