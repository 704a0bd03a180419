//! Compiles every `.proto` under `kursi/` with protox (pure Rust, so no `protoc`
//! is needed) and generates tonic clients and servers from the result. The
//! vendored `google/` files are compiled as the Kursi files import them
//! (`google/api`, and `google/longrunning` with `google/rpc` for the
//! catalog's long-running operations), never listed on their own.
//!
//! The encoded FileDescriptorSet is written to OUT_DIR as well: reflection
//! serves it, and the services and the edge read the `google.api.http` and
//! `kursi.access.v1.policy` options (and the files' `external_method`
//! declarations) from it at run time.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut protos = Vec::new();
    collect_protos(&root.join("kursi"), &mut protos)?;
    protos.sort();

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&protos)?;

    // Encoded by protox itself: prost's own types would drop the custom
    // method options (`google.api.http`, `kursi.access.v1.policy`) that the
    // services and the edge read at run time.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("kursi_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let fds = compiler.file_descriptor_set();

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
