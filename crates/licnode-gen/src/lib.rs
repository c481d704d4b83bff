//! Generator of realistic licensing data for tests, benchmarks and the demo.
