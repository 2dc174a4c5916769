//! gan
