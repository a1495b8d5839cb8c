//! Cloneable stdio endpoints, so redirections like `2>&1` can share one writer.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::rc::Rc;

/// Where a command's output goes.
#[derive(Clone)]
pub enum Sink {
    Stdout,
    Stderr,
    /// `/dev/null` (WASI has no device files).
    Null,
    File(Rc<RefCell<File>>),
    Buffer(Rc<RefCell<Vec<u8>>>),
}

impl Sink {
    pub fn buffer() -> (Sink, Rc<RefCell<Vec<u8>>>) {
        let shared = Rc::new(RefCell::new(Vec::new()));
        (Sink::Buffer(shared.clone()), shared)
    }

    pub fn file(file: File) -> Sink {
        Sink::File(Rc::new(RefCell::new(file)))
    }
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            // Flushed at once: a container's logs should appear before a following `sleep`.
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()?;
                Ok(bytes.len())
            }
            Sink::Stderr => io::stderr().write(bytes),
            Sink::Null => Ok(bytes.len()),
            Sink::File(file) => file.borrow_mut().write(bytes),
            Sink::Buffer(buffer) => {
                buffer.borrow_mut().extend_from_slice(bytes);
                Ok(bytes.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout => io::stdout().flush(),
            Sink::Stderr => io::stderr().flush(),
            Sink::File(file) => file.borrow_mut().flush(),
            Sink::Null | Sink::Buffer(_) => Ok(()),
        }
    }
}

/// Where a command's input comes from.
#[derive(Clone)]
pub enum Source {
    Stdin,
    Bytes(Rc<Vec<u8>>),
}

impl Source {
    pub fn empty() -> Source {
        Source::Bytes(Rc::new(Vec::new()))
    }

    /// Copies all remaining input to `sink`.
    pub fn copy_to(&self, sink: &mut Sink) -> io::Result<()> {
        match self {
            Source::Stdin => io::copy(&mut io::stdin().lock(), sink).map(|_| ()),
            Source::Bytes(bytes) => sink.write_all(bytes),
        }
    }

    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        match self {
            Source::Stdin => {
                let mut all = Vec::new();
                io::stdin().lock().read_to_end(&mut all)?;
                Ok(all)
            }
            Source::Bytes(bytes) => Ok(bytes.to_vec()),
        }
    }
}

/// The three standard streams of one command.
#[derive(Clone)]
pub struct Io {
    pub stdin: Source,
    pub stdout: Sink,
    pub stderr: Sink,
}

impl Io {
    pub fn process() -> Io {
        Io {
            stdin: Source::Stdin,
            stdout: Sink::Stdout,
            stderr: Sink::Stderr,
        }
    }

    /// Writes a diagnostic line; a failing stderr has nowhere else to report to.
    pub fn error(&mut self, message: std::fmt::Arguments) {
        let _ = writeln!(self.stderr, "{message}");
    }
}

/// strerror-like text for an I/O error, without Rust's ` (os error N)` suffix.
pub fn error_text(error: &io::Error) -> String {
    use io::ErrorKind::*;
    let text = match error.kind() {
        NotFound => "No such file or directory",
        PermissionDenied => "Permission denied",
        AlreadyExists => "File exists",
        IsADirectory => "Is a directory",
        NotADirectory => "Not a directory",
        DirectoryNotEmpty => "Directory not empty",
        ConnectionRefused => "Connection refused",
        ConnectionReset => "Connection reset by peer",
        TimedOut => "Connection timed out",
        ReadOnlyFilesystem => "Read-only file system",
        HostUnreachable => "No route to host",
        NetworkUnreachable => "Network is unreachable",
        _ => {
            let full = error.to_string();
            return match full.find(" (os error") {
                Some(cut) => full[..cut].to_string(),
                None => full,
            };
        }
    };
    text.to_string()
}
