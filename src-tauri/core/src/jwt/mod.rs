//! The JWT engine: strict parsing, inspection, lint, step-by-step verification
//! and signing. Needs no vault for file keys.
