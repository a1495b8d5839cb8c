//! wasmpod-tables: kube-apiserver 1.33's server-side printing for `kubectl get`.
//!
//! kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and only aligns what the
//! server sends, so the exact `meta.k8s.io/v1` `Table` decides what `kubectl get` prints:
//!
//! * [`table_for`] — the Table of a list (or single GET);
//! * [`watch_event_table`] / [`WatchTables`] — the one-row Tables of `kubectl get -w`;
//! * [`column_definitions`] — the registered columns of each kind.
//!
//! Ports `pkg/printers/internalversion/printers.go`, `pkg/printers/tablegenerator.go` and
//! `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go`. The server always
//! prints wide (`GenerateOptions{Wide: true}`); kubectl hides priority-1 columns itself.
//! Every age is computed against the caller's `now`.

mod columns;
mod docs;
mod error;
mod format;
mod kind;
mod kinds;
mod table;

pub use columns::{column_definitions, ColumnDefinition};
pub use error::TableError;
pub use kind::{IncludeObject, ResourceKind};
pub use kinds::{row, Row};
pub use table::{table_for, watch_event_table, ListMeta, WatchTables};
