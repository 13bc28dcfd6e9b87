//! Implementation detail of `shipwright-runtime`.
