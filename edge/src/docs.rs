//! `GET /docs`: Swagger UI over the edge's own `/openapi.json`, so anyone
//! can read the API and try it from a browser ("Authorize" takes the
//! `access_token` of `POST /api/token`). The assets are built into the
//! binary (utoipa-swagger-ui, vendored): nothing is fetched from the
//! internet, at build time or at run time.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa_swagger_ui::Config;

/// Where the UI lives, and the document it shows.
pub const DOCS_PATH: &str = "/docs";
const DOCUMENT: &str = "/openapi.json";

fn config() -> Arc<Config<'static>> {
    Arc::new(
        Config::new([DOCUMENT])
            .try_it_out_enabled(true)
            .persist_authorization(true)
            .display_request_duration(true)
            .filter(true),
    )
}

/// `/docs` itself: on to `/docs/`, so the UI's relative asset paths resolve.
pub async fn index() -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(LOCATION, HeaderValue::from_static("/docs/"))],
    )
        .into_response()
}

/// One of the UI's files; `index.html` for `/docs/`.
pub async fn file(path: Option<Path<String>>) -> Response {
    let path = path.map(|Path(path)| path).unwrap_or_default();
    match utoipa_swagger_ui::serve(&path, config()) {
        Ok(Some(file)) => {
            let mut response = (
                [
                    (CONTENT_TYPE, file.content_type),
                    (CACHE_CONTROL, "no-cache".to_owned()),
                ],
                file.bytes.into_owned(),
            )
                .into_response();
            if file.gzpipped {
                response
                    .headers_mut()
                    .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => crate::error::ApiError::not_found(&http::Method::GET, &format!("/docs/{path}"))
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "Swagger UI could not be served");
            crate::error::ApiError::new(tonic::Code::Internal, "the docs could not be served")
                .into_response()
        }
    }
}
