//! `/docs` in a real browser: headless Chromium, driven by Playwright
//! (`edge/tests/browser/docs.py`), lists the routes of all four services,
//! takes a bearer token in "Authorize", and shows GET /api/me answering
//! 200 on the page. `scripts/test` installs Debian's chromium and
//! Playwright (PyPI) and says where they are; without them the test says
//! it was skipped, and why.

use std::path::PathBuf;

use kursi_proto::access::v1::Role;
use testkit::TestAuth;

use crate::support::{Edge, upstream};

#[tokio::test]
async fn docs_list_every_service_and_try_it_out_answers_on_the_page() {
    let Some(python) = std::env::var_os("KURSI_BROWSER_PYTHON") else {
        eprintln!(
            "SKIPPED: KURSI_BROWSER_PYTHON is not set (scripts/test sets it once Chromium and \
             Playwright are installed; they could not be here)"
        );
        return;
    };
    let auth = TestAuth::start().await;
    let edge = Edge::start(vec![upstream("auth", auth.url())]).await;
    let siti = auth.sign_up(Role::Customer).await;
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let screenshot = here.join("../target/docs-in-chromium.png");
    let url = format!("http://{}/docs/", edge.addr);
    let run = tokio::process::Command::new(python)
        .arg(here.join("tests/browser/docs.py"))
        .args([&url, &siti.access_token])
        .arg(&screenshot)
        .output()
        .await
        .expect("run the browser");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "the browser check failed:\n{said}");
    assert!(said.contains("answered 200 on the page"), "{said}");
    assert!(screenshot.exists());
}
