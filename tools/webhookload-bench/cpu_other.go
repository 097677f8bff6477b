//go:build !unix

package main

import "time"

// cpuTime returns 0: the CPU column reads "n/a" where getrusage is missing.
func cpuTime() time.Duration { return 0 }
