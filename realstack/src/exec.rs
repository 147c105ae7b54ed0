//! One execution of one case, and its judgement.
//!
//! The body that shuttle runs: a fresh [`World`](crate::world::World), the case's client under
//! `shuttle::future::block_on`, then (outside any task, after the main future returned) the
//! wire decoded and every request classified. The judgement goes into the exploration's
//! [`Aggregate`]; a violation stops the exploration at this execution.

use crate::glue::{LogicalTimer, Spawner};
use crate::io::WireIo;
use crate::outcome::{classify, Disposition, Ending, Facts, OutcomeClass};
use crate::scenario::{Case, RequestSpec};
use crate::wire::{self, WireRow};
use crate::world::{RequestState, Shared, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What every task of one execution shares.
pub struct Cx {
    /// The ghost state.
    pub world: Shared,
    /// hyper's executor (and ours, for anything spawned from inside library calls).
    pub spawner: Spawner,
    /// Logical time.
    pub timer: LogicalTimer,
    /// The case being run.
    pub case: Arc<Case>,
}

impl Cx {
    /// Open an in-memory connection to `host`: spawn its scripted server (through the
    /// deferred queue, since hyper-util may call this under its pool lock) and return the
    /// recording client end.
    pub fn connect(self: &Arc<Self>, host: &str) -> WireIo {
        let (client, server) = tokio::io::duplex(self.case.wiring.duplex_capacity);
        let (conn, nth) = self.world.add_conn(host);
        let script = self.case.server(host).clone();
        self.spawner
            .spawn(crate::server::serve(server, script, nth, self.clone()));
        WireIo::new(client, conn, self.world.clone())
    }
}

/// How one request of a reported execution ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    /// Request name.
    pub name: String,
    /// Its host.
    pub host: String,
    /// Its outcome class.
    pub class: String,
    /// The response status or the error chain.
    pub ending: String,
    /// Times the server's handler accepted it.
    pub processed: u32,
    /// HEADERS frames that carried it.
    pub attempts: u32,
}

/// One failing execution.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The property (or forbidden class) that failed.
    pub verdict: String,
    /// What happened, in words.
    pub detail: String,
}

/// What an exploration has seen so far.
#[derive(Default)]
pub struct Aggregate {
    /// Executions judged.
    pub executions: u64,
    /// Requests per outcome class.
    pub counts: BTreeMap<OutcomeClass, u64>,
    /// Running digest of every byte on every wire.
    pub digest: u64,
    /// The first violation, with its execution's requests and wire.
    pub violation: Option<Violation>,
    /// The requests of the last judged (or the violating) execution.
    pub requests: Vec<RequestRow>,
    /// The wire of the last judged (or the violating) execution.
    pub rows: Vec<WireRow>,
    /// Executions in which some host got more than one connection (a replacement).
    pub replaced: u64,
}

/// The world of the execution in progress, for the explorer when shuttle aborts it.
pub type CurrentWorld = Arc<Mutex<Option<Shared>>>;

/// Run one execution (inside shuttle) and judge it into `agg`; `true` when it violated.
pub fn execute_once(
    case: &Arc<Case>,
    invariants: &[String],
    agg: &Mutex<Aggregate>,
    current: &CurrentWorld,
) -> bool {
    let world = Shared::new(case.requests.iter().map(|r| r.name.clone()));
    *current.lock().unwrap_or_else(|p| p.into_inner()) = Some(world.clone());
    let cx = Arc::new(Cx {
        world: world.clone(),
        spawner: if case.wiring.direct_spawn {
            Spawner::direct()
        } else {
            Spawner::default()
        },
        timer: LogicalTimer::default(),
        case: case.clone(),
    });
    shuttle::future::block_on(crate::client::main(cx));
    let mut agg = agg.lock().unwrap_or_else(|p| p.into_inner());
    let w = world.lock();
    judge(case, invariants, &w, &mut agg, None)
}

