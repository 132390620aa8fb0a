// Package systemtest holds the tests that run the API and the worker
// together against a real redis-server: the whole submit-to-result path, the
// kill -9 redelivery, retries, Redis restarts and outages. It has no
// non-test code.
package systemtest
