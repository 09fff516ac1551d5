// Go anchor benchmarks, compared side by side with the Swift coroutine runtime.
// Standard library only. GOMAXPROCS comes from the environment (the caller sets it).
// Prints exactly six name=value lines on stdout:
//
//	go_spawn_join_ns  median ns per task: spawn 1,000,000 trivial goroutines, wait for all
//	go_gosched_alone_ns  median ns per runtime.Gosched() with no other runnable goroutine
//	go_switched_gosched_ns  median ns per runtime.Gosched() of two goroutines that yield to
//	                  each other under GOMAXPROCS=1: each call switches
//	go_skynet_ms      median ms for skynet (size 1,000,000, div 10)
//	go_channel_pingpong_ns  median ns per round trip of a number between two goroutines
//	                  over two unbuffered channels
//	go_channel_pingpong_1t_ns  the same under GOMAXPROCS=1
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

const (
	samples      = 5
	spawnTasks   = 1_000_000
	goschedIters = 5_000_000
	skynetSize   = 1_000_000
	skynetDiv    = 10
	skynetSum    = 499999500000
	pingPongs    = 200_000
)

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spawnJoin spawns n trivial goroutines (each adds to a shared counter), waits for all
// of them, and returns the elapsed time per task in ns.
func spawnJoin(n int) float64 {
	var counter int64
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&counter, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if atomic.LoadInt64(&counter) != int64(n) {
		fmt.Fprintf(os.Stderr, "spawn_join: counter %d != %d\n", counter, n)
		os.Exit(1)
	}
	return float64(elapsed.Nanoseconds()) / float64(n)
}

// gosched runs n runtime.Gosched() calls on one goroutine while nothing else is runnable
// and returns ns per call.
func gosched(n int) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		runtime.Gosched()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// switchedGosched runs two goroutines that each call runtime.Gosched() n times under
// GOMAXPROCS=1, so that every call hands the thread to the other, and returns ns per call.
func switchedGosched(n int) float64 {
	previous := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(previous)
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(start).Nanoseconds()) / float64(2*n)
}

// onOneThread runs `run` under GOMAXPROCS=1.
func onOneThread(run func() float64) func() float64 {
	return func() float64 {
		previous := runtime.GOMAXPROCS(1)
		defer runtime.GOMAXPROCS(previous)
		return run()
	}
}

// skynet: each node spawns div children until size reaches 1; a leaf returns its ordinal,
// a parent sums its children's results received over a channel.
func skynet(c chan<- int64, num, size, div int64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int64, div)
	childSize := size / div
	for i := int64(0); i < div; i++ {
		go skynet(rc, num+i*childSize, childSize, div)
	}
	var sum int64
	for i := int64(0); i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

// skynetRun returns elapsed ms for one full skynet run, checking the sum.
func skynetRun() float64 {
	c := make(chan int64, 1)
	start := time.Now()
	go skynet(c, 0, skynetSize, skynetDiv)
	sum := <-c
	elapsed := time.Since(start)
	if sum != skynetSum {
		fmt.Fprintf(os.Stderr, "skynet: sum %d != %d\n", sum, int64(skynetSum))
		os.Exit(1)
	}
	return float64(elapsed.Nanoseconds()) / 1e6
}

// pingPong passes a number back and forth n times between two goroutines over unbuffered
// channels and returns ns per round trip.
func pingPong(n int) float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	start := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	elapsed := time.Since(start)
	close(ping)
	if v != n {
		fmt.Fprintf(os.Stderr, "ping-pong: ended at %d != %d\n", v, n)
		os.Exit(1)
	}
	return float64(elapsed.Nanoseconds()) / float64(n)
}

// measure runs one warm-up then `samples` timed runs (a GC before each, so garbage from
// the previous run is not collected inside the timed region) and returns the median.
func measure(run func() float64) float64 {
	runtime.GC()
	run() // warm-up
	xs := make([]float64, 0, samples)
	for i := 0; i < samples; i++ {
		runtime.GC()
		xs = append(xs, run())
	}
	return median(xs)
}

func main() {
	spawn := measure(func() float64 { return spawnJoin(spawnTasks) })
	yield := measure(func() float64 { return gosched(goschedIters) })
	switched := measure(func() float64 { return switchedGosched(goschedIters / 2) })
	sky := measure(skynetRun)
	pp := measure(func() float64 { return pingPong(pingPongs) })
	pp1 := measure(onOneThread(func() float64 { return pingPong(pingPongs) }))
	fmt.Printf("go_spawn_join_ns=%.2f\n", spawn)
	fmt.Printf("go_gosched_alone_ns=%.2f\n", yield)
	fmt.Printf("go_switched_gosched_ns=%.2f\n", switched)
	fmt.Printf("go_skynet_ms=%.2f\n", sky)
	fmt.Printf("go_channel_pingpong_ns=%.2f\n", pp)
	fmt.Printf("go_channel_pingpong_1t_ns=%.2f\n", pp1)
}
