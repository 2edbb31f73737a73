//! The protobuf messages of Corona-Warn-App's presence tracing, plus OpenZone's extension of the vendor
//! data, generated from `wire/proto/presence_tracing.proto` (its header gives CWA's sources).

include!(concat!(env!("OUT_DIR"), "/openzone.presence.rs"));
