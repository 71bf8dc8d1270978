//! Error collection shared by the macros.
