//! One Deployment's sync state plus the ReplicaSet plumbing of `sync.go`:
//! `getAllReplicaSetsAndSyncRevision`, `getNewReplicaSet`, `scaleReplicaSet`.

use serde_json::{json, Value};
use wasmpod_apiserver::{ApiServer, EventKind, EventRecorder};

use super::hash::{compute_hash, equal_ignore_hash};
use super::util::{self, POD_TEMPLATE_HASH, PROGRESSING, REVISION};
use crate::error::Result;
use crate::object;
use crate::runner::Requeue;

/// A Deployment being synced: the object as last written (so consecutive writes in one sync
/// do not conflict with each other) and its claimed ReplicaSets, kept current likewise.
pub(super) struct DeploymentSync<'a> {
    pub api: &'a ApiServer,
    pub recorder: &'a EventRecorder,
    pub d: Value,
    pub rs_list: Vec<Value>,
    pub requeue: Requeue,
}

impl<'a> DeploymentSync<'a> {
    pub fn new(
        api: &'a ApiServer,
        recorder: &'a EventRecorder,
        d: Value,
        rs_list: Vec<Value>,
    ) -> Self {
        DeploymentSync {
            api,
            recorder,
            d,
            rs_list,
            requeue: Requeue::default(),
        }
    }

    pub fn namespace(&self) -> String {
        object::namespace(&self.d).to_string()
    }

    pub fn replicas(&self) -> i32 {
        object::spec_replicas(&self.d)
    }

    /// Replaces (by UID) or adds a ReplicaSet this sync wrote.
    fn remember(&mut self, rs: &Value) {
        match self
            .rs_list
            .iter_mut()
            .find(|r| object::uid(r) == object::uid(rs))
        {
            Some(slot) => *slot = rs.clone(),
            None => self.rs_list.push(rs.clone()),
        }
    }

    pub async fn event(&self, kind: EventKind, reason: &str, message: &str) {
        self.recorder.record(&self.d, kind, reason, message).await;
    }

    /// Writes `desired`'s annotations (a main-resource update) and status (the status
    /// subresource) where they differ from the stored Deployment. Upstream writes both with
    /// one `UpdateStatus`, whose Deployment strategy keeps metadata changes.
    pub async fn persist(&mut self, desired: Value) -> Result<()> {
        let annotations = |d: &Value| d.pointer("/metadata/annotations").cloned();
        if annotations(&desired) != annotations(&self.d) {
            let mut body = self.d.clone();
            body["metadata"]["annotations"] = annotations(&desired).unwrap_or(Value::Null);
            self.d = self
                .api
                .update_object(
                    "deployments",
                    &self.namespace(),
                    object::name(&self.d),
                    body,
                )
                .await?;
        }
        let status = desired.get("status").cloned().unwrap_or(json!({}));
        if self.d.get("status") != Some(&status) {
            let mut body = self.d.clone();
            body["status"] = status;
            self.d = self
                .api
                .update_status(
                    "deployments",
                    &self.namespace(),
                    object::name(&self.d),
                    body,
                )
                .await?;
        }
        Ok(())
    }

    /// `FindNewReplicaSet`: the oldest ReplicaSet whose template equals the Deployment's.
    pub fn find_new(&self) -> Option<Value> {
        let mut sorted = self.rs_list.clone();
        util::sort_by_creation(&mut sorted);
        let template = self.d.pointer("/spec/template").unwrap_or(&Value::Null);
        sorted.into_iter().find(|rs| {
            equal_ignore_hash(
                rs.pointer("/spec/template").unwrap_or(&Value::Null),
                template,
            )
        })
    }

    /// `getAllReplicaSetsAndSyncRevision`: (new ReplicaSet, all old ones).
    pub async fn all_replica_sets(&mut self, create: bool) -> Result<(Option<Value>, Vec<Value>)> {
        let new = self.find_new();
        let old: Vec<Value> = self
            .rs_list
            .iter()
            .filter(|rs| {
                new.as_ref()
                    .is_none_or(|n| object::uid(n) != object::uid(rs))
            })
            .cloned()
            .collect();
        let new = self.new_replica_set(&old, create).await?;
        Ok((new, old))
    }

