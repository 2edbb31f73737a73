//! Generates the protobuf messages of wire/proto/ (the key export format, CWA's presence tracing) with
//! prost-build, parsing the .proto files with protox: pure Rust, so the build needs no `protoc`.

use std::error::Error;

const PROTOS: [&str; 2] = ["proto/export.proto", "proto/presence_tracing.proto"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
