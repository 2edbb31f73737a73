//! The protobuf messages of the exposure-notification key export format, generated from
//! `wire/proto/export.proto` (Google's `export.proto`; its header gives the source).

include!(concat!(env!("OUT_DIR"), "/openzone.export.rs"));
