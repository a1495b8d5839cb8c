//! Container logs: guest stdout/stderr as timestamped lines in bounded buffers that keep the
//! current and the previous instance (`logs --previous`), with a feed for `logs -f`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tokio::sync::broadcast;
use wasmpod_engine::{LogSink, LogStream};

use crate::clock::SharedClock;

/// Bytes of log text kept per instance; older lines are dropped first.
const MAX_BYTES_PER_INSTANCE: usize = 1 << 20;
/// Longer lines are split, as CRI runtimes do (16 KiB).
const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub timestamp: Timestamp,
    pub stream: LogStream,
    pub text: String,
}

#[derive(Default)]
struct InstanceLog {
    lines: VecDeque<LogLine>,
    bytes: usize,
}

impl InstanceLog {
    fn push(&mut self, line: LogLine) {
        self.bytes += line.text.len() + 1;
        self.lines.push_back(line);
        while self.bytes > MAX_BYTES_PER_INSTANCE {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.text.len() + 1,
                None => break,
            }
        }
    }
}

#[derive(Default)]
struct State {
    current: InstanceLog,
    previous: Option<InstanceLog>,
    /// Bytes of an unfinished line per stream (guests may write a line in pieces).
    partial: [Vec<u8>; 2],
    /// Instances seen so far; `follow` readers stop when it changes.
    generation: u64,
    /// Whether the current instance is still running (more lines may come).
    running: bool,
}

/// New lines of one instance, for `logs -f`.
pub struct LogFeed {
    generation: u64,
    receiver: broadcast::Receiver<(u64, Option<LogLine>)>,
}

impl LogFeed {
    /// The next line, or `None` once the instance has ended.
    pub async fn next(&mut self) -> Option<LogLine> {
        loop {
            match self.receiver.recv().await {
                Ok((generation, Some(line))) if generation == self.generation => return Some(line),
                Ok((generation, _)) if generation < self.generation => continue,
                Ok(_) | Err(broadcast::error::RecvError::Closed) => return None,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
            }
        }
    }
}

/// The logs of one container across its restarts.
pub struct ContainerLogs {
    clock: SharedClock,
    state: Mutex<State>,
    feed: broadcast::Sender<(u64, Option<LogLine>)>,
}

impl ContainerLogs {
    pub fn new(clock: SharedClock) -> Arc<Self> {
        let (feed, _) = broadcast::channel(1024);
        Arc::new(ContainerLogs {
            clock,
            state: Mutex::new(State::default()),
            feed,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new instance starts: the current log becomes the previous one.
    pub fn start_instance(&self) {
        let mut state = self.lock();
        self.flush_partial(&mut state);
        if state.generation > 0 {
            state.previous = Some(std::mem::take(&mut state.current));
        }
        state.generation += 1;
        state.running = true;
    }

    /// The instance ended: an unterminated last line is still a line.
    pub fn end_instance(&self) {
        let mut state = self.lock();
        self.flush_partial(&mut state);
        state.running = false;
        let _ = self.feed.send((state.generation, None));
    }

    fn flush_partial(&self, state: &mut State) {
        for (index, stream) in [LogStream::Stdout, LogStream::Stderr]
            .into_iter()
            .enumerate()
        {
            if !state.partial[index].is_empty() {
                let bytes = std::mem::take(&mut state.partial[index]);
                self.push_line(state, stream, &bytes);
            }
        }
    }

    fn push_line(&self, state: &mut State, stream: LogStream, bytes: &[u8]) {
        let line = LogLine {
            timestamp: self.clock.now(),
            stream,
            text: String::from_utf8_lossy(bytes).into_owned(),
        };
        let _ = self.feed.send((state.generation, Some(line.clone())));
        state.current.push(line);
    }

    /// Lines of the current (or previous) instance.
    pub fn lines(&self, previous: bool) -> Option<Vec<LogLine>> {
        let state = self.lock();
        let log = if previous {
            state.previous.as_ref()?
        } else {
            &state.current
        };
        Some(log.lines.iter().cloned().collect())
    }

    /// Lines of the current instance plus, while it runs, a feed of the ones that follow
    /// (taken atomically). The feed carries `None` when that instance ends.
    pub fn follow(&self) -> (Vec<LogLine>, Option<LogFeed>) {
        let state = self.lock();
        let feed = state.running.then(|| LogFeed {
            generation: state.generation,
            receiver: self.feed.subscribe(),
        });
        (state.current.lines.iter().cloned().collect(), feed)
    }

    pub fn sink(self: &Arc<Self>) -> Arc<dyn LogSink> {
        Arc::new(Sink(self.clone()))
    }
}

struct Sink(Arc<ContainerLogs>);

impl LogSink for Sink {
    fn write(&self, stream: LogStream, bytes: &[u8]) {
        let logs = &self.0;
        let index = match stream {
            LogStream::Stdout => 0,
            LogStream::Stderr => 1,
        };
        let mut state = logs.lock();
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|b| *b == b'\n') {
            let mut line = std::mem::take(&mut state.partial[index]);
            line.extend_from_slice(&rest[..newline]);
            logs.push_line(&mut state, stream, &line);
            rest = &rest[newline + 1..];
        }
        state.partial[index].extend_from_slice(rest);
        while state.partial[index].len() >= MAX_LINE {
            let tail = state.partial[index].split_off(MAX_LINE);
            let line = std::mem::replace(&mut state.partial[index], tail);
            logs.push_line(&mut state, stream, &line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    #[test]
    fn reassembles_lines_written_in_pieces_and_keeps_the_previous_instance() {
        let logs = ContainerLogs::new(Arc::new(SystemClock));
        logs.start_instance();
        let sink = logs.sink();
        sink.write(LogStream::Stderr, b"allocated ");
        sink.write(LogStream::Stderr, b"48");
        sink.write(LogStream::Stderr, b" MiB\nnext");
        logs.end_instance();
        let texts = |lines: Vec<LogLine>| lines.into_iter().map(|l| l.text).collect::<Vec<_>>();
        assert_eq!(
            texts(logs.lines(false).unwrap()),
            ["allocated 48 MiB", "next"]
        );
        assert!(logs.lines(true).is_none());
        logs.start_instance();
        sink.write(LogStream::Stdout, b"second\n");
        assert_eq!(texts(logs.lines(false).unwrap()), ["second"]);
        assert_eq!(
            texts(logs.lines(true).unwrap()),
            ["allocated 48 MiB", "next"]
        );
    }

    #[test]
    fn drops_oldest_lines_beyond_the_cap() {
        let logs = ContainerLogs::new(Arc::new(SystemClock));
        logs.start_instance();
        let sink = logs.sink();
        let line = vec![b'x'; 1023];
        for _ in 0..2048 {
            sink.write(LogStream::Stdout, &line);
            sink.write(LogStream::Stdout, b"\n");
        }
        let kept = logs.lines(false).unwrap();
        assert!(kept.len() <= MAX_BYTES_PER_INSTANCE / 1024);
        assert!(kept.len() > 900);
    }
}
