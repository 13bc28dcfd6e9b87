//! Mapping over a slice in parallel where the `parallel` feature (rayon) is
//! on, in order on one thread otherwise: the same results either way.

/// `items.iter().map(f).collect()`, in parallel with the `parallel` feature.
#[cfg(feature = "parallel")]
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

/// Like [`map`], each worker with its own scratch value made by `init`.
#[cfg(feature = "parallel")]
pub(crate) fn map_with<T: Sync, S, U: Send>(
    items: &[T],
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, &T) -> U + Sync + Send,
) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().map_init(init, f).collect()
}

#[cfg(not(feature = "parallel"))]
pub(crate) fn map<T, U>(items: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

#[cfg(not(feature = "parallel"))]
pub(crate) fn map_with<T, S, U>(
    items: &[T],
    init: impl Fn() -> S,
    f: impl Fn(&mut S, &T) -> U,
) -> Vec<U> {
    let mut scratch = init();
    items.iter().map(|item| f(&mut scratch, item)).collect()
}
