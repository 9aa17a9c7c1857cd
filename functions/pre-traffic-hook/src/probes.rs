//! Running the smoke plan against the numbered target version: probes concurrently with a
//! bound, retries with backoff, every invoke bounded by the hook's deadline.

use std::time::{Duration, Instant};

use futures::StreamExt;
use guardian::hook::plan::{Probe, SmokePlan};
use guardian::hook::probe::{self, Answered, Attempt, ProbeReport};
use guardian_aws::deadline::{DEADLINE_REACHED, Deadline};
use guardian_aws::lambda::Lambda;

/// Probes stop this much earlier than the hook's own margin, so their rows (with the
/// timed-out one among them) still make it into the verdict.
const PROBE_HEADROOM: Duration = Duration::from_millis(250);

/// Where to send the probes.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub function: &'a str,
    pub version: &'a str,
}

/// The probe table, in plan order.
pub async fn run_plan(
    lambda: &Lambda,
    plan: &SmokePlan,
    target: Target<'_>,
    concurrency: usize,
    deadline: Deadline,
    margin: Duration,
) -> Vec<ProbeReport> {
    let margin = margin + PROBE_HEADROOM;
    futures::stream::iter(&plan.probes)
        .map(|p| run_probe(lambda, p, target, deadline, margin))
        .buffered(concurrency.max(1))
        .collect()
        .await
}

async fn run_probe(
    lambda: &Lambda,
    probe: &Probe,
    target: Target<'_>,
    deadline: Deadline,
    margin: Duration,
) -> ProbeReport {
    // Serialising a JSON value cannot fail; an empty payload would only fail the probe.
    let payload = serde_json::to_vec(&probe.payload).unwrap_or_default();
    let mut attempts = 0;
    // A throttle is "target busy" (its reserved concurrency is taken, e.g. by a scheduled
    // run): waited out until the hook must report, without spending the probe's retries.
    let (mut throttles, busy_since) = (0u32, Instant::now());
    loop {
        attempts += 1;
        let started = Instant::now();
        let invoke = lambda.invoke(target.function, Some(target.version), &payload);
        let (attempt, out_of_time): (Attempt, bool) = match deadline
            .call(margin, "Invoke", invoke)
            .await
        {
            Ok(outcome) => (
                Ok(Answered {
                    outcome,
                    latency: started.elapsed(),
                }),
                false,
            ),
            Err(e) if e.is_code(DEADLINE_REACHED) => (
                Err(format!(
                    "no answer after {} ms: gave up {} ms before the hook's deadline",
                    started.elapsed().as_millis(),
                    margin.as_millis()
                )),
                true,
            ),
            Err(e) if e.is_code("TooManyRequestsException") => {
                throttles += 1;
                let wait = probe::busy_backoff(throttles);
                if deadline.remaining_before(margin) > wait {
                    tracing::info!(probe = %probe.name, throttles, "target busy (throttled), waiting");
                    tokio::time::sleep(wait).await;
                    attempts -= 1;
                    continue;
                }
                let why = probe::busy_failure(busy_since.elapsed(), throttles);
                return probe::report(probe, attempts, &Err(why.clone()), vec![why]);
            }
            Err(e) => (Err(e.to_string()), false),
        };
        let failures = probe::failures(probe, target.version, &attempt);
        let wait = probe::backoff_before(probe, attempts);
        let retry = !failures.is_empty()
            && !out_of_time
            && attempts <= probe.retries
            && deadline.remaining_before(margin) > wait;
        if !retry {
            return probe::report(probe, attempts, &attempt, failures);
        }
        // Failures may quote the guarded function's answer: never log it in full.
        let why = guardian::preview::preview(&failures.join("; "), 300);
        tracing::info!(probe = %probe.name, attempt = attempts, "probe failed, retrying: {why}");
        tokio::time::sleep(wait).await;
    }
}
