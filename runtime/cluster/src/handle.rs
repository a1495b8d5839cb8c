//! Handles that stop controller tasks when dropped (leader election may stop the control
//! plane at any point; all state is rebuilt from the API on the next start).

use tokio::task::JoinHandle;

/// One running controller; dropping it aborts the task.
#[derive(Debug)]
pub struct ControllerHandle {
    name: &'static str,
    task: JoinHandle<()>,
}

impl ControllerHandle {
    pub(crate) fn spawn(
        name: &'static str,
        future: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> ControllerHandle {
        ControllerHandle {
            name,
            task: tokio::spawn(future),
        }
    }

    /// The controller's component name (event `source.component`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// True once the task ended (it only ends when aborted or on a bug).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for ControllerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Every controller [`crate::start`] started; dropping it stops them all.
#[derive(Debug)]
pub struct ClusterControllers {
    pub(crate) controllers: Vec<ControllerHandle>,
}

impl ClusterControllers {
    /// The running controllers.
    pub fn controllers(&self) -> &[ControllerHandle] {
        &self.controllers
    }
}
