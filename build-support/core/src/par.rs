//! Mapping over a slice in parallel where the `parallel` feature (rayon) is
//! on, in order on one thread otherwise: the same results either way.

/// `items.iter().map(f).collect()`, in parallel with the `parallel` feature.
#[cfg(feature = "parallel")]
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

#[cfg(not(feature = "parallel"))]
pub(crate) fn map<T, U>(items: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}
