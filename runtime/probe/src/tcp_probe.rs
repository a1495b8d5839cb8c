//! `pkg/probe/tcp` `DoTCPProbe`: connect, close, done.

use std::time::Duration;

use tokio::time::Instant;

use crate::dial::{close_lingering, dial, DialFailure};
use crate::network::Network;
use crate::outcome::ProbeOutcome;

/// Opens a TCP connection to `host:port` within `timeout` and closes it at once.
/// Success has an empty output; dial errors are failures carrying Go's text, e.g.
/// `dial tcp 10.244.1.5:8080: connect: connection refused` or `... i/o timeout`.
pub async fn tcp_socket(
    host: &str,
    port: u16,
    timeout: Duration,
    network: &Network,
) -> ProbeOutcome {
    let deadline = Instant::now() + timeout;
    match dial(host, port, deadline, network).await {
        Ok(stream) => {
            close_lingering(stream);
            ProbeOutcome::success("")
        }
        Err(DialFailure::TimedOut { target }) => {
            ProbeOutcome::failure(DialFailure::timeout_text(&target))
        }
        Err(DialFailure::Failed(text)) => ProbeOutcome::failure(text),
    }
}
