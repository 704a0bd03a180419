//! Server reflection: grpcurl needs no proto files, and `list` names only
//! what this port serves.

use kursi_proto::auth::v1::RegisterRequest;
use kursi_proto::auth::v1::auth_service_client::AuthServiceClient;
use testkit::{TestAuth, channel};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

async fn ask(auth: &TestAuth, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(channel(auth.addr()).await);
    let outbound = tokio_stream::iter([ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    }]);
    let mut inbound = client
        .server_reflection_info(outbound)
        .await
        .unwrap()
        .into_inner();
    inbound
        .message()
        .await
        .unwrap()
        .unwrap()
        .message_response
        .unwrap()
}

#[tokio::test]
async fn list_shows_this_service_health_and_reflection_only() {
    let auth = TestAuth::start().await;
    let MessageResponse::ListServicesResponse(list) =
        ask(&auth, MessageRequest::ListServices(String::new())).await
    else {
        panic!("not a list");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "kursi.auth.v1.AuthService",
        ]
    );
}

#[tokio::test]
async fn error_details_are_described_so_clients_can_decode_them() {
    let auth = TestAuth::start().await;
    let reply = ask(
        &auth,
        MessageRequest::FileContainingSymbol("google.rpc.BadRequest".into()),
    )
    .await;
    assert!(
        matches!(reply, MessageResponse::FileDescriptorResponse(_)),
        "{reply:?}"
    );

    // And the details really come with a validation error.
    let err = AuthServiceClient::new(channel(auth.addr()).await)
        .register(RegisterRequest::default())
        .await
        .expect_err("empty registration");
    assert!(!crate::violated_fields(&err).is_empty());
}
