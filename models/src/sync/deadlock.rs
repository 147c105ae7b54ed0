//! Deadlocks: when every live actor is blocked, and the `request-answered` violation that says
//! who waits for what.

use super::record::{ActorId, Ghost, Violation, WaitFor};

/// The headline of a deadlock the facade saw itself (shuttle's schedulers and `dpor`): every
/// live actor blocked on a facade lock, condition, permit or join.
pub const FACADE_DEADLOCK: &str = "deadlock: every actor is blocked on a facade primitive";

/// The headline of a deadlock a scheduler reported (loom's own detector, or shuttle's for a
/// block the facade did not see).
pub const SCHEDULER_DEADLOCK: &str = "deadlock reported by the scheduler: every actor is blocked";

/// Would `me` blocking (or ending) now leave no actor able to run? Every other actor has finished, is
/// `stuck` (parked by the facade, or waiting to attempt an operation that cannot complete), or
/// joins an actor that has not finished.
pub(crate) fn all_blocked(g: &Ghost, stuck: impl Fn(ActorId) -> bool, me: ActorId) -> bool {
    g.actors.iter().enumerate().all(|(a, info)| {
        a == me
            || info.done
            || stuck(a)
            || matches!(info.waiting, Some(WaitFor::Join(x)) if !g.actors[x].done)
    })
}

/// A `request-answered` violation naming every blocked actor and what it waits for.
pub fn deadlock_violation(ghost: Option<&Ghost>, headline: &str) -> Violation {
    let Some(g) = ghost else {
        return Violation {
            invariant: "request-answered".into(),
            message: headline.to_owned(),
            actor: None,
            seq: 0,
        };
    };
    let blocked: Vec<String> = g
        .actors
        .iter()
        .filter(|a| !a.done)
        .map(|a| {
            format!(
                "{} waits for {}",
                a.name,
                describe_wait(g, a.waiting.as_ref())
            )
        })
        .collect();
    Violation {
        invariant: "request-answered".into(),
        message: format!("{headline}: {}", blocked.join("; ")),
        actor: None,
        seq: g.log.len().saturating_sub(1),
    }
}

fn describe_wait(g: &Ghost, w: Option<&WaitFor>) -> String {
    match w {
        None => "nothing recorded (running, or blocked outside the facade)".into(),
        Some(WaitFor::Lock(l)) => {
            let lock = &g.locks[*l];
            let holder = lock
                .holder
                .map_or("nobody".into(), |h| g.actors[h].name.clone());
            format!("lock {} (held by {holder})", lock.name)
        }
        Some(WaitFor::Condition(c)) => format!("condition `{c}`"),
        Some(WaitFor::Permit(s)) => format!("a permit of {}", g.sems[*s].name),
        Some(WaitFor::Join(a)) => format!("actor {} to finish", g.actors[*a].name),
    }
}
