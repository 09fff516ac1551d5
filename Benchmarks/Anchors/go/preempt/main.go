// Go's anchor for the preemption figures: how long a goroutine that spins with no call in
// its loop keeps the only P (GOMAXPROCS=1) before a ready goroutine gets to run.
//
// Each sample: the measuring goroutine starts a spinner and yields to it (runtime.Gosched);
// the spinner records when it took the thread and spins on its own flag; the measuring
// goroutine runs again only once the runtime preempts the spinner, records the gap, clears
// the flag and waits for the spinner to end. Prints two name=value lines:
//
//	go_preempt_latency_p99_ms  the 99th percentile of the gaps over the samples
//	go_preempt_latency_p50_ms  their median
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

func main() {
	samples := flag.Int("samples", 200, "preemptions to measure")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	origin := time.Now()
	gaps := make([]float64, 0, *samples)
	for len(gaps) < *samples {
		var spinning atomic.Bool
		var tookThread atomic.Int64
		done := make(chan struct{})
		spinning.Store(true)
		go func() {
			tookThread.Store(int64(time.Since(origin)))
			for spinning.Load() {
			}
			close(done)
		}()
		runtime.Gosched()
		ranAgain := int64(time.Since(origin))
		spinning.Store(false)
		<-done
		if took := tookThread.Load(); took != 0 {
			gaps = append(gaps, float64(ranAgain-took)/1e6)
		}
	}
	sort.Float64s(gaps)
	fmt.Printf("go_preempt_latency_p99_ms=%.2f\n", gaps[(len(gaps)*99+99)/100-1])
	fmt.Printf("go_preempt_latency_p50_ms=%.2f\n", gaps[len(gaps)/2])
}