    /// `getNewReplicaSet`: finds the new ReplicaSet and syncs its annotations and the
    /// Deployment's revision, or (with `create`) creates it.
    async fn new_replica_set(&mut self, old: &[Value], create: bool) -> Result<Option<Value>> {
        let new_revision = util::max_revision(old) + 1;
        if let Some(existing) = self.find_new() {
            let mut copy = existing.clone();
            let annotations_changed =
                util::set_new_rs_annotations(&self.d, &mut copy, new_revision, true);
            let min_ready = object::min_ready_seconds(&self.d);
            if annotations_changed || object::min_ready_seconds(&copy) != min_ready {
                set_min_ready_seconds(&mut copy, min_ready);
                let name = object::name(&copy).to_string();
                let written = self
                    .api
                    .update_object("replicasets", &self.namespace(), &name, copy)
                    .await?;
                self.remember(&written);
                return Ok(Some(written));
            }
            let mut d = self.d.clone();
            let revision = object::annotation(&copy, REVISION)
                .unwrap_or("")
                .to_string();
            let mut needs_update = util::set_deployment_revision(&mut d, &revision);
            if util::progress_deadline_seconds(&d).is_some()
                && util::condition(&d["status"], PROGRESSING).is_none()
            {
                let message = format!("Found new replica set \"{}\"", object::name(&copy));
                let condition =
                    util::new_condition(PROGRESSING, "True", util::FOUND_NEW_RS, &message);
                util::set_condition(status_mut(&mut d), condition);
                needs_update = true;
            }
            if needs_update {
                self.persist(d).await?;
            }
            return Ok(Some(copy));
        }
        if !create {
            return Ok(None);
        }
        self.create_new_replica_set(old, new_revision)
            .await
            .map(Some)
    }

