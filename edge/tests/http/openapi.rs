//! `GET /openapi.json`: generated from the same descriptors as the routes.

use serde_json::Value;

use crate::support::Edge;

#[tokio::test]
async fn the_document_describes_every_route_from_the_contracts() {
    let edge = Edge::start(vec![]).await;
    let doc = edge.get("/openapi.json").send().await.expect(200);
    assert_eq!(doc["openapi"], "3.0.3");

    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/token", "post"),
        ("/api/login", "post"),
        ("/api/me", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/api/reservations", "get"),
        ("/api/reservations", "post"),
        ("/api/reservations/{reservation_id}", "get"),
        ("/api/reservations/{reservation_id}/check-in", "post"),
        ("/api/stats", "get"),
        ("/api/movies/{movie_id}/showtimes", "get"),
        ("/api/orders", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path} is missing"
        );
    }

    let get = &doc["paths"]["/api/reservations/{reservation_id}"]["get"];
    let parameter = &get["parameters"][0];
    assert_eq!(parameter["name"], "reservation_id");
    assert_eq!(parameter["in"], "path");
    assert_eq!(parameter["required"], true);
    assert_eq!(get["security"][0]["bearerAuth"], Value::Array(vec![]));
    assert_eq!(
        get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/kursi.reservation.v1.Reservation"
    );

    // Query parameters of a list, and its bare-array reply.
    let list = &doc["paths"]["/api/reservations"]["get"];
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["skip", "limit", "status", "start_time_from"] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["type"],
        "array"
    );

    // The seed's form login, and no security on public methods.
    let token = &doc["paths"]["/api/token"]["post"];
    assert!(
        token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
        "{token}"
    );
    assert!(token.get("security").is_none());

    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["kursi.reservation.v1.ReservationStatus"]["enum"][1],
        "PENDING"
    );
    assert_eq!(
        schemas["kursi.reservation.v1.GetStatsResponse"]["properties"]["total_revenue"]["format"],
        "int64"
    );
    assert_eq!(
        schemas["kursi.reservation.v1.BookingInfo"]["properties"]["start_time"]["format"],
        "date-time"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );

    // Every operation id is unique, and every reference resolves.
    let mut ids = std::collections::HashSet::new();
    for item in paths.values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{id} twice");
        }
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let name = target.rsplit('/').next().unwrap();
        let section = if target.contains("/responses/") {
            "responses"
        } else {
            "schemas"
        };
        assert!(
            doc["components"][section].get(name).is_some(),
            "{target} does not resolve"
        );
    }
}

#[tokio::test]
async fn operations_that_take_an_idempotency_key_list_its_header_and_422() {
    let edge = Edge::start(vec![]).await;
    let doc = edge.get("/openapi.json").send().await.expect(200);
    let header = |path: &str, method: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
    };
    for (path, method) in [("/api/orders", "post"), ("/api/reservations", "post")] {
        assert!(
            header(path, method),
            "{method} {path} lacks Idempotency-Key"
        );
        assert!(
            doc["paths"][path][method]["responses"]["422"].is_object(),
            "{method} {path} lacks its 422"
        );
    }
    assert!(!header("/api/reservations/{reservation_id}", "get"));
    assert!(!header("/api/movies", "post"));
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary_over_the_edges_own_document() {
    let edge = Edge::start(vec![]).await;
    let moved = edge.get("/docs").send().await;
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("location"), Some("/docs/"));
    let page = edge.get("/docs/").send().await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(page.text().contains("swagger-ui"), "{}", page.text());
    let init = edge.get("/docs/swagger-initializer.js").send().await;
    assert_eq!(init.status, 200);
    assert!(init.text().contains("/openapi.json"), "{}", init.text());
    let missing = edge.get("/docs/no-such-file.js").send().await;
    assert_eq!(missing.status, 404);
}
