//! Handler tests of the dashboard.
