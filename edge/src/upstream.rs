//! The gRPC side: one lazily connected, pooled channel per upstream service,
//! and a tonic generic client that sends [`DynamicMessage`]s through a small
//! codec, so no RPC needs generated client code here. Replies come back as
//! bytes and are decoded by the caller, which knows what a reply that does
//! not fit the contract means (502, not a panic or a 500).

use std::time::Duration;

use bytes::{Buf, Bytes};
use prost::Message;
use prost_reflect::DynamicMessage;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Endpoint};

use crate::config::Upstream;

/// The largest reply the edge accepts from a service.
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;

/// The channels, by upstream name (`auth`, `reservation`, …).
#[derive(Clone, Debug, Default)]
pub struct Upstreams {
    channels: Vec<(String, Channel)>,
}

impl Upstreams {
    pub fn new(upstreams: &[Upstream]) -> Result<Self, tonic::transport::Error> {
        let channels = upstreams
            .iter()
            .map(|upstream| {
                let channel = Endpoint::from_shared(upstream.url.clone())?
                    .connect_timeout(Duration::from_secs(2))
                    .tcp_nodelay(true)
                    .http2_keep_alive_interval(Duration::from_secs(30))
                    .keep_alive_timeout(Duration::from_secs(10))
                    .connect_lazy();
                Ok((upstream.name.clone(), channel))
            })
            .collect::<Result<_, tonic::transport::Error>>()?;
        Ok(Self { channels })
    }

    pub fn get(&self, name: &str) -> Option<&Channel> {
        self.channels
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, channel)| channel)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Channel)> {
        self.channels
            .iter()
            .map(|(name, channel)| (name.as_str(), channel))
    }
}

/// A tonic client for one call of any RPC.
pub fn client(channel: &Channel) -> tonic::client::Grpc<Channel> {
    tonic::client::Grpc::new(channel.clone()).max_decoding_message_size(MAX_REPLY_BYTES)
}

/// Encodes [`DynamicMessage`] requests; hands replies over as bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamicCodec;

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = Bytes;
    type Encoder = DynamicEncoder;
    type Decoder = BytesDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesDecoder
    }
}

#[derive(Debug)]
pub struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|err| Status::internal(format!("could not encode the request: {err}")))
    }
}

#[derive(Debug)]
pub struct BytesDecoder;

impl Decoder for BytesDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
