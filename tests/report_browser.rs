//! The HTML report as a person sees it: rendered in headless Chromium at
//! 1,400 and 1,000 px (and 960 px, about an A4 landscape page), nothing
//! may stick out of the window, and it prints to PDF. `make test` installs
//! Chromium; plain `cargo test` lists this test as ignored.

mod common;
use common::{gridsim, root, tmpdir};
use std::path::Path;
use std::process::Command;

/// Marks every element whose box leaves the window, and every box that
/// scrolls sideways, on the body's `data-overflow` attribute.
const CHECK: &str = r#"<script>
window.addEventListener('load', () => {
  const w = document.documentElement.clientWidth;
  const bad = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) {
      bad.push(e.tagName + ':' + Math.round(r.left) + '-' + Math.round(r.right));
    }
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible') {
      bad.push('scrolls:' + e.tagName);
    }
  }
  if (document.documentElement.scrollWidth > w + 1) bad.push('page:' + document.documentElement.scrollWidth);
  document.body.setAttribute('data-overflow', bad.slice(0, 20).join(' ') || 'none');
  document.body.setAttribute('data-width', String(w));
});
</script>"#;

fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        Path::new(path).exists(),
        "Chromium not found at {path}: `make test` installs it (scripts/setup.sh test)"
    );
    path
}

fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
#[ignore = "needs Chromium; `make test` installs it and runs this test"]
fn report_fits_the_window_and_prints() {
    let dir = tmpdir("browser");
    let h5 = dir.join("rural.h5");
    let sc = root().join("scenarios/rural_chp_renewables.toml");
    let o = gridsim(&[
        "run",
        sc.to_str().unwrap(),
        "--steps",
        "1500",
        "--quiet",
        "--out",
        h5.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = dir.join("report.html");
    let o = gridsim(&[
        "report",
        h5.to_str().unwrap(),
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    // What a reader needs is there: descriptions, plain headers, limits.
    assert!(page.contains("four 3 MWp PV parks at the far ends of the feeders"));
    assert!(page.contains("Grid losses (MWh)") && !page.contains("<th>loss_mwh</th>"));
    assert!(page.contains("lower limit 0.95"));
    let checked = dir.join("checked.html");
    std::fs::write(
        &checked,
        page.replace("</body>", &format!("{CHECK}</body>")),
    )
    .unwrap();
    for width in [1400, 1000, 960] {
        let out = headless(&dir.join(format!("profile-{width}")))
            .arg(format!("--window-size={width},2000"))
            .arg("--dump-dom")
            .arg(format!("file://{}", checked.display()))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&out.stdout);
        let Some(i) = dom.find("data-overflow=\"") else {
            panic!(
                "Chromium rendered nothing at {width} px: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let verdict = &dom[i + 15..];
        let verdict = &verdict[..verdict.find('"').unwrap()];
        assert_eq!(verdict, "none", "at {width} px these overflow: {verdict}");
    }
    let pdf = dir.join("report.pdf");
    let out = headless(&dir.join("profile-pdf"))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let bytes = std::fs::read(&pdf).unwrap_or_default();
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 50_000,
        "no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}
