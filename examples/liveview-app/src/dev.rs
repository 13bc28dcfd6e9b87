//! Dev mode: the runtime's watcher on the template root; each batch becomes a notice to every
//! socket (re-render, swap the parts that changed) and the overlay's status.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use shipwright_runtime::dev::{Batch, Event, WatchError, Watcher};
use shipwright_runtime::{Binding, Reason, RebuildPlanner};

use crate::pages::{CounterPage, HomePage};
use crate::server::{AppState, Config, Status, StatusError, StatusReason};

/// Starts the watcher over `config.templates`, with the pages' bindings, dropping changed
/// templates from the renderer's cache; its events go to the sockets from a task.
pub(crate) fn start(
    app: &Arc<AppState>,
    planner: RebuildPlanner,
    config: &Config,
) -> Result<Watcher, WatchError> {
    let planner = planner
        .bind(Binding::of::<HomePage>())
        .bind(Binding::of::<CounterPage>());
    let mut builder = Watcher::builder(planner, vec![config.templates.clone()])
        .cache(Arc::clone(app.renderer.cache()));
    if let Some(window) = config.debounce {
        builder = builder.debounce(window);
    }
    let watcher = builder.start()?;
    *app.status.lock().expect("status lock") = Status {
        rebuild: reasons(watcher.plan().rebuild_reasons()),
        errors: Vec::new(),
    };
    let events = watcher.subscribe();
    let app = Arc::clone(app);
    tokio::spawn(async move {
        let mut errors: Vec<StatusError> = Vec::new();
        while let Ok(event) = events.recv_async().await {
            match event {
                Event::HotReload(batch) | Event::RebuildNeeded(batch) => {
                    log(&batch);
                    let status = Status {
                        rebuild: reasons(batch.rebuild_reasons()),
                        errors: std::mem::take(&mut errors),
                    };
                    *app.status.lock().expect("status lock") = status;
                    let generation = app.generation.fetch_add(1, Ordering::AcqRel) + 1;
                    let _ = app.notices.send(generation);
                }
                Event::Error(error) => {
                    eprintln!("shipwright: {error}");
                    errors.push(StatusError {
                        file: error.path.as_ref().map(|p| p.display().to_string()),
                        line: error.line,
                        message: error.message,
                    });
                }
                _ => {}
            }
        }
    });
    Ok(watcher)
}

fn log(batch: &Batch) {
    let names: Vec<&str> = batch.templates.iter().map(|t| t.name.as_str()).collect();
    if batch.plan.needs_rebuild() {
        for (template, reason) in batch.rebuild_reasons() {
            eprintln!("shipwright: cargo build needed for {template}: {reason}");
        }
    } else {
        eprintln!(
            "shipwright: hot reload of {} ({} affected)",
            names.join(", "),
            batch.affected().len()
        );
    }
}

/// The overlay's lines: per template, the file that changed (where the planner knows one)
/// and the sentence.
fn reasons<'a>(reasons: impl Iterator<Item = (&'a str, &'a Reason)>) -> Vec<StatusReason> {
    reasons
        .map(|(template, reason)| {
            let (file, line) = match reason.location() {
                Some((file, line)) => (file, Some(line)),
                None => (changed_file(reason), None),
            };
            StatusReason {
                template: template.to_string(),
                file: format!("templates/{file}"),
                line,
                reason: reason.to_string(),
            }
        })
        .collect()
}

/// The template whose edit caused `reason`.
fn changed_file(reason: &Reason) -> &str {
    match reason {
        Reason::Dependency { cause, .. } => changed_file(cause),
        Reason::MissingVariable { used_in, .. } => used_in,
        other => other.template(),
    }
}