/// Judge the execution recorded in `world`; `hang` says shuttle stopped it as deadlocked.
pub fn judge(
    case: &Case,
    invariants: &[String],
    w: &World,
    agg: &mut Aggregate,
    hang: Option<String>,
) -> bool {
    let decoded = wire::decode(&w.chunks, &w.conns);
    count_execution(w, agg);
    let checked = |p: &str| invariants.iter().any(|i| i == p);
    let mut violation: Option<Violation> = decoded
        .violations
        .iter()
        .find(|v| checked(v.property))
        .map(|v| Violation {
            verdict: v.property.to_owned(),
            detail: v.message.clone(),
        });
    let mut requests = Vec::new();
    for (spec, state) in case.requests.iter().zip(&w.requests) {
        let attempts = decoded.attempts.get(&spec.name).copied().unwrap_or(0);
        let (class, row) = request_row(case, spec, state, attempts);
        *agg.counts.entry(class).or_default() += 1;
        if violation.is_none() {
            violation = request_violation(case, &spec.name, class, state.processed, &hang);
        }
        requests.push(row);
    }
    agg.requests = requests;
    agg.rows = decoded.rows;
    let failed = violation.is_some();
    if failed && agg.violation.is_none() {
        agg.violation = violation;
    }
    failed
}

/// Count the execution, fold its bytes into the digest, and note a replacement connection (a
/// host connected to more than once).
fn count_execution(w: &World, agg: &mut Aggregate) {
    agg.executions += 1;
    let seed = if agg.digest == 0 {
        wire::DIGEST_SEED
    } else {
        agg.digest
    };
    agg.digest = wire::digest(seed, &w.chunks);
    let replaced = w
        .conns
        .iter()
        .enumerate()
        .any(|(i, h)| w.conns[..i].contains(h));
    agg.replaced += u64::from(replaced);
}

/// How one request ended, classified from ground truth.
fn request_row(
    case: &Case,
    spec: &RequestSpec,
    state: &RequestState,
    attempts: u32,
) -> (OutcomeClass, RequestRow) {
    let class = classify(&Facts {
        ending: state.ending.clone(),
        processed: state.processed,
        attempts,
        retry_layer: case.client.has_retry_layer(),
    });
    let row = RequestRow {
        name: spec.name.clone(),
        host: spec.host.clone(),
        class: class.name().to_owned(),
        ending: match &state.ending {
            None => "never ended".to_owned(),
            Some(Ending::Response(s)) => format!("response {s}"),
            Some(Ending::Error { chain, .. }) => format!("error: {chain}"),
        },
        processed: state.processed,
        attempts,
    };
    (class, row)
}

fn request_violation(
    case: &Case,
    name: &str,
    class: OutcomeClass,
    processed: u32,
    hang: &Option<String>,
) -> Option<Violation> {
    if processed > 1 {
        return Some(Violation {
            verdict: "processed-once".into(),
            detail: format!("request {name} was accepted by a server handler {processed} times"),
        });
    }
    if class == OutcomeClass::Hung {
        return Some(Violation {
            verdict: "request-answered".into(),
            detail: format!(
                "request {name} never ended{}",
                hang.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
            ),
        });
    }
    (case.outcomes.get(&class) == Some(&Disposition::Forbidden)).then(|| Violation {
        verdict: class.name().to_owned(),
        detail: format!(
            "request {name} ended as `{class}`, which case `{}` declares forbidden",
            case.name
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// One case of a one-request file, with `failed-after-processing` forbidden.
    fn case() -> Case {
        let text = r#"
version = 1
name = "t"
model = "h2"
description = "d"
[schedulers.random]
seed = 1
iterations = 2
[expect]
upstream = "pass"
[outcomes]
failed-after-processing = "forbidden"
[[cases]]
name = "c"
client = "h2"
[[cases.requests]]
name = "A"
"#;
        let sc = crate::scenario::parse(Path::new("t.toml"), text).expect("a valid file");
        sc.cases[0].clone()
    }

    fn verdict(class: OutcomeClass, processed: u32) -> Option<String> {
        request_violation(&case(), "A", class, processed, &None).map(|v| v.verdict)
    }

    #[test]
    fn each_request_rule_catches_and_passes() {
        assert_eq!(
            verdict(OutcomeClass::Ok, 2).as_deref(),
            Some("processed-once")
        );
        assert_eq!(verdict(OutcomeClass::Ok, 1), None);
        assert_eq!(
            verdict(OutcomeClass::Hung, 0).as_deref(),
            Some("request-answered")
        );
        assert_eq!(
            verdict(OutcomeClass::FailedAfterProcessing, 1).as_deref(),
            Some("failed-after-processing")
        );
        assert_eq!(verdict(OutcomeClass::RefusedRetryable, 0), None);
    }
}
