package service

import "time"

// patience bounds every wait in these tests. It is a ceiling for a test
// that is stuck, never a performance requirement (those are benchmarks):
// the tests wait on events and finish as soon as they happen, however
// loaded the machine.
const patience = 2 * time.Minute
