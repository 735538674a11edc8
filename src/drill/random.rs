//! The drill's randomness, as a value passed in: a small seeded generator
//! (`SplitMix64`), so the sample is a pure function of its seed in tests and
//! unpredictable in runs (seeded from the process's own random hasher keys
//! and the time). A drill needs an unbiased pick, not cryptographic
//! strength: nobody gains by guessing which files are read back.

use std::hash::{BuildHasher, Hasher};

/// A seeded source of random numbers.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// The same seed, the same numbers.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    /// A seed nobody chose: the standard library's per-process random keys
    /// (from the system), mixed with the time.
    #[must_use]
    pub(crate) fn from_entropy() -> Self {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        Self(hasher.finish())
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0), without modulo bias.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return (x % n) as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_all_of_the_range() {
        let draw = |seed| {
            let mut r = Rng::seeded(seed);
            (0..200).map(|_| r.below(7)).collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
        let seen: std::collections::BTreeSet<usize> = draw(3).into_iter().collect();
        assert_eq!(seen, (0..7).collect());
    }
}
