//! Where an exploration's size comes from: for each object (kind and name), how many races the
//! explored executions had on it and how many backtrack points reversing them added.
//!
//! Every backtrack point is one more execution to run (or a subtree of them), so the objects at
//! the top of the table are those whose sharing makes a scenario big: a lock, condition variable
//! or `Plain` cell many actors touch, or a ghost object many probes write. A race on several
//! objects at once counts for each of them. Objects are named per execution
//! ([`poolcheck_models::sync::StepLog::name_of`]); objects of the same name (one per stream,
//! say, or a `Plain` cell created at the same source line) add up. Deterministic: the counts
//! depend only on the exploration, and rows are sorted by count, then name.

use super::explorer::RaceSeen;
use poolcheck_models::sync::Object;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Races and backtrack points per object, over a whole exploration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaceTally(BTreeMap<String, ObjectRaces>);

/// The races on one object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectRaces {
    /// Races found on it (each reversible race once per execution that ran it new).
    pub races: u64,
    /// Of those, the ones whose reversal added a backtrack point.
    pub backtracks: u64,
}

impl RaceTally {
    /// Count the races of one execution; `name` names an object of that execution.
    pub fn add(&mut self, seen: &[RaceSeen], name: impl Fn(Object) -> String) {
        let mut by_object: BTreeMap<Object, ObjectRaces> = BTreeMap::new();
        for race in seen {
            for &object in &race.objects {
                let o = by_object.entry(object).or_default();
                o.races += 1;
                o.backtracks += u64::from(race.backtracked);
            }
        }
        for (object, counts) in by_object {
            let o = self.0.entry(name(object)).or_default();
            o.races += counts.races;
            o.backtracks += counts.backtracks;
        }
    }

    /// The objects, most backtrack points first (then most races, then by name).
    pub fn rows(&self) -> Vec<(&str, ObjectRaces)> {
        let mut rows: Vec<(&str, ObjectRaces)> =
            self.0.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        rows.sort_by(|a, b| {
            (b.1.backtracks, b.1.races)
                .cmp(&(a.1.backtracks, a.1.races))
                .then(a.0.cmp(b.0))
        });
        rows
    }

    /// No race at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A text table of the first `top` rows (and how many were left out).
    pub fn render(&self, top: usize) -> String {
        let rows = self.rows();
        let mut out = String::from("  backtracks      races  object\n");
        for (name, c) in rows.iter().take(top) {
            writeln!(out, "  {:>10} {:>10}  {name}", c.backtracks, c.races).expect("string");
        }
        if rows.len() > top {
            writeln!(out, "  ... {} more object(s)", rows.len() - top).expect("string");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(objects: &[Object], backtracked: bool) -> RaceSeen {
        RaceSeen {
            objects: objects.to_vec(),
            backtracked,
        }
    }

    #[test]
    fn counts_add_up_by_name_and_sort_by_backtracks() {
        let mut t = RaceTally::default();
        let name = |o: Object| match o {
            Object::Plain(_) => "plain x".to_owned(),
            other => format!("{other:?}"),
        };
        t.add(
            &[
                seen(&[Object::Clock], true),
                seen(&[Object::Plain(1), Object::Clock], false),
                seen(&[Object::Plain(2)], true),
                seen(&[Object::Plain(2)], true),
            ],
            name,
        );
        let rows = t.rows();
        assert_eq!(
            rows[0],
            (
                "plain x",
                ObjectRaces {
                    races: 3,
                    backtracks: 2
                }
            )
        );
        assert_eq!(
            rows[1],
            (
                "Clock",
                ObjectRaces {
                    races: 2,
                    backtracks: 1
                }
            )
        );
        assert!(t.render(1).contains("1 more object"));
    }
}
