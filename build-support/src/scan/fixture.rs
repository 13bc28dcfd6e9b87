//! Benchmark support: a generated template site (the scan benchmark and the planner's use the
//! same one) and the shared summary file the benchmarks write their figures to.
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! let files = shipwright_build::scan::fixture::generate_site(dir.path(), 10);
//! assert_eq!(files.len(), 264 + 10);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::path::{Path, PathBuf};

/// A realistic site: 20 layouts extending 4 bases, 200 partials (some including others), 40 macro
/// files, the rest pages extending a layout, including partials, importing macros; a few dynamic
/// includes. Every file is padded with markup to about 2 KiB.
pub fn generate_site(root: &Path, pages: usize) -> Vec<PathBuf> {
    let filler = "<div class=\"row\"><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p></div>\n";
    let pad = |mut s: String| {
        while s.len() < 2048 {
            s.push_str(filler);
        }
        s
    };
    let mut files = Vec::new();
    let mut put = |name: String, text: String| {
        let path = root.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        files.push(path);
    };
    for b in 0..4 {
        put(format!("bases/base{b}.html"), pad(format!("<html><head><title>{{% block title %}}{{{{ site.name }}}}{{% endblock %}}</title></head>\n<body>{{% include 'partials/p{b:03}.html' %}}{{% block body %}}{{% endblock %}}</body></html>\n")));
    }
    for l in 0..20 {
        put(format!("layouts/l{l:02}.html"), pad(format!("{{% extends 'bases/base{}.html' %}}\n{{% block body %}}<aside>{{% include 'partials/p{:03}.html' %}}</aside>{{% block main %}}{{% endblock %}}{{% endblock %}}\n", l % 4, l * 7 % 200)));
    }
    for p in 0..200 {
        let inner = if p % 3 == 0 { format!("{{% include 'partials/p{:03}.html' %}}", (p + 1) % 200) } else { String::new() };
        put(format!("partials/p{p:03}.html"), pad(format!("<section class=\"p{p}\">{{{{ item.title|e }}}}{inner}{{% if user %}}{{{{ user.name }}}}{{% endif %}}</section>\n")));
    }
    for m in 0..40 {
        put(format!("macros/m{m:02}.html"), pad(format!("{{% macro card{m}(title, body) -%}}<div class=\"card\"><h3>{{{{ title }}}}</h3>{{{{ body }}}}</div>{{%- endmacro %}}\n")));
    }
    for i in 0..pages {
        let dynamic = if i % 50 == 0 { "{% include 'widgets/' ~ widget ~ '.html' ignore missing %}" } else { "" };
        put(format!("pages/section{:02}/page{i:05}.html", i % 100), pad(format!(
            "{{% extends 'layouts/l{:02}.html' %}}\n{{% import 'macros/m{:02}.html' as ui %}}\n{{% block title %}}Page {i}{{% endblock %}}\n{{% block main %}}\n{{% for item in items %}}{{{{ ui.card{}(item.title, item.body) }}}}{{% endfor %}}\n{{% include ['partials/p{:03}.html', 'partials/p{:03}.html'] %}}{dynamic}\n{{% endblock %}}\n",
            i % 20, i % 40, i % 40, i % 200, (i * 13) % 200
        )));
    }
    files
}


/// Merges figures into `target/shipwright-bench/summary.json` (under the workspace root),
/// `{"unit": {metric: unit}, "metrics": {metric: {implementation: value}}}`, keeping what other
/// benchmarks wrote.
pub fn merge_summary(units: serde_json::Map<String, serde_json::Value>, metrics: serde_json::Map<String, serde_json::Value>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/shipwright-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("summary.json");
    let mut summary: serde_json::Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|v: &serde_json::Value| v["unit"].is_object() && v["metrics"].is_object())
        .unwrap_or_else(|| serde_json::json!({ "unit": {}, "metrics": {} }));
    for (section, values) in [("unit", units), ("metrics", metrics)] {
        summary[section].as_object_mut().expect("checked above").extend(values);
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&summary).unwrap()).unwrap();
}
