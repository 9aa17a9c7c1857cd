//! One invocation, as every function runs it: it starts with Lambda's request id, a clock and
//! the deadline read from the context; a function whose work notes what it got to is then
//! recorded (decision line, metrics) once the work is done, whatever it returned.

use std::time::Instant;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

use crate::deadline::Deadline;

/// What every invocation starts with.
#[derive(Debug, Clone, Copy)]
pub struct Started<'a> {
    pub request_id: &'a str,
    /// When the handler started, for the decision line's duration.
    pub at: Instant,
    /// When Lambda ends the invocation.
    pub deadline: Deadline,
}

impl<'a> Started<'a> {
    pub fn now(context: &'a Context) -> Self {
        Started {
            request_id: &context.request_id,
            at: Instant::now(),
            deadline: Deadline::from_context(context),
        }
    }
}

/// Runs one invocation of a handler in two halves: `handle`, the work (on `app`, bounded by
/// the deadline it is given), which notes what it got to in `observed` as it goes, then
/// `record`, the decision line and metrics of what it got to, whatever the work returned.
/// Returns the work's result.
pub async fn invocation<A, O, E>(
    app: &A,
    event: LambdaEvent<Value>,
    handle: impl AsyncFnOnce(&A, &Value, Deadline, &mut O) -> Result<Value, E>,
    record: fn(&str, Instant, &O, &Result<Value, E>),
) -> Result<Value, E>
where
    O: Default,
{
    let started = Started::now(&event.context);
    let mut observed = O::default();
    // Boxed: the nested async state machines are otherwise too deep for the compiler's
    // layout query.
    let result = Box::pin(handle(app, &event.payload, started.deadline, &mut observed)).await;
    record(started.request_id, started.at, &observed, &result);
    result
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    /// The steps the work got to.
    #[derive(Debug, Default, Clone, PartialEq)]
    struct Steps(Vec<&'static str>);

    /// Every record made: (request id, steps, whether the work succeeded).
    static RECORDED: Mutex<Vec<(String, Steps, bool)>> = Mutex::new(Vec::new());

    fn record(request_id: &str, _: Instant, steps: &Steps, result: &Result<Value, String>) {
        let entry = (request_id.to_string(), steps.clone(), result.is_ok());
        RECORDED.lock().unwrap().push(entry);
    }

    /// Echoes its payload while time is left, noting each step.
    async fn echo(
        _app: &(),
        payload: &Value,
        deadline: Deadline,
        steps: &mut Steps,
    ) -> Result<Value, String> {
        steps.0.push("parsed");
        if deadline.remaining() < Duration::from_secs(1) {
            return Err("no time".into());
        }
        steps.0.push("done");
        Ok(payload.clone())
    }

    fn event(request_id: &str, budget: Duration) -> LambdaEvent<Value> {
        let mut context = Context::default();
        context.request_id = request_id.into();
        let deadline = (SystemTime::now() + budget)
            .duration_since(UNIX_EPOCH)
            .unwrap();
        context.deadline = deadline.as_millis() as u64;
        LambdaEvent::new(json!({"n": 1}), context)
    }

    #[tokio::test]
    async fn the_work_gets_the_deadline_and_what_it_got_to_is_recorded_either_way() {
        let ok = invocation(&(), event("req-ok", Duration::from_secs(30)), echo, record).await;
        let late = invocation(&(), event("req-late", Duration::ZERO), echo, record).await;

        assert_eq!(ok, Ok(json!({"n": 1})));
        assert_eq!(late, Err("no time".to_string()));
        let recorded = RECORDED.lock().unwrap().clone();
        let of = |id: &str| recorded.iter().find(|r| r.0 == id).cloned();
        assert_eq!(
            of("req-ok"),
            Some(("req-ok".into(), Steps(vec!["parsed", "done"]), true))
        );
        assert_eq!(
            of("req-late"),
            Some(("req-late".into(), Steps(vec!["parsed"]), false))
        );
    }
}
