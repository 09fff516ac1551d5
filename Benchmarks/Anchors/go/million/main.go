// The Go anchor of `make bench-million`: 1,000,000 goroutines alive at once, each blocked in a
// 1-byte read on a socket, then all released, under GOMAXPROCS (the script sets 2). The same
// program as ours (Benchmarks/Million): 1,000 AF_UNIX stream socket pairs, each reading end
// wrapped by net.FileConn (so that reads wait in the netpoller) and shared by 1,000
// goroutines; the release writes 1,000 bytes into each pair. Prints go_million_spawn_s,
// go_million_rss_per_coroutine_bytes and go_million_release_s, measured as ours are.
package main

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	tasks = 1_000_000
	pairs = 1_000
)

// residentBytes is the process's resident memory (/proc/self/statm's second field, in pages).
func residentBytes() int64 {
	var size, resident int64
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fmt.Sscan(string(data), &size, &resident)
	return resident * int64(os.Getpagesize())
}

func die(what string, err error) {
	fmt.Fprintln(os.Stderr, "million_go:", what, err)
	os.Exit(1)
}

func waitFor(what string, condition func() bool) {
	deadline := time.Now().Add(10 * time.Minute)
	for !condition() {
		if time.Now().After(deadline) {
			die("timed out waiting for "+what, nil)
		}
		time.Sleep(time.Millisecond)
	}
}

func main() {
	readers := make([]net.Conn, pairs)
	writers := make([]int, pairs)
	for i := range readers {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			die("socketpair", err)
		}
		file := os.NewFile(uintptr(fds[0]), "reader")
		conn, err := net.FileConn(file)
		if err != nil {
			die("FileConn", err)
		}
		file.Close() // FileConn holds a duplicate
		readers[i] = conn
		writers[i] = fds[1]
	}

	var blocked, received int64
	baseline := residentBytes()
	spawnStart := time.Now()
	for i := 0; i < tasks; i++ {
		conn := readers[i%pairs]
		go func() {
			var buffer [1]byte
			atomic.AddInt64(&blocked, 1)
			if n, _ := conn.Read(buffer[:]); n == 1 {
				atomic.AddInt64(&received, 1)
			}
		}()
	}
	waitFor("every goroutine to block", func() bool { return atomic.LoadInt64(&blocked) == tasks })
	spawnSeconds := time.Since(spawnStart).Seconds()
	time.Sleep(200 * time.Millisecond)
	perCoroutine := float64(residentBytes()-baseline) / tasks
	if atomic.LoadInt64(&received) != 0 {
		die("a read returned before the release", nil)
	}

	releaseStart := time.Now()
	bytes := make([]byte, tasks/pairs)
	for _, fd := range writers {
		if n, err := syscall.Write(fd, bytes); err != nil || n != len(bytes) {
			die("write", err)
		}
	}
	waitFor("every goroutine to read its byte", func() bool { return atomic.LoadInt64(&received) == tasks })
	releaseSeconds := time.Since(releaseStart).Seconds()

	fmt.Printf("go_million_spawn_s=%.3f\n", spawnSeconds)
	fmt.Printf("go_million_rss_per_coroutine_bytes=%.0f\n", perCoroutine)
	fmt.Printf("go_million_release_s=%.3f\n", releaseSeconds)
}
