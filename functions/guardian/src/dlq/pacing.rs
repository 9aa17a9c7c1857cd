//! `rate_per_second`: spacing re-sends evenly so a redrive does not stampede the function.

use std::time::Duration;

use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl Pacer {
    /// `None`: as fast as the batches go.
    pub fn new(rate_per_second: Option<f64>) -> Self {
        Pacer {
            interval: rate_per_second
                .filter(|r| *r > 0.0 && r.is_finite())
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next: None,
        }
    }

    /// Reserves the next slot at or after `now` and returns when it starts (`None`: no
    /// pacing). Each slot is one interval after the previous; idle time is not banked, so a
    /// pause is never followed by a burst.
    pub fn reserve(&mut self, now: Instant) -> Option<Instant> {
        let interval = self.interval?;
        let slot = self.next.map_or(now, |n| n.max(now));
        self.next = Some(slot + interval);
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_interval_apart() {
        let mut p = Pacer::new(Some(4.0));
        let start = Instant::now();
        let slots: Vec<Duration> = (0..4).map(|_| p.reserve(start).unwrap() - start).collect();
        assert_eq!(
            slots,
            [0, 250, 500, 750].map(Duration::from_millis).to_vec()
        );
    }

    #[test]
    fn idle_time_is_not_banked_as_a_burst() {
        let mut p = Pacer::new(Some(10.0));
        let start = Instant::now();
        p.reserve(start);
        let later = start + Duration::from_secs(5);
        assert_eq!(p.reserve(later), Some(later));
        assert_eq!(p.reserve(later), Some(later + Duration::from_millis(100)));
    }

    #[test]
    fn no_rate_means_no_pacing() {
        assert_eq!(Pacer::new(None).reserve(Instant::now()), None);
    }
}
