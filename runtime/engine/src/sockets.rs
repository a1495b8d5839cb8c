//! Sockets for command components: they may listen, but only on their pod's IP.
//!
//! A server written for a container binds `0.0.0.0:8080`; here that address is rewritten to
//! `<podIP>:8080` by shadowing `tcp-socket.start-bind`, and the address check refuses every
//! other bind and every connection except to the pod itself.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpSocketAddress};
use wasmtime_wasi::p2::bindings::sockets::tcp::HostTcpSocket;
use wasmtime_wasi::p2::{Network, SocketResult, TcpSocket};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};
use wasmtime_wasi::WasiCtxBuilder;

use crate::ctx::Ctx;

/// The interface version wasmtime-wasi implements; guests importing older 0.2.x versions
/// are matched to it by semver, so the shadow covers them too.
const TCP_INTERFACE: &str = "wasi:sockets/tcp@0.2.12";

type SocketArgs = (Resource<TcpSocket>, Resource<Network>, IpSocketAddress);
type SocketReturn = (Result<(), ErrorCode>,);

pub(crate) fn add_bind_rewrite(linker: &mut Linker<Ctx>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut tcp = linker.instance(TCP_INTERFACE)?;
    tcp.func_wrap_async(
        "[method]tcp-socket.start-bind",
        |mut store, (socket, network, address): SocketArgs| {
            Box::new(async move {
                let (mut view, address) = rewritten(store.data_mut(), address);
                to_wit(HostTcpSocket::start_bind(&mut view, socket, network, address).await)
            })
        },
    )?;
    // Connecting to "localhost" means the pod: other containers listen on the pod IP.
    tcp.func_wrap_async(
        "[method]tcp-socket.start-connect",
        |mut store, (socket, network, address): SocketArgs| {
            Box::new(async move {
                let (mut view, address) = rewritten(store.data_mut(), address);
                to_wit(HostTcpSocket::start_connect(
                    &mut view, socket, network, address,
                ))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The sockets view of the store and `address` with "this pod" made concrete.
fn rewritten(ctx: &mut Ctx, address: IpSocketAddress) -> (WasiSocketsCtxView<'_>, IpSocketAddress) {
    let address = rewrite(SocketAddr::from(address), ctx.pod_ip).into();
    let view = WasiSocketsCtxView {
        ctx: ctx.wasi.sockets(),
        table: &mut ctx.table,
    };
    (view, address)
}

/// A socket error is the guest's `error-code`; anything else traps.
fn to_wit(result: SocketResult<()>) -> wasmtime::Result<SocketReturn> {
    match result {
        Ok(()) => Ok((Ok(()),)),
        Err(error) => Ok((Err(error.downcast()?),)),
    }
}

/// `0.0.0.0`, `127.0.0.1`/`localhost` and `::` mean "this pod": the pod IP. (Connecting to
/// 0.0.0.0 reaches the local host on Linux too, so the same rule serves binds and connects.)
fn rewrite(address: SocketAddr, pod_ip: Option<Ipv4Addr>) -> SocketAddr {
    match (address.ip(), pod_ip) {
        (ip, Some(pod_ip)) if ip.is_unspecified() || ip == IpAddr::V4(Ipv4Addr::LOCALHOST) => {
            SocketAddr::new(IpAddr::V4(pod_ip), address.port())
        }
        _ => address,
    }
}

/// Grants a command container TCP on its pod IP — listening only on its declared ports, when
/// it declares any — and nothing else.
pub(crate) fn grant_pod_network(
    builder: &mut WasiCtxBuilder,
    pod_ip: Ipv4Addr,
    listen_ports: Vec<u16>,
) {
    builder
        .allow_tcp(true)
        .socket_addr_check(move |address, use_| {
            let own = address.ip() == IpAddr::V4(pod_ip);
            // Manifests often declare no ports at all (the Kubernetes docs' examples): then
            // any port on the pod IP, as in Kubernetes; declared ports are a promise kept.
            let declared = listen_ports.is_empty()
                || address.port() == 0
                || listen_ports.contains(&address.port());
            let allowed = match use_ {
                SocketAddrUse::TcpBind => (own || address.ip().is_unspecified()) && declared,
                // The port was checked at bind; listen on an implicitly bound socket picks an
                // ephemeral port.
                SocketAddrUse::TcpListen => own || address.ip().is_unspecified(),
                // Clients (probes, other pods) reach the listener from anywhere on the host.
                SocketAddrUse::TcpAccept => true,
                SocketAddrUse::TcpConnect => own,
                _ => false,
            };
            Box::pin(async move { allowed })
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_and_localhost_binds_become_the_pod_ip() {
        let pod = Some(Ipv4Addr::new(127, 1, 0, 7));
        let expect: SocketAddr = "127.1.0.7:8080".parse().unwrap();
        for bind in ["0.0.0.0:8080", "127.0.0.1:8080", "[::]:8080"] {
            assert_eq!(rewrite(bind.parse().unwrap(), pod), expect, "{bind}");
        }
        let other: SocketAddr = "127.9.9.9:80".parse().unwrap();
        assert_eq!(rewrite(other, pod), other);
    }
}
