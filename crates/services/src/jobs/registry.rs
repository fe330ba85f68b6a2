//! Which handler runs each kind of job, and which jobs recur when.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use steward_domain::job::{self as job_rules, ScheduleError, ScheduleSpec};

use super::{diagnostics, maintenance, retention};
use crate::gdpr::export;
use crate::request_log;
use crate::Services;

/// What a handler returns: `Err` carries the message recorded as the
/// job's `last_error`.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

pub(crate) type Handler = Arc<dyn Fn(Services, serde_json::Value) -> HandlerFuture + Send + Sync>;

/// A recurring job: at each instant of `spec`, one job of `kind` with an
/// empty payload.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: &'static str,
    pub spec: ScheduleSpec,
    pub kind: &'static str,
}

/// Handlers by kind, and the schedules. Cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<&'static str, Handler>,
    schedules: Vec<Schedule>,
}

impl Registry {
    /// An empty registry (tests build their own).
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Every handler and recurring job Steward has. Register new ones here,
    /// one line each (see the module documentation of `jobs`).
    pub fn builtin() -> Registry {
        let mut r = Registry::new();
        r.handler(diagnostics::SLEEP, diagnostics::sleep);
        r.handler(diagnostics::FAIL, diagnostics::fail);

        r.handler(retention::SESSIONS, retention::sessions);
        r.handler(retention::LOGIN_ATTEMPTS, retention::login_attempts);
        r.handler(retention::AUDIT_EVENTS, retention::audit_events);
        r.handler(retention::JOBS, retention::jobs);
        r.schedule(retention::SESSIONS, "hourly :05", retention::SESSIONS);
        r.schedule(
            retention::LOGIN_ATTEMPTS,
            "daily 03:10",
            retention::LOGIN_ATTEMPTS,
        );
        r.schedule(
            retention::AUDIT_EVENTS,
            "daily 03:20",
            retention::AUDIT_EVENTS,
        );
        r.schedule(retention::JOBS, "daily 03:40", retention::JOBS);

        r.handler(export::JOB_KIND, export::export_job);
        r.handler(export::EXPIRY_JOB_KIND, export::expiry_job);
        r.schedule(
            export::EXPIRY_JOB_KIND,
            export::EXPIRY_SCHEDULE,
            export::EXPIRY_JOB_KIND,
        );

        r.handler(maintenance::STATISTICS, maintenance::statistics);
        r.schedule(
            maintenance::STATISTICS,
            maintenance::STATISTICS_SCHEDULE,
            maintenance::STATISTICS,
        );

        r.handler(request_log::RETENTION_JOB, request_log::retention_job);
        r.schedule(
            request_log::RETENTION_JOB,
            request_log::RETENTION_SCHEDULE,
            request_log::RETENTION_JOB,
        );
        r
    }

    /// Registers the handler of `kind`, replacing one registered before.
    ///
    /// # Panics
    /// When `kind` is not a valid job kind: kinds are literals in the code,
    /// and the test that builds [`Registry::builtin`] catches a bad one.
    pub fn handler<F, Fut>(&mut self, kind: &'static str, f: F) -> &mut Registry
    where
        F: Fn(Services, serde_json::Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        if let Err(e) = job_rules::kind(kind) {
            panic!("job handler {kind:?}: {e}");
        }
        let f = Arc::new(f);
        self.handlers.insert(
            kind,
            Arc::new(move |s, p| -> HandlerFuture { Box::pin(f(s, p)) }),
        );
        self
    }

    /// Adds a recurring job (replacing one of the same name).
    ///
    /// # Panics
    /// When `spec` cannot be read: specs here are literals, checked by the
    /// test that builds [`Registry::builtin`]. Use
    /// [`Registry::try_schedule`] for a spec from the configuration.
    pub fn schedule(
        &mut self,
        name: &'static str,
        spec: &str,
        kind: &'static str,
    ) -> &mut Registry {
        if let Err(e) = self.try_schedule(name, spec, kind) {
            panic!("job schedule {name:?}: {e}");
        }
        self
    }

    /// Adds a recurring job, or says why the spec cannot be read.
    pub fn try_schedule(
        &mut self,
        name: &'static str,
        spec: &str,
        kind: &'static str,
    ) -> Result<&mut Registry, ScheduleError> {
        let spec = ScheduleSpec::parse(spec)?;
        self.schedules.retain(|s| s.name != name);
        self.schedules.push(Schedule { name, spec, kind });
        Ok(self)
    }

    /// Removes the recurring job `name` (tests, and a rule turned off).
    pub fn unschedule(&mut self, name: &str) -> &mut Registry {
        self.schedules.retain(|s| s.name != name);
        self
    }

    /// Checks that every schedule enqueues a kind that has a handler.
    pub fn check(&self) -> Result<(), String> {
        for s in &self.schedules {
            if !self.handlers.contains_key(s.kind) {
                return Err(format!(
                    "job schedule {:?} enqueues {:?}, which has no handler",
                    s.name, s.kind
                ));
            }
        }
        Ok(())
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.handlers.contains_key(kind)
    }

    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    pub(crate) fn get(&self, kind: &str) -> Option<Handler> {
        self.handlers.get(kind).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ok(_: Services, _: serde_json::Value) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn builtin_registry_is_consistent() {
        let r = Registry::builtin();
        r.check().unwrap();
        for kind in [
            "diagnostics.sleep",
            "retention.sessions",
            "retention.login_attempts",
            "retention.audit_events",
        ] {
            assert!(r.knows(kind), "{kind}");
        }
        assert!(r.schedules().len() >= 4);
    }

    #[test]
    fn schedules_need_handlers_and_readable_specs() {
        let mut r = Registry::new();
        r.schedule("x", "every 5m", "x.run");
        assert!(r.check().unwrap_err().contains("\"x.run\""));
        r.handler("x.run", ok);
        r.check().unwrap();
        let e = r.try_schedule("y", "sometimes", "x.run").err().unwrap();
        assert!(e.to_string().contains("sometimes"), "{e}");
        r.schedule("x", "daily 01:00", "x.run");
        assert_eq!(r.schedules().len(), 1, "same name replaces");
        r.unschedule("x");
        assert!(r.schedules().is_empty());
    }
}
