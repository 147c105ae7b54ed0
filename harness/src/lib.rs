//! Schedulers, monitors, scenarios and reports for poolcheck.
