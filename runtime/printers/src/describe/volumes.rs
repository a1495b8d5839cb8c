//! `Volumes:` section of `kubectl describe pod` (`describe.go` `describeVolumes` and the
//! `print…VolumeSource` helpers for the volume types a wasmpod pod can carry).

use k8s_openapi::api::core::v1::{ProjectedVolumeSource, Volume};

use super::prefix_writer::{PrefixWriter, LEVEL_0, LEVEL_1, LEVEL_2};
use crate::quantity::nano_value;
use crate::text::or_empty;

pub fn describe_volumes(w: &mut PrefixWriter, volumes: Option<&Vec<Volume>>) {
    let volumes = match volumes {
        Some(v) if !v.is_empty() => v,
        _ => {
            w.write(LEVEL_0, "Volumes:\t<none>\n");
            return;
        }
    };
    w.write(LEVEL_0, "Volumes:\n");
    for volume in volumes {
        w.write(LEVEL_1, &format!("{}:\n", volume.name));
        describe_volume_source(w, volume);
    }
}

fn describe_volume_source(w: &mut PrefixWriter, volume: &Volume) {
    if let Some(host_path) = &volume.host_path {
        let host_path_type = host_path.type_.as_deref().unwrap_or("<none>");
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{host_path_type}\n",
                host_path.path
            ),
        );
    } else if let Some(empty_dir) = &volume.empty_dir {
        let size_limit = match &empty_dir.size_limit {
            Some(q) if nano_value(q).unwrap_or(0) > 0 => q.0.clone(),
            _ => "<unset>".to_string(),
        };
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{size_limit}\n",
                or_empty(&empty_dir.medium)
            ),
        );
    } else if let Some(secret) = &volume.secret {
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                or_empty(&secret.secret_name),
                secret.optional.unwrap_or(false)
            ),
        );
    } else if let Some(config_map) = &volume.config_map {
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                config_map.name,
                config_map.optional.unwrap_or(false)
            ),
        );
    } else if let Some(nfs) = &volume.nfs {
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t{}\n    Path:\t{}\n    ReadOnly:\t{}\n",
                nfs.server,
                nfs.path,
                nfs.read_only.unwrap_or(false)
            ),
        );
    } else if let Some(claim) = &volume.persistent_volume_claim {
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                claim.claim_name,
                claim.read_only.unwrap_or(false)
            ),
        );
    } else if volume.ephemeral.is_some() {
        // The claim template details are not rendered here.
        w.write(
            LEVEL_2,
            "Type:\tEphemeralVolume (an inline specification for a volume that gets created and deleted with the pod)\n",
        );
    } else if let Some(downward_api) = &volume.downward_api {
        w.write(
            LEVEL_2,
            "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
        );
        for item in downward_api.items.iter().flatten() {
            if let Some(field_ref) = &item.field_ref {
                w.write(
                    LEVEL_2 + 1,
                    &format!("{} -> {}\n", field_ref.field_path, item.path),
                );
            }
            if let Some(resource_ref) = &item.resource_field_ref {
                w.write(
                    LEVEL_2 + 1,
                    &format!("{} -> {}\n", resource_ref.resource, item.path),
                );
            }
        }
    } else if let Some(projected) = &volume.projected {
        print_projected_volume_source(w, projected);
    } else if let Some(csi) = &volume.csi {
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t{}\n    FSType:\t{}\n    ReadOnly:\t{}\n",
                csi.driver,
                or_empty(&csi.fs_type),
                csi.read_only.unwrap_or(false)
            ),
        );
        print_csi_volume_attributes(w, csi.volume_attributes.as_ref());
    } else if let Some(image) = &volume.image {
        w.write(
            LEVEL_2,
            &format!(
                "Type:\tImage (a container image or OCI artifact)\n    Reference:\t{}\n    PullPolicy:\t{}\n",
                or_empty(&image.reference),
                or_empty(&image.pull_policy)
            ),
        );
    } else {
        // Also used for the legacy in-tree cloud volume types, which wasmpod does not support.
        w.write(LEVEL_1, "<unknown>\n");
    }
}

