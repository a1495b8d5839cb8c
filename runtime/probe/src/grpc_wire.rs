//! gRPC length-prefixed framing and the two `grpc.health.v1` messages, hand-encoded
//! (`HealthCheckRequest { string service = 1; }`,
//! `HealthCheckResponse { ServingStatus status = 1; }`).

/// `:path` of the health RPC.
pub(crate) const HEALTH_CHECK_PATH: &str = "/grpc.health.v1.Health/Check";

/// grpc-go's default `MaxCallRecvMsgSize`.
pub(crate) const MAX_RECEIVE_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

const FRAME_HEADER_BYTES: usize = 5;
const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LENGTH_DELIMITED: u64 = 2;
const WIRE_FIXED32: u64 = 5;

/// protobuf-go's error for any malformed input.
pub(crate) const PROTO_PARSE_ERROR: &str = "proto: cannot parse invalid wire-format data";

/// The request, framed: flag 0 (uncompressed), big-endian length, message.
/// proto3 leaves an empty `service` out, so `""` is an empty message.
pub(crate) fn framed_health_check_request(service: &str) -> Vec<u8> {
    let mut message = Vec::new();
    if !service.is_empty() {
        put_varint(&mut message, (1 << 3) | WIRE_LENGTH_DELIMITED);
        put_varint(&mut message, service.len() as u64);
        message.extend_from_slice(service.as_bytes());
    }
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + message.len());
    frame.push(0);
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(&message);
    frame
}

/// One length-prefixed message split off the front of the received bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameRead<'a> {
    /// Not all of the frame has arrived (or nothing at all).
    Incomplete,
    Message {
        compressed_flag: u8,
        declared_length: usize,
        payload: &'a [u8],
        rest: &'a [u8],
    },
}

pub(crate) fn read_frame(data: &[u8]) -> FrameRead<'_> {
    let Some(header) = data.get(..FRAME_HEADER_BYTES) else {
        return FrameRead::Incomplete;
    };
    let declared_length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    let body = &data[FRAME_HEADER_BYTES..];
    if body.len() < declared_length {
        return FrameRead::Incomplete;
    }
    FrameRead::Message {
        compressed_flag: header[0],
        declared_length,
        payload: &body[..declared_length],
        rest: &body[declared_length..],
    }
}

/// The `status` field of a `HealthCheckResponse` (proto3: absent means 0, `UNKNOWN`;
/// the last occurrence wins; fields of other numbers or wire types are skipped).
pub(crate) fn decode_health_check_response(mut message: &[u8]) -> Result<i32, &'static str> {
    let mut status = 0;
    while !message.is_empty() {
        let key = take_varint(&mut message)?;
        let (field, wire_type) = (key >> 3, key & 7);
        if field == 0 {
            return Err(PROTO_PARSE_ERROR);
        }
        match wire_type {
            WIRE_VARINT => {
                let value = take_varint(&mut message)?;
                if field == 1 {
                    // An int32 enum: the low 32 bits, as Go's int32 conversion.
                    status = value as u32 as i32;
                }
            }
            WIRE_FIXED64 => skip(&mut message, 8)?,
            WIRE_LENGTH_DELIMITED => {
                let length = take_varint(&mut message)?;
                let length = usize::try_from(length).map_err(|_| PROTO_PARSE_ERROR)?;
                skip(&mut message, length)?;
            }
            WIRE_FIXED32 => skip(&mut message, 4)?,
            _ => return Err(PROTO_PARSE_ERROR),
        }
    }
    Ok(status)
}

/// `HealthCheckResponse_ServingStatus.String()`: the enum name, or the number.
pub(crate) fn serving_status_name(status: i32) -> String {
    match status {
        0 => "UNKNOWN".into(),
        1 => "SERVING".into(),
        2 => "NOT_SERVING".into(),
        3 => "SERVICE_UNKNOWN".into(),
        other => other.to_string(),
    }
}

pub(crate) const SERVING: i32 = 1;

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(data: &mut &[u8]) -> Result<u64, &'static str> {
    let mut value = 0u64;
    for index in 0..10 {
        let Some((&byte, rest)) = data.split_first() else {
            return Err(PROTO_PARSE_ERROR);
        };
        *data = rest;
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(PROTO_PARSE_ERROR)
}

fn skip(data: &mut &[u8], count: usize) -> Result<(), &'static str> {
    if data.len() < count {
        return Err(PROTO_PARSE_ERROR);
    }
    *data = &data[count..];
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_frames_match_protobuf_encoding() {
        assert_eq!(framed_health_check_request(""), [0, 0, 0, 0, 0]);
        assert_eq!(
            framed_health_check_request("ok"),
            [0, 0, 0, 0, 4, 0x0a, 2, b'o', b'k']
        );
        let long = "s".repeat(200);
        let frame = framed_health_check_request(&long);
        assert_eq!(&frame[..8], &[0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01]);
    }

    #[test]
    fn frames_are_split_only_when_complete() {
        assert_eq!(read_frame(&[0, 0, 0]), FrameRead::Incomplete);
        assert_eq!(read_frame(&[0, 0, 0, 0, 2, 8]), FrameRead::Incomplete);
        assert_eq!(
            read_frame(&[1, 0, 0, 0, 2, 8, 1, 9]),
            FrameRead::Message {
                compressed_flag: 1,
                declared_length: 2,
                payload: &[8, 1],
                rest: &[9],
            }
        );
    }

    #[test]
    fn responses_decode_like_protobuf_go() {
        assert_eq!(decode_health_check_response(&[]), Ok(0));
        assert_eq!(decode_health_check_response(&[8, 1]), Ok(1));
        assert_eq!(decode_health_check_response(&[8, 2]), Ok(2));
        // Unknown fields are skipped; the last status wins.
        assert_eq!(
            decode_health_check_response(&[8, 1, 0x12, 1, b'x', 0x1d, 0, 0, 0, 0, 8, 3]),
            Ok(3)
        );
        // -1 as a 10-byte varint.
        let minus_one = [
            8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(decode_health_check_response(&minus_one), Ok(-1));
        assert_eq!(decode_health_check_response(&[8]), Err(PROTO_PARSE_ERROR));
        assert_eq!(
            decode_health_check_response(&[0x12, 5, 1]),
            Err(PROTO_PARSE_ERROR)
        );
    }

    #[test]
    fn status_names() {
        assert_eq!(serving_status_name(2), "NOT_SERVING");
        assert_eq!(serving_status_name(3), "SERVICE_UNKNOWN");
        assert_eq!(serving_status_name(7), "7");
    }
}
