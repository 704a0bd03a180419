//! Compiles every `.proto` under `kursi/` with protox (pure Rust, so no `protoc`
//! is needed) and generates tonic clients and servers from the result.
//!
//! The encoded FileDescriptorSet is written to OUT_DIR as well: reflection
//! serves it, and the services and the edge read the `google.api.http` and
//! `kursi.access.v1.policy` options from it at run time.

use std::path::{Path, PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut protos = Vec::new();
    collect_protos(&root.join("kursi"), &mut protos)?;
    protos.sort();

    let fds = protox::Compiler::new([&root])?
        .include_imports(true)
        .include_source_info(true)
        .open_files(&protos)?
        .file_descriptor_set();

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("kursi_descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Services not built yet answer UNIMPLEMENTED instead of failing to compile.
        .generate_default_stubs(true)
        .compile_fds(fds)?;

    println!("cargo:rerun-if-changed={}", root.join("kursi").display());
    println!("cargo:rerun-if-changed={}", root.join("google").display());
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