/// kubectl ≥ 1.33 form (`Optional:  false` under `ConfigMapName:`).
fn print_projected_volume_source(w: &mut PrefixWriter, projected: &ProjectedVolumeSource) {
    w.write(
        LEVEL_2,
        "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
    );
    for source in projected.sources.iter().flatten() {
        if let Some(secret) = &source.secret {
            w.write(
                LEVEL_2,
                &format!(
                    "SecretName:\t{}\n    Optional:\t{}\n",
                    secret.name,
                    secret.optional.unwrap_or(false)
                ),
            );
        } else if source.downward_api.is_some() {
            w.write(LEVEL_2, "DownwardAPI:\ttrue\n");
        } else if let Some(config_map) = &source.config_map {
            w.write(
                LEVEL_2,
                &format!(
                    "ConfigMapName:\t{}\n    Optional:\t{}\n",
                    config_map.name,
                    config_map.optional.unwrap_or(false)
                ),
            );
        } else if let Some(token) = &source.service_account_token {
            // expirationSeconds defaults to 3600 on the server.
            w.write(
                LEVEL_2,
                &format!(
                    "TokenExpirationSeconds:\t{}\n",
                    token.expiration_seconds.unwrap_or(3600)
                ),
            );
        }
    }
}

fn print_csi_volume_attributes(
    w: &mut PrefixWriter,
    attributes: Option<&std::collections::BTreeMap<String, String>>,
) {
    const MAX_LEN: usize = 140;
    w.write(LEVEL_2, "VolumeAttributes:\t");
    let attributes = match attributes {
        Some(a) if !a.is_empty() => a,
        _ => {
            w.write_line("<none>");
            return;
        }
    };
    for (i, (key, value)) in attributes.iter().enumerate() {
        if i != 0 {
            w.write(LEVEL_2, "");
            w.write(LEVEL_2, "\t");
        }
        let line = format!("{key}={value}");
        if line.len() > MAX_LEN {
            let mut cut = MAX_LEN;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            w.write(LEVEL_2, &format!("{}...\n", &line[..cut]));
        } else {
            w.write(LEVEL_2, &format!("{line}\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(volumes: serde_json::Value) -> String {
        let volumes: Vec<Volume> = serde_json::from_value(volumes).expect("valid volumes");
        let mut w = PrefixWriter::new();
        describe_volumes(&mut w, Some(&volumes));
        w.write(LEVEL_0, "QoS Class:\tBestEffort\n");
        w.finish()
    }

    #[test]
    fn projected_service_account_volume_matches_spec_layout() {
        let out = render(json!([{
            "name": "kube-api-access-7xk2p",
            "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ]},
        }]));
        assert_eq!(
            out,
            "Volumes:\n  kube-api-access-7xk2p:\n    Type:                    Projected (a volume that contains injected data from multiple sources)\n    TokenExpirationSeconds:  3607\n    ConfigMapName:           kube-root-ca.crt\n    Optional:                false\n    DownwardAPI:             true\nQoS Class:                   BestEffort\n"
        );
    }

    #[test]
    fn empty_dir_and_host_path() {
        let out = render(json!([
            {"name": "scratch", "emptyDir": {}},
            {"name": "data", "hostPath": {"path": "/srv"}},
        ]));
        assert_eq!(
            out,
            "Volumes:\n  scratch:\n    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:     \n    SizeLimit:  <unset>\n  data:\n    Type:          HostPath (bare host directory volume)\n    Path:          /srv\n    HostPathType:  <none>\nQoS Class:         BestEffort\n"
        );
    }

    #[test]
    fn no_volumes() {
        let mut w = PrefixWriter::new();
        describe_volumes(&mut w, None);
        assert_eq!(w.finish(), "Volumes:  <none>\n");
    }
}
