//! A bounded pool of scoped threads: the one way Strata's crates do independent work on several
//! CPUs at once (reading packages, hashing files, building images).

use std::num::NonZero;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many workers to use for CPU or I/O work when the caller has no limit of its own: one per
/// CPU the process may use.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, NonZero::get)
}

/// Calls `f` on every item, at most `workers` at a time, and returns the results in the order of
/// `items`. Items are taken in order as workers come free, so a slow item never holds back the
/// ones after it. With one worker, or one item, everything runs on the calling thread.
///
/// A panic in `f` panics the caller once every worker has stopped.
pub fn map_bounded<T, R, F>(items: &[T], workers: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else {
                        return;
                    };
                    let result = f(item);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::map_bounded;

    #[test]
    fn results_come_back_in_the_order_of_the_items_whatever_finishes_first() {
        let items: Vec<u64> = (0..20).collect();
        // Early items are the slowest, so they finish last.
        let out = map_bounded(&items, 4, |n| {
            std::thread::sleep(Duration::from_millis(20 - n));
            n * 10
        });
        assert_eq!(out, items.iter().map(|n| n * 10).collect::<Vec<_>>());
    }

    #[test]
    fn no_more_than_the_given_number_of_workers_run_at_once() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let items = [(); 12];
        map_bounded(&items, 3, |()| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(10));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        // Twelve 10 ms sleeps on three workers overlap: more than one, never more than three.
        assert!((2..=3).contains(&most.load(Ordering::SeqCst)), "{most:?}");
    }

    #[test]
    fn one_worker_runs_on_the_calling_thread_and_no_items_is_no_work() {
        let caller = std::thread::current().id();
        let same = map_bounded(&[1, 2], 1, |_| std::thread::current().id() == caller);
        assert_eq!(same, [true, true]);
        let none: Vec<u8> = map_bounded(&[] as &[u8], 8, |b| *b);
        assert!(none.is_empty());
    }
}