    async fn create_new_replica_set(&mut self, old: &[Value], new_revision: i64) -> Result<Value> {
        let d = self.d.clone();
        let collision_count = d.pointer("/status/collisionCount").and_then(Value::as_i64);
        let mut template = d.pointer("/spec/template").cloned().unwrap_or(json!({}));
        let hash = compute_hash(&template, collision_count);
        object::ensure_object(&mut template["metadata"]);
        object::ensure_object(&mut template["metadata"]["labels"]);
        template["metadata"]["labels"][POD_TEMPLATE_HASH] = json!(hash);
        let mut selector = d.pointer("/spec/selector").cloned().unwrap_or(json!({}));
        object::ensure_object(&mut selector["matchLabels"]);
        selector["matchLabels"][POD_TEMPLATE_HASH] = json!(hash);
        let name = format!("{}-{hash}", object::name(&d));
        let mut new_rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self.namespace(),
                "ownerReferences": [object::controller_ref(&d, "apps/v1", "Deployment")],
                "labels": template["metadata"]["labels"].clone(),
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
        });
        set_min_ready_seconds(&mut new_rs, object::min_ready_seconds(&d));
        let mut all: Vec<Value> = old.to_vec();
        all.push(new_rs.clone());
        let replicas = new_rs_replicas(&d, &all, &new_rs);
        new_rs["spec"]["replicas"] = json!(replicas);
        util::set_new_rs_annotations(&d, &mut new_rs, new_revision, false);

        let (created, already_existed) = match self
            .api
            .create_object("replicasets", &self.namespace(), new_rs)
            .await
        {
            Ok(created) => (created, false),
            Err(error) if error.code == 409 => {
                let existing = self
                    .api
                    .get_object("replicasets", &self.namespace(), &name)
                    .await?;
                let ours =
                    object::controller_of(&existing).is_some_and(|c| c.uid == object::uid(&d));
                let same_template = equal_ignore_hash(
                    d.pointer("/spec/template").unwrap_or(&Value::Null),
                    existing.pointer("/spec/template").unwrap_or(&Value::Null),
                );
                if !(ours && same_template) {
                    // A hash collision: bump collisionCount so the next sync picks another name.
                    let mut bumped = self.d.clone();
                    status_mut(&mut bumped)["collisionCount"] =
                        json!(collision_count.unwrap_or(0) + 1);
                    self.persist(bumped).await?;
                    return Err(error.into());
                }
                (existing, true)
            }
            Err(error) => {
                let message = format!(
                    "Failed to create new replica set \"{name}\": {}",
                    error.message
                );
                if util::progress_deadline_seconds(&d).is_some() {
                    let mut failed = self.d.clone();
                    let condition =
                        util::new_condition(PROGRESSING, "False", util::FAILED_RS_CREATE, &message);
                    util::set_condition(status_mut(&mut failed), condition);
                    // The create error is the one to report.
                    let _ = self.persist(failed).await;
                }
                self.event(EventKind::Warning, util::FAILED_RS_CREATE, &message)
                    .await;
                return Err(error.into());
            }
        };
        self.remember(&created);
        if !already_existed && replicas > 0 {
            let message = format!("Scaled up replica set {name} from 0 to {replicas}");
            self.event(EventKind::Normal, "ScalingReplicaSet", &message)
                .await;
        }
        let mut updated = self.d.clone();
        let mut needs_update =
            util::set_deployment_revision(&mut updated, &new_revision.to_string());
        if !already_existed && util::progress_deadline_seconds(&updated).is_some() {
            let message = format!("Created new replica set \"{name}\"");
            let condition =
                util::new_condition(PROGRESSING, "True", util::NEW_RS_CREATED, &message);
            util::set_condition(status_mut(&mut updated), condition);
            needs_update = true;
        }
        if needs_update {
            self.persist(updated).await?;
        }
        Ok(created)
    }

    /// `scaleReplicaSetAndRecordEvent`.
    pub async fn scale_and_record(&mut self, rs: &Value, new_scale: i32) -> Result<(bool, Value)> {
        if object::spec_replicas(rs) == new_scale {
            return Ok((false, rs.clone()));
        }
        self.scale_replica_set(rs, new_scale).await
    }

    /// `scaleReplicaSet`: sets the size and the replica annotations; the
    /// `ScalingReplicaSet` event is recorded when the size changed.
    pub async fn scale_replica_set(&mut self, rs: &Value, new_scale: i32) -> Result<(bool, Value)> {
        let desired = self.replicas();
        let max = desired + util::max_surge(&self.d);
        let old_scale = object::spec_replicas(rs);
        let size_changes = old_scale != new_scale;
        if !size_changes && !util::replicas_annotations_need_update(rs, desired, max) {
            return Ok((false, rs.clone()));
        }
        let mut copy = rs.clone();
        copy["spec"]["replicas"] = json!(new_scale);
        util::set_replicas_annotations(&mut copy, desired, max);
        let written = self
            .api
            .update_object("replicasets", object::namespace(rs), object::name(rs), copy)
            .await?;
        self.remember(&written);
        if size_changes {
            let direction = if old_scale < new_scale { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} replica set {} from {old_scale} to {new_scale}",
                object::name(rs)
            );
            self.event(EventKind::Normal, "ScalingReplicaSet", &message)
                .await;
        }
        Ok((size_changes, written))
    }
}

/// `NewRSNewReplicas`: how far the new ReplicaSet may grow now.
pub(super) fn new_rs_replicas(d: &Value, all: &[Value], new_rs: &Value) -> i32 {
    let desired = object::spec_replicas(d);
    let current_new = object::spec_replicas(new_rs);
    if util::is_recreate(d) {
        return desired;
    }
    let current_total = util::spec_replica_sum(all);
    let max_total = desired + util::max_surge(d);
    if current_total >= max_total {
        return current_new;
    }
    let scale_up = (max_total - current_total).min(desired - current_new);
    current_new + scale_up
}

pub(super) fn status_mut(d: &mut Value) -> &mut Value {
    object::ensure_object(&mut d["status"]);
    &mut d["status"]
}

fn set_min_ready_seconds(rs: &mut Value, seconds: i64) {
    object::ensure_object(&mut rs["spec"]);
    match (&mut rs["spec"], seconds) {
        (Value::Object(spec), 0) => {
            spec.remove("minReadySeconds");
        }
        (spec, seconds) => spec["minReadySeconds"] = json!(seconds),
    }
}
