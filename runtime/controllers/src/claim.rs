//! `ControllerRefManager.ClaimObject` (`pkg/controller/controller_ref_manager.go`): a
//! controller owns the objects it controls; orphans matching its selector are adopted, owned
//! objects that stopped matching are released.

use serde_json::Value;
use wasmpod_apimachinery::Selector;
use wasmpod_apiserver::ApiServer;

use crate::error::{ControllerError, Result};
use crate::object::{self, controller_of};

/// The controller doing the claiming.
pub(crate) struct Claimer<'a> {
    pub api: &'a ApiServer,
    /// The controller object (as cached).
    pub owner: &'a Value,
    /// Its plural resource, for the adoption re-check.
    pub owner_resource: &'a str,
    pub owner_api_version: &'a str,
    pub owner_kind: &'a str,
    /// The dependents' plural resource (`pods`, `replicasets`).
    pub resource: &'a str,
    pub selector: &'a Selector,
    /// `RecheckDeletionTimestamp`'s answer, fetched once before the first adoption.
    can_adopt: Option<bool>,
}

impl<'a> Claimer<'a> {
    pub fn new(
        api: &'a ApiServer,
        owner: &'a Value,
        owner_resource: &'a str,
        owner_api_version: &'a str,
        owner_kind: &'a str,
        resource: &'a str,
        selector: &'a Selector,
    ) -> Claimer<'a> {
        Claimer {
            api,
            owner,
            owner_resource,
            owner_api_version,
            owner_kind,
            resource,
            selector,
            can_adopt: None,
        }
    }

    /// The objects among `candidates` this controller owns after claiming; adopted ones are
    /// returned as written.
    pub async fn claim(
        &mut self,
        candidates: impl IntoIterator<Item = &Value>,
    ) -> Result<Vec<Value>> {
        let mut claimed = Vec::new();
        let mut first_error: Option<ControllerError> = None;
        for candidate in candidates {
            match self.claim_one(candidate).await {
                Ok(Some(object)) => claimed.push(object),
                Ok(None) => {}
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(claimed),
        }
    }

    async fn claim_one(&mut self, candidate: &Value) -> Result<Option<Value>> {
        let owner_uid = object::uid(self.owner);
        let matches = self.selector.matches(object::labels(candidate));
        if let Some(controller) = controller_of(candidate) {
            if controller.uid != owner_uid {
                return Ok(None);
            }
            if matches {
                return Ok(Some(candidate.clone()));
            }
            if object::is_being_deleted(self.owner) {
                return Ok(None);
            }
            self.release(candidate).await?;
            return Ok(None);
        }
        if object::is_being_deleted(self.owner)
            || !matches
            || object::is_being_deleted(candidate)
            || object::namespace(candidate) != object::namespace(self.owner)
        {
            return Ok(None);
        }
        if !self.can_adopt().await? {
            return Ok(None);
        }
        self.adopt(candidate).await
    }

    /// `RecheckDeletionTimestamp`: a fresh read of the owner must show the same UID and no
    /// deletion, so an owner deleted meanwhile never adopts anything.
    async fn can_adopt(&mut self) -> Result<bool> {
        if let Some(answer) = self.can_adopt {
            return Ok(answer);
        }
        let fresh = match self
            .api
            .get_object(
                self.owner_resource,
                object::namespace(self.owner),
                object::name(self.owner),
            )
            .await
        {
            Ok(fresh) => fresh,
            Err(error) if error.code == 404 => {
                self.can_adopt = Some(false);
                return Ok(false);
            }
            Err(error) => return Err(error.into()),
        };
        let answer =
            object::uid(&fresh) == object::uid(self.owner) && !object::is_being_deleted(&fresh);
        self.can_adopt = Some(answer);
        Ok(answer)
    }

    async fn adopt(&self, candidate: &Value) -> Result<Option<Value>> {
        let mut adopted = candidate.clone();
        object::push_owner_ref(
            &mut adopted,
            object::controller_ref(self.owner, self.owner_api_version, self.owner_kind),
        );
        self.write(candidate, adopted).await
    }

    async fn release(&self, candidate: &Value) -> Result<()> {
        let owner_uid = object::uid(self.owner).to_string();
        let released = object::retain_owner_refs(candidate, |r| {
            r.get("uid").and_then(Value::as_str) != Some(owner_uid.as_str())
        });
        self.write(candidate, released).await.map(|_| ())
    }

    /// A compare-and-swap update (the cached resourceVersion must still be current); a
    /// vanished object is simply not claimed.
    async fn write(&self, cached: &Value, updated: Value) -> Result<Option<Value>> {
        match self
            .api
            .update_object(
                self.resource,
                object::namespace(cached),
                object::name(cached),
                updated,
            )
            .await
        {
            Ok(written) => Ok(Some(written)),
            Err(error) if error.code == 404 => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}
