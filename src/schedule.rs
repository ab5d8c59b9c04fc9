//! The one rule for how many files convert at once: a file starts while there is a free
//! slot and its estimated peak memory fits the budget beside the files already running;
//! a file alone always starts, however large its estimate, so no batch can stall. The CLI's
//! `run_batch` and the page's threaded engine both admit files by this rule.

use std::collections::VecDeque;

/// Files in flight at once, and the memory their estimates may add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    pub max_files: usize,
    pub memory_budget: u64,
}

impl Admission {
    /// The page's threaded engine: every thread of the pool busy, within 1 GiB. A wasm32
    /// instance can address 4 GiB at most, and its memory never shrinks, so the budget
    /// leaves room for the outputs waiting to be sent to the page and for fragmentation.
    pub fn browser(threads: usize) -> Self {
        Admission {
            max_files: threads.max(1),
            memory_budget: 1 << 30,
        }
    }
}

/// What is running now, by count and by estimated memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    pub files: usize,
    pub memory: u64,
}

impl InFlight {
    pub fn has_slot(&self, rule: &Admission) -> bool {
        self.files < rule.max_files.max(1)
    }

    /// Whether a file with this estimate may start now.
    pub fn admits(&self, rule: &Admission, estimate: u64) -> bool {
        self.has_slot(rule)
            && (self.files == 0 || self.memory.saturating_add(estimate) <= rule.memory_budget)
    }

    pub fn start(&mut self, estimate: u64) {
        self.files += 1;
        self.memory += estimate;
    }

    pub fn end(&mut self, estimate: u64) {
        self.files -= 1;
        self.memory -= estimate;
    }
}

/// Files waiting their turn, in order, for callers that hold them all at once (the page's
/// worker has every job's bytes when it queues it). A file never overtakes an earlier one,
/// so a large photo is not starved by small ones behind it.
#[derive(Debug)]
pub struct Scheduler<T> {
    rule: Admission,
    in_flight: InFlight,
    waiting: VecDeque<(u64, T)>,
}

impl<T> Scheduler<T> {
    pub fn new(rule: Admission) -> Self {
        Scheduler {
            rule,
            in_flight: InFlight::default(),
            waiting: VecDeque::new(),
        }
    }

    /// Queues a file with its estimate (capped at the budget: a file alone may use it all).
    pub fn push(&mut self, estimate: u64, item: T) {
        self.waiting
            .push_back((estimate.min(self.rule.memory_budget), item));
    }

    /// The files that may start now, each with the estimate to give back to [`Self::end`].
    pub fn admitted(&mut self) -> Vec<(u64, T)> {
        let mut started = Vec::new();
        while let Some(&(estimate, _)) = self.waiting.front() {
            if !self.in_flight.admits(&self.rule, estimate) {
                break;
            }
            self.in_flight.start(estimate);
            started.extend(self.waiting.pop_front());
        }
        started
    }

    /// A file admitted with `estimate` has finished.
    pub fn end(&mut self, estimate: u64) {
        self.in_flight.end(estimate);
    }

    pub fn in_flight(&self) -> InFlight {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn rule() -> Admission {
        Admission {
            max_files: 2,
            memory_budget: 100 * MIB,
        }
    }

    fn ids(started: Vec<(u64, char)>) -> String {
        started.into_iter().map(|(_, id)| id).collect()
    }

    #[test]
    fn files_start_while_their_estimates_fit_the_budget_together() {
        let mut scheduler = Scheduler::new(rule());
        scheduler.push(60 * MIB, 'a');
        scheduler.push(60 * MIB, 'b');
        assert_eq!(
            ids(scheduler.admitted()),
            "a",
            "b would pass the budget beside a"
        );
        scheduler.end(60 * MIB);
        assert_eq!(ids(scheduler.admitted()), "b");
    }

    #[test]
    fn a_file_larger_than_the_budget_still_runs_alone() {
        let mut scheduler = Scheduler::new(rule());
        scheduler.push(10 * MIB, 'a');
        scheduler.push(500 * MIB, 'b');
        scheduler.push(10 * MIB, 'c');
        assert_eq!(ids(scheduler.admitted()), "a");
        scheduler.end(10 * MIB);
        let started = scheduler.admitted();
        assert_eq!(started, vec![(100 * MIB, 'b')], "capped at the budget");
        assert_eq!(
            ids(scheduler.admitted()),
            "",
            "nothing joins a file using it all"
        );
        scheduler.end(100 * MIB);
        assert_eq!(ids(scheduler.admitted()), "c");
        assert_eq!(
            scheduler.in_flight(),
            InFlight {
                files: 1,
                memory: 10 * MIB
            }
        );
    }

    #[test]
    fn no_more_files_run_than_there_are_slots_and_none_overtakes() {
        let mut scheduler = Scheduler::new(rule());
        for id in ['a', 'b', 'c'] {
            scheduler.push(MIB, id);
        }
        assert_eq!(ids(scheduler.admitted()), "ab");
        scheduler.end(MIB);
        assert_eq!(ids(scheduler.admitted()), "c");
    }

    #[test]
    fn a_small_file_waits_behind_a_large_one_that_does_not_fit_yet() {
        let mut scheduler = Scheduler::new(rule());
        scheduler.push(50 * MIB, 'a');
        scheduler.push(80 * MIB, 'b');
        scheduler.push(MIB, 'c');
        assert_eq!(
            ids(scheduler.admitted()),
            "a",
            "c would fit, but b is first"
        );
        scheduler.end(50 * MIB);
        assert_eq!(ids(scheduler.admitted()), "bc");
    }
}
