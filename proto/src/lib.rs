//! Kursi's protobuf contracts, generated once for every crate in the workspace.
//!
//! The `.proto` files under `proto/` are the source of truth; this crate only
//! exposes what `build.rs` generated from them, plus the encoded descriptor set.

/// The encoded `google.protobuf.FileDescriptorSet` of every Kursi contract and
/// its imports, with source info (comments) kept for reflection and OpenAPI.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/kursi_descriptor.bin"));

#[allow(clippy::all, clippy::pedantic, missing_docs)]
mod generated {
    pub mod google {
        pub mod api {
            include!(concat!(env!("OUT_DIR"), "/google.api.rs"));
        }
        pub mod longrunning {
            include!(concat!(env!("OUT_DIR"), "/google.longrunning.rs"));
        }
        pub mod rpc {
            include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
        }
    }
    pub mod kursi {
        pub mod access {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/kursi.access.v1.rs"));
            }
        }
        pub mod auth {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/kursi.auth.v1.rs"));
            }
        }
        pub mod catalog {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/kursi.catalog.v1.rs"));
            }
        }
        pub mod field {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/kursi.field.v1.rs"));
            }
        }
        pub mod order {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/kursi.order.v1.rs"));
            }
        }
        pub mod reservation {
            pub mod v1 {
                include!(concat!(env!("OUT_DIR"), "/kursi.reservation.v1.rs"));
            }
        }
    }
}

pub use generated::google;
pub use generated::kursi::{access, auth, catalog, field, order, reservation};
