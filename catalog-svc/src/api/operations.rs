//! The gRPC face of `google.longrunning.Operations`, for the catalog's
//! import operations. Who may call each method is declared in
//! `proto/kursi/catalog/v1/operations.proto` (the vendored contract cannot
//! say it): admins.

use std::time::Duration;

use kursi_proto::google::longrunning::operations_server::Operations as OperationsService;
use kursi_proto::google::longrunning::*;
use service_kit::auth::actor;
use tonic::{Request, Response, Status};

use super::parse;
use crate::operations::Operations;
use crate::render;

/// The handlers' state, built by [`crate::app::run`].
pub struct OperationsApi {
    pub operations: Operations,
    /// The server's own limit on a call, which WaitOperation stays within.
    pub request_timeout: Duration,
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl OperationsService for OperationsApi {
    async fn list_operations(
        &self,
        request: Request<ListOperationsRequest>,
    ) -> Reply<ListOperationsResponse> {
        let list = parse::operation_list(request.get_ref())?;
        let page = self.operations.list(&list).await?;
        let now = self.operations.now();
        Ok(Response::new(render::operation_page(&page, now)))
    }

    async fn get_operation(&self, request: Request<GetOperationRequest>) -> Reply<Operation> {
        let name = parse::operation_name(&request.get_ref().name)?;
        let row = self.operations.get(name).await?;
        Ok(Response::new(render::operation(
            &row,
            self.operations.now(),
        )))
    }

    async fn delete_operation(&self, request: Request<DeleteOperationRequest>) -> Reply<()> {
        let name = parse::operation_name(&request.get_ref().name)?;
        self.operations.delete(name).await?;
        Ok(Response::new(()))
    }

    async fn cancel_operation(&self, request: Request<CancelOperationRequest>) -> Reply<()> {
        let actor = actor(&request)?;
        let name = parse::operation_name(&request.get_ref().name)?;
        self.operations.cancel(actor, name).await?;
        Ok(Response::new(()))
    }

    async fn wait_operation(&self, request: Request<WaitOperationRequest>) -> Reply<Operation> {
        let deadline = parse::grpc_timeout(request.metadata());
        let r = request.get_ref();
        let name = parse::operation_name(&r.name)?;
        let limit = parse::wait_limit(r.timeout.as_ref(), deadline, self.request_timeout)?;
        let row = self.operations.wait(name, limit).await?;
        Ok(Response::new(render::operation(
            &row,
            self.operations.now(),
        )))
    }
}
