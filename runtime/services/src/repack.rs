//! `endpoints.RepackSubsets` (pkg/api/v1/endpoints/util.go): one subset per distinct set of
//! addresses, carrying every port those addresses serve; an address that is not ready for
//! a port is not ready for it in the result ("not ready always trumps ready").
//!
//! Upstream orders subsets and the ports inside one subset by an MD5 hash of their Go
//! representation; here they keep the order in which they were first seen (service port
//! order), which is deterministic and reads naturally. Addresses are sorted by IP text, then
//! target uid, exactly as upstream.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset};

/// One pod's contribution: an address, the port it serves (none for a headless service
/// without ports) and whether it is ready.
pub(crate) struct Contribution {
    pub address: EndpointAddress,
    pub port: Option<EndpointPort>,
    pub ready: bool,
}

type AddressKey = (String, String);
type PortKey = Option<(String, i32, String, String)>;

fn address_key(address: &EndpointAddress) -> AddressKey {
    let uid = address
        .target_ref
        .as_ref()
        .and_then(|r| r.uid.clone())
        .unwrap_or_default();
    (address.ip.clone(), uid)
}

fn port_key(port: &Option<EndpointPort>) -> PortKey {
    port.as_ref().map(|p| {
        (
            p.name.clone().unwrap_or_default(),
            p.port,
            p.protocol.clone().unwrap_or_default(),
            p.app_protocol.clone().unwrap_or_default(),
        )
    })
}

pub(crate) fn repack(contributions: Vec<Contribution>) -> Vec<EndpointSubset> {
    let mut addresses: BTreeMap<AddressKey, EndpointAddress> = BTreeMap::new();
    // Ports in first-seen order, each with its addresses and their readiness.
    let mut ports: Vec<(Option<EndpointPort>, BTreeMap<AddressKey, bool>)> = Vec::new();
    for contribution in contributions {
        let key = address_key(&contribution.address);
        addresses.entry(key.clone()).or_insert(contribution.address);
        let wanted = port_key(&contribution.port);
        let index = match ports.iter().position(|(p, _)| port_key(p) == wanted) {
            Some(index) => index,
            None => {
                ports.push((contribution.port, BTreeMap::new()));
                ports.len() - 1
            }
        };
        let readiness = &mut ports[index].1;
        let ready = readiness.get(&key).copied().unwrap_or(true) && contribution.ready;
        readiness.insert(key, ready);
    }
    // Group the ports by the exact set of (address, ready) they are offered on.
    let mut groups: Vec<(BTreeMap<AddressKey, bool>, Vec<EndpointPort>)> = Vec::new();
    for (port, readiness) in ports {
        let group = match groups.iter().position(|(set, _)| *set == readiness) {
            Some(index) => &mut groups[index],
            None => {
                groups.push((readiness, Vec::new()));
                groups.last_mut().expect("just pushed")
            }
        };
        group.1.extend(port);
    }
    groups
        .into_iter()
        .map(|(readiness, ports)| {
            let pick = |want_ready: bool| -> Option<Vec<EndpointAddress>> {
                let list: Vec<EndpointAddress> = readiness
                    .iter()
                    .filter(|(_, ready)| **ready == want_ready)
                    .filter_map(|(key, _)| addresses.get(key).cloned())
                    .collect();
                (!list.is_empty()).then_some(list)
            };
            EndpointSubset {
                addresses: pick(true),
                not_ready_addresses: pick(false),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(ip: &str, uid: &str) -> EndpointAddress {
        EndpointAddress {
            ip: ip.into(),
            target_ref: Some(k8s_openapi::api::core::v1::ObjectReference {
                uid: Some(uid.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn port(name: &str, number: i32) -> Option<EndpointPort> {
        Some(EndpointPort {
            name: Some(name.into()),
            port: number,
            protocol: Some("TCP".into()),
            ..Default::default()
        })
    }

    #[test]
    fn pods_serving_the_same_ports_share_one_subset_sorted_by_ip() {
        let subsets = repack(vec![
            Contribution {
                address: address("127.1.0.9", "b"),
                port: port("http", 80),
                ready: true,
            },
            Contribution {
                address: address("127.1.0.9", "b"),
                port: port("admin", 81),
                ready: true,
            },
            Contribution {
                address: address("127.1.0.10", "a"),
                port: port("http", 80),
                ready: false,
            },
            Contribution {
                address: address("127.1.0.10", "a"),
                port: port("admin", 81),
                ready: false,
            },
        ]);
        assert_eq!(subsets.len(), 1);
        let subset = &subsets[0];
        let ips = |list: &Option<Vec<EndpointAddress>>| -> Vec<String> {
            list.iter().flatten().map(|a| a.ip.clone()).collect()
        };
        assert_eq!(ips(&subset.addresses), ["127.1.0.9"]);
        assert_eq!(ips(&subset.not_ready_addresses), ["127.1.0.10"]);
        let names: Vec<_> = subset
            .ports
            .iter()
            .flatten()
            .map(|p| p.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["http", "admin"]);
    }

    #[test]
    fn pods_with_different_target_ports_get_separate_subsets() {
        let subsets = repack(vec![
            Contribution {
                address: address("127.1.0.1", "a"),
                port: port("http", 8080),
                ready: true,
            },
            Contribution {
                address: address("127.1.0.2", "b"),
                port: port("http", 9090),
                ready: true,
            },
        ]);
        assert_eq!(subsets.len(), 2);
        assert_eq!(subsets[0].ports.as_ref().unwrap()[0].port, 8080);
        assert_eq!(subsets[1].ports.as_ref().unwrap()[0].port, 9090);
    }
}
