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

/// The contracts' `google.api.field_behavior` and `kursi.field.v1.rules`,
/// rendered as JSON Schema: what a generated client or a fuzzer needs to
/// know before the services refuse it.
#[tokio::test]
async fn the_document_says_what_each_field_accepts() {
    let edge = Edge::start(vec![]).await;
    let doc = edge.get("/openapi.json").send().await.expect(200);
    let schemas = &doc["components"]["schemas"];

    // A whole-body request: required fields, lengths, formats, bounds.
    let register = &schemas["kursi.auth.v1.RegisterRequest"];
    assert_eq!(
        register["required"],
        serde_json::json!(["email", "password", "display_name"])
    );
    assert_eq!(register["properties"]["email"]["format"], "email");
    assert_eq!(register["properties"]["email"]["maxLength"], 254);
    assert_eq!(register["properties"]["password"]["minLength"], 8);
    assert_eq!(register["properties"]["password"]["maxLength"], 72);
    assert_eq!(
        register["properties"]["username"]["pattern"],
        "^[A-Za-z0-9._-]+$"
    );
    // The edge refuses unknown fields of a request, not of a reply.
    assert_eq!(register["additionalProperties"], false);
    assert!(
        schemas["kursi.reservation.v1.Reservation"]
            .get("additionalProperties")
            .is_none()
    );
    // A form only where a form can carry the body: no nested message, no null.
    let form = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]
            .get("application/x-www-form-urlencoded")
            .is_some()
    };
    assert!(form("/api/token"));
    assert!(!form("/api/reservations"));

    // A required field is never null; an optional one with presence may be.
    let booking = &schemas["kursi.reservation.v1.CreateReservationRequest"];
    assert_eq!(
        booking["required"],
        serde_json::json!(["contact_info", "start_time"])
    );
    assert!(
        booking["properties"]["contact_info"]
            .get("nullable")
            .is_none()
    );
    assert!(
        booking["properties"]["start_time"]
            .get("nullable")
            .is_none()
    );
    assert_eq!(booking["properties"]["party_size"]["nullable"], true);
    let table = &schemas["kursi.reservation.v1.CreateTableRequest"];
    assert_eq!(table["properties"]["capacity"]["minimum"], 1);
    assert_eq!(table["properties"]["capacity"]["maximum"], 50);
    assert_eq!(
        table["properties"]["label"]["pattern"],
        edge::field_rules::LINE_PATTERN
    );
    let movie = &schemas["kursi.catalog.v1.CreateMovieRequest"];
    assert_eq!(movie["properties"]["release_date"]["format"], "date");
    assert_eq!(movie["properties"]["genres"]["maxItems"], 10);
    assert_eq!(movie["properties"]["genres"]["uniqueItems"], true);
    assert_eq!(movie["properties"]["genres"]["items"]["maxLength"], 50);
    let showtime = &schemas["kursi.catalog.v1.CreateShowtimeRequest"];
    assert_eq!(showtime["properties"]["movie_id"]["format"], "uuid");
    assert_eq!(showtime["properties"]["price"]["maximum"], 10_000_000);
    assert_eq!(
        schemas["kursi.catalog.v1.SeatLayout"]["required"],
        serde_json::json!(["rows", "seats_per_row"])
    );

    // Server-set fields are read-only; a message-typed one keeps its $ref.
    let reservation = &schemas["kursi.reservation.v1.Reservation"]["properties"];
    assert_eq!(reservation["reservation_id"]["readOnly"], true);
    assert_eq!(reservation["reservation_id"]["format"], "uuid");
    assert_eq!(reservation["create_time"]["readOnly"], true);
    assert_eq!(reservation["payment_info"]["readOnly"], true);
    assert!(reservation["payment_info"]["allOf"][0]["$ref"].is_string());

    // A body bound beside path variables: required, less the path's fields,
    // and the body itself required.
    let cancel = &doc["paths"]["/api/reservations/{reservation_id}/cancel"]["post"];
    assert_eq!(cancel["requestBody"]["required"], true);
    let body = &cancel["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["required"], serde_json::json!(["reason_code"]));
    // A required enum offers neither its zero value nor the refused ones.
    let reasons = body["properties"]["reason_code"]["enum"]
        .as_array()
        .unwrap();
    assert_eq!(
        reasons,
        &["CUSTOMER_REQUEST", "RESTAURANT_REQUEST", "OTHER"]
            .map(serde_json::Value::from)
            .to_vec()
    );
    assert_eq!(body["properties"]["description"]["maxLength"], 500);

    // Path parameters.
    let parameter = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path} has no {name}"))
            .clone()
    };
    let id = parameter(
        "/api/reservations/{reservation_id}",
        "get",
        "reservation_id",
    );
    assert_eq!(id["schema"]["format"], "uuid");
    let code = parameter("/api/tickets/{code}/redeem", "post", "code");
    assert_eq!(code["schema"]["minLength"], 26);
    assert_eq!(code["schema"]["pattern"], "^[A-Za-z2-7]+$");

    // Query parameters: required ones, formats and bounds.
    let date = parameter("/api/availability", "get", "date");
    assert_eq!(date["required"], true);
    assert_eq!(date["schema"]["format"], "date");
    let party = parameter("/api/availability", "get", "party_size");
    assert_eq!(party["required"], false);
    assert_eq!(party["schema"]["maximum"], 20);
    let limit = parameter("/api/reservations", "get", "limit");
    assert_eq!(limit["schema"]["maximum"], 100);
    let page_size = parameter("/api/movies", "get", "page_size");
    assert_eq!(page_size["schema"]["minimum"], 0);
    assert_eq!(
        parameter("/api/orders", "get", "customer_id")["schema"]["format"],
        "uuid"
    );

    // The vendored google.longrunning.Operations, as the catalog declares
    // its fields (`kursi.access.v1.ExternalMethod.fields`).
    assert_eq!(
        parameter("/api/operations", "get", "page_size")["schema"]["minimum"],
        0
    );
    let name = parameter("/api/{name}", "get", "name");
    assert!(
        name["schema"]["pattern"]
            .as_str()
            .unwrap()
            .starts_with("^operations/"),
        "{name}"
    );
}

#[tokio::test]
async fn each_create_links_to_the_operations_on_what_it_made() {
    let edge = Edge::start(vec![]).await;
    let doc = edge.get("/openapi.json").send().await.expect(200);
    let links = |path: &str| doc["paths"][path]["post"]["responses"]["200"]["links"].clone();
    for (create, get, id) in [
        (
            "/api/reservations",
            "ReservationService_GetReservation",
            "reservation_id",
        ),
        ("/api/movies", "CatalogService_GetMovie", "movie_id"),
        (
            "/api/showtimes",
            "CatalogService_GetShowtime",
            "showtime_id",
        ),
        ("/api/orders", "OrderService_GetOrder", "order_id"),
        ("/api/tables", "ReservationService_UpdateTable", "table_id"),
    ] {
        let link = &links(create)[get];
        assert_eq!(link["operationId"], get, "{create}: {}", links(create));
        assert_eq!(
            link["parameters"][id],
            format!("$response.body#/{id}"),
            "{create}"
        );
    }
    // Every link names an operation of the document.
    let ids: std::collections::HashSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap().to_owned())
        .collect();
    let linked = doc["paths"]["/api/reservations"]["post"]["responses"]["200"]["links"]
        .as_object()
        .unwrap();
    assert!(linked.contains_key("ReservationService_ConfirmReservation"));
    for link in linked.values() {
        assert!(
            ids.contains(link["operationId"].as_str().unwrap()),
            "{link}"
        );
    }
}
