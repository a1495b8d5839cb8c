//! Tasks that stop when their handle is dropped.

use tokio::task::JoinHandle;

pub(crate) struct AbortOnDrop(pub JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
