//! A cheap first check on imported bytes; the engine validates the component fully.

use crate::error::ImageError;

const MAGIC: &[u8; 4] = b"\0asm";
/// Version 0x0d, layer 1: the component model binary format.
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
/// Version 1, layer 0: a core module.
const CORE_MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

/// Accepts a WebAssembly component; `file` names the input in the error.
pub fn ensure_component(bytes: &[u8], file: &str) -> Result<(), ImageError> {
    let header = bytes.get(..8).filter(|header| header.starts_with(MAGIC));
    match header.map(|header| &header[4..]) {
        Some(version) if version == COMPONENT_VERSION => Ok(()),
        Some(version) if version == CORE_MODULE_VERSION => Err(ImageError::CoreModule {
            file: file.to_string(),
        }),
        _ => Err(ImageError::NotWasm {
            file: file.to_string(),
        }),
    }
}

/// Whether `bytes` start with the component header.
pub fn is_component(bytes: &[u8]) -> bool {
    ensure_component(bytes, "").is_ok()
}
